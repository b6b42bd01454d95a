"""What the footer's keys should say in the run's current state: the pause key's word, and whether the remedy key
has anything to apply. Pure functions for an App's check_action and its binding descriptions."""

from __future__ import annotations

from engine.health import Finding, top_suggestion
from engine.store.history import History, RunState


def pause_key_label(history: History) -> str:
    """'Resume' while the run is paused, else 'Pause'."""
    return "Resume" if history.state is RunState.PAUSED else "Pause"


def remedy_key_state(findings: list[Finding]) -> bool | None:
    """check_action's answer for the remedy key: True when a remedy is suggested, None (shown dimmed) when not."""
    return True if top_suggestion(findings) is not None else None
