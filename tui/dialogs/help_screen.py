"""Help: every key of the current mode, from the app's own bindings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

DASHBOARD_NOTE = ("esc closes · ctrl+p opens the command palette · tab focuses the status panel or the log, then ↑↓ "
                  "scroll it")


class HelpScreen(ModalScreen[None]):
    """Lists the bindings that are active in this mode."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 70; height: 80%; border: thick $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, lines: list[str], note: str = DASHBOARD_NOTE) -> None:
        super().__init__()
        self.lines = lines
        self.note = note

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            # Text, not markup: the dropout keys are '[' and ']'.
            yield Static(Text.assemble(("Keys\n\n", "bold"), "\n".join(self.lines), (f"\n\n{self.note}", "dim")))
