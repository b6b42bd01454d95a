"""What the footer's keys should say in the run's current state: the pause key's word, and whether the remedy key
has anything to apply. Pure functions for an App's check_action and its binding descriptions."""

from __future__ import annotations

import dataclasses

from textual.dom import DOMNode

from engine.health import Finding, top_suggestion
from engine.store.history import History, RunState


def pause_key_label(history: History) -> str:
    """'Resume' while the run is paused, else 'Pause'."""
    return "Resume" if history.state is RunState.PAUSED else "Pause"


def remedy_key_state(findings: list[Finding]) -> bool | None:
    """check_action's answer for the remedy key: True when a remedy is suggested, None (shown dimmed) when not."""
    return True if top_suggestion(findings) is not None else None


def relabel(node: DOMNode, action: str, description: str) -> bool:
    """Give `node`'s bindings of `action` the footer text `description`; True when one changed (then refresh_bindings).

    Textual has no public way to change a binding's description, so the node's own map gets new Binding objects
    under each key (its lists are shared with the class's map: they are replaced, never edited)."""
    keys = node._bindings.key_to_bindings
    changed = False
    for key, bindings in list(keys.items()):
        if any(b.action == action and b.description != description for b in bindings):
            keys[key] = [dataclasses.replace(b, description=description) if b.action == action else b for b in bindings]
            changed = True
    return changed
