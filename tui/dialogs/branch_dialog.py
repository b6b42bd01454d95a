"""Modal that forks a run: the knobs prefilled with their current values, where to fork from, and the parent's fate."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from engine.commands.branch_start import BranchChoice
from engine.errors import InputError
from engine.knobs import KNOBS, validate_knob

STARTS = ("now", "best", "last")


def _shown(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class BranchDialog(ModalScreen[BranchChoice | None]):
    """Edit the knobs, pick now/best/last and whether the parent goes on; Enter or Branch confirms, Escape cancels."""

    DEFAULT_CSS = """
    BranchDialog { align: center middle; }
    BranchDialog > Vertical { width: 64; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    BranchDialog .knob { height: 3; }
    BranchDialog .knob Label { width: 16; padding: 1 0; }
    BranchDialog .knob Input { width: 1fr; }
    BranchDialog RadioSet { width: 1fr; }
    BranchDialog #choices { height: auto; }
    BranchDialog #error { color: $error; height: auto; width: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, run_id: str, current: dict[str, float | None], live: bool = True) -> None:
        super().__init__()
        self.run_id = run_id
        self.current = current
        self.starts = STARTS if live else STARTS[1:]  # a run that is not live cannot save now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Branch {self.run_id}: a new run from a checkpoint, with these knobs from its first step")
            for name, knob in KNOBS.items():
                with Horizontal(classes="knob"):
                    yield Label(knob.label)
                    yield Input(value=_shown(self.current.get(name)), id=f"knob-{name}")
            with Horizontal(id="choices"):
                with RadioSet(id="start"):
                    for index, start in enumerate(self.starts):
                        yield RadioButton(f"from {start}", value=index == 0, id=f"start-{start}")
                with RadioSet(id="parent"):
                    yield RadioButton("parent goes on", value=True, id="parent-goes-on")
                    yield RadioButton("parent pauses", id="parent-pauses")
            yield Label("", id="error")
            yield Button("Branch", variant="primary", id="confirm")

    def choice(self) -> BranchChoice:
        """The dialog's values as a BranchChoice; InputError (one line) for the first knob that is not valid."""
        edits = {}
        for name in KNOBS:
            text = self.query_one(f"#knob-{name}", Input).value
            if text.strip() == _shown(self.current.get(name)):
                continue  # untouched: the branch keeps the parent's value
            edits[name] = validate_knob(name, text)
        start_button = self.query_one("#start", RadioSet).pressed_button
        start = start_button.id.removeprefix("start-") if start_button and start_button.id else self.starts[0]
        pauses = self.query_one("#parent-pauses", RadioButton).value
        return BranchChoice(start, edits, pauses)

    def _confirm(self) -> None:
        try:
            choice = self.choice()
        except InputError as error:
            self.query_one("#error", Label).update(str(error))
            return
        self.dismiss(choice)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any knob confirms (or shows why not)."""
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The Branch button confirms."""
        event.stop()
        self._confirm()

    def action_cancel(self) -> None:
        """Close without branching."""
        self.dismiss(None)
