"""The branch dialog alone, in a tiny app: keys typed, each knob validated in one line, the choice returned."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, Label

from tests.conftest import wait_until
from tui.dialogs.branch_dialog import BranchChoice, BranchDialog

CURRENT = {"lr": 0.001, "weight_decay": 0.0001, "dropout": 0.3, "clf_weight": 0.5}


class DialogApp(App):
    """Pushes the dialog at start and keeps what it returned."""

    def __init__(self, live: bool = True) -> None:
        super().__init__()
        self.live = live
        self.result: list = []

    def on_mount(self) -> None:
        self.push_screen(BranchDialog("20261124-090000-p", CURRENT, self.live), self.result.append)


async def _type(pilot, knob: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#knob-{knob}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_the_knobs_are_prefilled_and_an_edit_with_a_pausing_parent_from_best_is_returned():
    app = DialogApp()
    async with app.run_test(size=(90, 30)) as pilot:
        dialog = app.screen
        assert {name: dialog.query_one(f"#knob-{name}", Input).value for name in CURRENT} == {
            "lr": "0.001", "weight_decay": "0.0001", "dropout": "0.3", "clf_weight": "0.5"}
        await pilot.click("#start-best")
        await pilot.click("#parent-pauses")
        await _type(pilot, "lr", "0.0005")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.result)
    assert app.result == [BranchChoice("best", {"lr": 0.0005}, True)]
    assert app.result[0].overrides() == ["training.learning_rate=0.0005"]


async def test_a_bad_value_is_one_line_in_the_dialog_and_fixing_it_confirms():
    app = DialogApp(live=False)
    async with app.run_test(size=(90, 30)) as pilot:
        dialog = app.screen
        assert not dialog.query("#start-now")  # a run that is not live is branched from a saved checkpoint
        await _type(pilot, "dropout", "2")
        await pilot.press("enter")
        error = dialog.query_one("#error", Label)
        await wait_until(pilot, lambda: str(error.render()))
        assert str(error.render()) == "dropout: must be at most 0.95" and app.screen is dialog
        await _type(pilot, "dropout", "abc")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "not a number" in str(error.render()))
        assert str(error.render()) == "dropout: 'abc' is not a number"
        await _type(pilot, "dropout", "0.1")
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: app.result)
    assert app.result == [BranchChoice("best", {"dropout": 0.1}, False)]


async def test_escape_cancels():
    app = DialogApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.result)
    assert app.result == [None]
