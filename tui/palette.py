"""The command palette and the help screen, both built from the bindings the footer shows, so they never drift."""

from __future__ import annotations

from functools import partial
from typing import Iterable, Iterator

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode


def keys_of(app: App, binding: Binding) -> str:
    """'space/p', '=/+', '?': every key of a binding as the footer would write it."""
    return "/".join(app.get_key_display(Binding(key, binding.action)) for key in binding.key.split(","))


def title_of(binding: Binding) -> str:
    """The long description (the tooltip) where there is one, else the footer's label."""
    return binding.tooltip or binding.description or binding.action


def binding_commands(app: App, bindings: Iterable[Binding], target: DOMNode) -> Iterator[SystemCommand]:
    """One palette entry per action, its keys in the help text; pressing enter runs the same action as the key, on
    `target` (the screen whose keys they are)."""
    for binding in bindings:
        if binding.description or binding.tooltip:
            yield SystemCommand(title_of(binding), f"key: {keys_of(app, binding)}",
                                partial(app.run_action, binding.action, target))


def help_lines(app: App, bindings: Iterable[Binding]) -> list[str]:
    """'space/p                Pause or resume' for every binding with a description."""
    return [f"{keys_of(app, b):16} {title_of(b)}" for b in bindings if b.description or b.tooltip]
