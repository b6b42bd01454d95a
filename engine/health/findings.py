"""What a health rule reports: a finding with evidence and, where known, a remedy as a control."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2, "ok": 3, "n/a": 4}
MEASURED = "measured"  # a finding's source: judged on the run's own measurements
GUIDE = "note"  # a finding's source: a rule of the troubleshooting guide (the stored value predates the guide's name)


@dataclass(frozen=True)
class Suggestion:
    """A remedy the dashboard can apply with one key: set knob `name` to `value`."""

    name: str
    value: float
    why: str = ""

    @property
    def label(self) -> str:
        """Short text such as 'set lr 0.002'."""
        return f"set {self.name} {self.value:g}"


@dataclass(kw_only=True)
class Finding:
    """One rule's verdict on a history; built with keywords or with the constructor named after its severity."""

    rule: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    first_epoch: int | None = None
    suggestion: Suggestion | None = None
    source: str = MEASURED

    @classmethod
    def ok(cls, rule: str, message: str, *, evidence: dict | None = None, source: str = MEASURED) -> Finding:
        """Nothing wrong by this rule."""
        return cls(rule=rule, severity="ok", message=message, evidence=evidence or {}, source=source)

    @classmethod
    def info(cls, rule: str, message: str, *, evidence: dict | None = None, epoch: int | None = None,
             source: str = MEASURED) -> Finding:
        """Worth knowing, no alarm; `epoch` is where it began."""
        return cls(rule=rule, severity="info", message=message, evidence=evidence or {}, first_epoch=epoch, source=source)

    @classmethod
    def warning(cls, rule: str, message: str, *, evidence: dict | None = None, epoch: int | None = None,
                remedy: Suggestion | None = None, source: str = MEASURED) -> Finding:
        """Something is wrong; `remedy` is the control that would help, where one is known."""
        return cls(rule=rule, severity="warning", message=message, evidence=evidence or {}, first_epoch=epoch,
                   suggestion=remedy, source=source)

    @classmethod
    def critical(cls, rule: str, message: str, *, evidence: dict | None = None, epoch: int | None = None,
                 remedy: Suggestion | None = None, source: str = MEASURED) -> Finding:
        """The run is failing now; `remedy` as for a warning."""
        return cls(rule=rule, severity="critical", message=message, evidence=evidence or {}, first_epoch=epoch,
                   suggestion=remedy, source=source)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "evidence": self.evidence,
                "first_epoch": self.first_epoch, "source": self.source,
                "suggestion": None if self.suggestion is None else
                {"set": self.suggestion.name, "value": self.suggestion.value, "why": self.suggestion.why}}


def not_evaluated(rule: str, why: str, source: str = MEASURED) -> Finding:
    """A rule that could not run on this data, said plainly instead of guessed."""
    return Finding(rule=rule, severity="n/a", message=f"not evaluated: {why}", source=source)
