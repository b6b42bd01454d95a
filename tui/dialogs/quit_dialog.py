"""Quit confirmation: save a checkpoint first, quit without saving, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class QuitDialog(ModalScreen[str]):
    """Dismisses with 'save', 'nosave' or 'cancel'."""

    DEFAULT_CSS = """
    QuitDialog { align: center middle; }
    QuitDialog > Vertical { width: 56; height: auto; border: thick $warning; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("y", "choose('save')", "Save & quit"), Binding("n", "choose('nosave')", "Quit without saving"),
                Binding("escape", "choose('cancel')", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Save a checkpoint before quitting?")
            yield Label("[b]y[/b] save and quit   [b]n[/b] quit without saving   [b]esc[/b] stay")

    def action_choose(self, choice: str) -> None:
        """Close with the choice."""
        self.dismiss(choice)
