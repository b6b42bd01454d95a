"""Leaving an attached run: detach and let it train, stop it after saving, stop it without saving, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class AttachQuitDialog(ModalScreen[str]):
    """Dismisses with 'detach', 'save', 'nosave' or 'cancel'."""

    DEFAULT_CSS = """
    AttachQuitDialog { align: center middle; }
    AttachQuitDialog > Vertical { width: 64; height: auto; border: thick $warning; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("d", "choose('detach')", "Detach"), Binding("y", "choose('save')", "Save & stop"),
                Binding("n", "choose('nosave')", "Stop without saving"), Binding("escape", "choose('cancel')", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Leave this run?")
            yield Label("[b]d[/b]   detach: it keeps training (attach again later)")
            yield Label("[b]y[/b]   save a checkpoint, then stop it")
            yield Label("[b]n[/b]   stop it without saving")
            yield Label("[b]esc[/b] stay")

    def action_choose(self, choice: str) -> None:
        """Close with the choice."""
        self.dismiss(choice)
