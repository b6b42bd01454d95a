"""Modal asking for an exact value; bad input gets an inline message and changes nothing."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from engine.errors import InputError


class ValueDialog(ModalScreen[float | None]):
    """Type a number; Enter validates with `validate`, Escape cancels."""

    DEFAULT_CSS = """
    ValueDialog { align: center middle; }
    ValueDialog > Vertical { width: 50; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    ValueDialog #error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: str, validate: Callable[[str], float | int]) -> None:
        super().__init__()
        self.title_text = title
        self.current = current
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield Input(value=self.current, id="value")
            yield Label("", id="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Validate; keep the dialog open with a message on bad input."""
        try:
            value = self.validate(event.value)
        except InputError as error:
            self.query_one("#error", Label).update(str(error))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Close without a value."""
        self.dismiss(None)
