"""The health story of a headless run: a line whenever the most severe finding changes, so console.log and
`tail -f` say what the dashboard's status panel says."""

from __future__ import annotations

from engine.events import DeviceStats, EpochEvent, Event, StepEvent
from engine.health import Finding, run_rules
from engine.store.history import History

ALARMS = ("critical", "warning")  # below these a run reads "ok", as in `stockpred-tui runs`


def most_severe(findings: list[Finding]) -> Finding | None:
    """The first critical or warning finding of `run_rules` (most severe first), or None when the run is ok."""
    return next((finding for finding in findings if finding.severity in ALARMS), None)


def verdict_text(epoch: int, finding: Finding | None, before: Finding | None) -> str:
    """'epoch 12 · warning instability: val swings …; remedy lr → 0.0005', or 'epoch 20 · ok (was warning
    instability)' once nothing warns any more."""
    if finding is None:
        was = f" (was {before.severity} {before.rule})" if before is not None else ""
        return f"epoch {epoch} · ok{was}"
    remedy = f"; remedy {finding.suggestion.name} → {finding.suggestion.value:g}" if finding.suggestion else ""
    message = finding.message.removeprefix(f"{finding.rule}: ")  # 'overfitting: val rose …' names its rule already
    return f"epoch {epoch} · {finding.severity} {finding.rule}: {message}{remedy}"


class VerdictLine:
    """Folds a run's events (steps and stats aside: no rule reads them) into a History and judges it at each
    epoch's end."""

    def __init__(self) -> None:
        self.history = History()
        self.said: Finding | None = None

    def after(self, event: Event) -> str | None:
        """The line to print after `event`: at an epoch's end, when the most severe finding is another rule or
        severity than the one last said (a message whose figures moved is no change); else None."""
        if isinstance(event, (StepEvent, DeviceStats)):
            return None
        self.history.apply(event)
        if not isinstance(event, EpochEvent):
            return None
        finding = most_severe(run_rules(self.history))
        if _key(finding) == _key(self.said):
            return None
        before, self.said = self.said, finding
        return verdict_text(event.epoch, finding, before)


def _key(finding: Finding | None) -> tuple[str, str] | None:
    return (finding.severity, finding.rule) if finding is not None else None
