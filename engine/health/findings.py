"""What a health rule reports: a finding with evidence and, where known, a remedy as a control."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2, "ok": 3, "n/a": 4}


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


@dataclass
class Finding:
    """One rule's verdict on a history."""

    rule: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    first_epoch: int | None = None
    suggestion: Suggestion | None = None
    source: str = "measured"

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "evidence": self.evidence,
                "first_epoch": self.first_epoch, "source": self.source,
                "suggestion": None if self.suggestion is None else
                {"set": self.suggestion.name, "value": self.suggestion.value, "why": self.suggestion.why}}


def not_evaluated(rule: str, why: str, source: str = "measured") -> Finding:
    """A rule that could not run on this data, said plainly instead of guessed."""
    return Finding(rule, "n/a", f"not evaluated: {why}", source=source)
