"""The strategy a dashboard screen delegates to: the mode's keys, extra rows, reactions to events, and how it quits."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Iterator

from textual.binding import Binding
from textual.widget import Widget

from engine.store.history import History

if TYPE_CHECKING:
    from tui.screens.dashboard_screen import DashboardScreen


class DashboardMode:
    """A read-only view of a run: no keys of its own; quitting leaves at once. Modes override what differs."""

    BINDINGS: ClassVar[list[Binding]] = []
    badge: str | None = None
    can_apply_remedy = False
    screen: "DashboardScreen"

    def attach(self, screen: "DashboardScreen") -> None:
        """Called once by the screen this mode belongs to."""
        self.screen = screen

    @property
    def history(self) -> History:
        """The screen's history (a trainer process that answers replaces it)."""
        return self.screen.history

    def compose_extra(self) -> Iterator[Widget]:
        """Extra rows the mode adds above the event log."""
        return iter(())

    def mounted(self) -> None:
        """The screen is on: start what the mode needs."""

    def unmounted(self) -> None:
        """The screen is gone."""

    def after_event(self, event) -> None:
        """React to one event just folded into the history."""

    def source_said(self, message) -> None:
        """A message from the event source other than events (a closed socket, a trainer that answered)."""

    def view(self, history: History) -> History:
        """The history to draw."""
        return history

    def redrawn(self) -> None:
        """The screen has just drawn: update the mode's own rows and keys."""

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Whether a key works now (None: shown dimmed)."""
        return True

    def quit(self) -> None:
        """`q`: leave this screen's app (a read-only view has nothing to ask)."""
        self.screen.app.exit()

    def sigterm(self) -> None:
        """SIGTERM to the UI: leave (exit status 143)."""
        self.screen.app.exit_code = 143
        self.screen.app.exit(143)
