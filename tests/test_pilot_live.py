"""Pilot tests: real keys against a running tiny training; checks the engine's state and the log."""

import json
import threading

import pytest
import torch

from engine.store.checkpoint import load_checkpoint
from engine.commands.trainer_setup import RunOptions
from engine.health import top_suggestion
from tests.conftest import TINY, wait_until
from tui.cli import main
from tui.dialogs.quit_dialog import QuitDialog
from tui.dialogs.value_dialog import ValueDialog
from engine.commands import trainer_setup
from tui.launch import live_app

SIZE = (100, 30)


def app_for(tmp_path, *overrides):
    return live_app(RunOptions(overrides=[*TINY, "training.epochs=100000",
                                         "training.early_stopping.enabled=false", f"log_dir={tmp_path / 'logs'}", *overrides]))


def logged(app):
    return [json.loads(line) for line in (app.dashboard.mode.trainer.run_dir / "events.jsonl").read_text().splitlines()]


async def pause(app, pilot):
    """Once the run has started, press space and wait until the engine reports the pause."""
    await wait_until(pilot, lambda: app.dashboard.history.run)
    await pilot.press("space")
    await wait_until(pilot, lambda: app.dashboard.history.state == "paused")
    assert app.dashboard.mode.trainer.paused


async def quit_without_saving(app, pilot):
    await pilot.press("q")
    await pilot.press("n")
    await wait_until(pilot, lambda: app.dashboard.history.state == "ended")


async def test_pause_and_resume(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.epochs)
        await pause(app, pilot)
        step = app.dashboard.mode.trainer.step
        await pilot.press("equals_sign")  # a round trip through the paused engine, instead of a fixed wait
        await wait_until(pilot, lambda: app.dashboard.history.changes)
        assert app.dashboard.history.changes[-1].step == step and app.dashboard.mode.trainer.step == step  # no steps while paused
        assert "PAUSED" in str(app.query_one("#header").render())
        await pilot.press("p")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.step > step)
        assert app.dashboard.history.state == "running"
        await quit_without_saving(app, pilot)
    kinds = [e["type"] for e in logged(app)]
    assert kinds.index("paused") < kinds.index("resumed") and kinds[-1] == "run_end"


async def test_lr_keys_and_exact_value_while_paused_apply_on_resume(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pause(app, pilot)
        await pilot.press("equals_sign")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.hparams["lr"] == pytest.approx(0.00125))
        await pilot.press("minus", "minus")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.hparams["lr"] == pytest.approx(0.0008))
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, ValueDialog))
        await pilot.press("ctrl+a", "ctrl+k", *"0.0042", "enter")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.hparams["lr"] == 0.0042)
        assert app.dashboard.mode.trainer.optimizer.param_groups[0]["lr"] == 0.0042
        await quit_without_saving(app, pilot)
    changes = [(e["name"], e["new"]) for e in logged(app) if e["type"] == "hparam"]
    assert changes == [("lr", 0.00125), ("lr", 0.001), ("lr", 0.0008), ("lr", 0.0042)]


async def test_dropout_and_weight_decay_keys(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.run)
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.model.dropout.p == 0.35)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.model.dropout.p == 0.25)
        await pilot.press("d")
        await pilot.press("ctrl+a", "ctrl+k", *"0.1", "enter")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.model.lstm.dropout == 0.1)
        await pilot.press("w")
        await pilot.press("ctrl+a", "ctrl+k", *"0.0002", "enter")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.optimizer.param_groups[0]["weight_decay"] == 0.0002)
        await quit_without_saving(app, pilot)
    assert [e["new"] for e in logged(app) if e["type"] == "hparam"] == [0.35, 0.3, 0.25, 0.1, 0.0002]


BAD_VALUES = [("abc", "'abc' is not a number"), ("", "enter a number"), ("-1", "must be above 0"),
              ("nan", "finite"), ("1e9", "must be at most 1")]


async def test_invalid_dialog_input_is_rejected_inline_and_changes_nothing(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pause(app, pilot)
        await pilot.press("l")
        for typed, message in BAD_VALUES:
            await pilot.press("ctrl+a", "ctrl+k", *typed, "enter")
            dialog = app.screen
            assert isinstance(dialog, ValueDialog) and message in str(dialog.query_one("#error").render())
        await pilot.press("escape")
        assert app.dashboard.mode.trainer.hparams["lr"] == 0.001
        await quit_without_saving(app, pilot)
    assert not [e for e in logged(app) if e["type"] == "hparam"]


async def test_dropout_of_one_is_rejected(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.run)
        await pilot.press("d", "ctrl+a", "ctrl+k", "1", "enter")
        assert "must be at most 0.95" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
        await quit_without_saving(app, pilot)
    assert app.dashboard.mode.trainer.model.dropout.p == 0.3


async def test_apply_remedy_key_applies_the_status_panels_suggestion(tmp_path):
    app = app_for(tmp_path, "training.learning_rate=0.0005", "training.weight_decay=0.001", "model.dropout=0.4")
    # Paused at the first step boundary, before anything is measured: the note's over-regularised settings then warn
    # with a remedy. Pressing space once the run shows would let a slow machine finish an epoch first, and after one
    # or two epochs that finding is only "watching whether the run learns", with no remedy to apply.
    app.dashboard.mode.controls.pause()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.state == "paused")
        assert not app.dashboard.history.epochs and app.dashboard.mode.trainer.paused
        await wait_until(pilot, lambda: top_suggestion(app.dashboard.findings))  # the throttled redraw computes findings
        finding, suggestion = top_suggestion(app.dashboard.findings)
        assert (finding.rule, suggestion.name, suggestion.value) == ("over_regularised", "weight_decay", 1e-4)
        assert f"press a to {suggestion.label}" in str(app.query_one("#status").render())
        await pilot.press("a")
        await wait_until(pilot, lambda: app.dashboard.mode.trainer.hparams[suggestion.name] == suggestion.value)
        await quit_without_saving(app, pilot)
    change = next(e for e in logged(app) if e["type"] == "hparam")
    assert (change["name"], change["new"], change["source"]) == (suggestion.name, suggestion.value, "remedy")


async def save_after_first_epoch(app, pilot):
    """Press s once an epoch is done and wait for the checkpoint event in the log."""
    await wait_until(pilot, lambda: app.dashboard.history.epochs)
    await pilot.press("s")
    await wait_until(pilot, lambda: any(e["type"] == "checkpoint" for e in logged(app)))


async def test_save_key_writes_a_loadable_checkpoint(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await save_after_first_epoch(app, pilot)
        await quit_without_saving(app, pilot)
    path = next(e["path"] for e in logged(app) if e["type"] == "checkpoint")
    assert load_checkpoint(path)["epoch"] >= 1


async def test_quit_with_saving_writes_a_checkpoint_and_run_end(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.epochs)
        await pilot.press("q", "y")
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
    events = logged(app)
    # A stop by the user with a best checkpoint is scored on the test split before the run's end is logged.
    assert [e["type"] for e in events][-3:] == ["checkpoint", "test", "run_end"] and events[-1]["reason"] == "stopped"
    assert load_checkpoint(events[-3]["path"])["step"] == events[-1]["step"]


async def test_quit_without_saving_writes_nothing_beyond_the_automatic_checkpoints(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.epochs)
        await quit_without_saving(app, pilot)
    events = logged(app)
    reasons = {e["reason"] for e in events if e["type"] == "checkpoint"}
    assert reasons <= {"best", "periodic"} and "best" in reasons
    assert {p.name for p in (app.dashboard.mode.trainer.run_dir / "checkpoints").iterdir()} <= {"best.pt", "last.pt"}
    newest = [e["path"] for e in events if e["type"] == "checkpoint"][-1]
    # run_end names the run's newest checkpoint (issue 25), here the last automatic one: nothing new was written
    assert events[-1]["type"] == "run_end" and events[-1]["reason"] == "stopped" and events[-1]["checkpoint"] == newest


async def test_training_failure_is_shown_ends_the_log_and_keeps_saved_checkpoints(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await save_after_first_epoch(app, pilot)

        def out_of_memory(*args):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

        app.dashboard.mode.trainer.model.forward = out_of_memory
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
        await wait_until(pilot, lambda: "FAILED" in str(app.query_one("#header").render()))
        status = str(app.query_one("#status").render())
        assert status.startswith(" FAILED  OutOfMemoryError: CUDA out of memory") and "checkpoints already saved are kept" in status
        shown = [n.message for n in app._notifications if "OutOfMemoryError" in n.message]
        assert len(shown) == 1 and "lower training.batch_size" in shown[0]  # once, with the remedy
        await pilot.press("space", "s")  # the ended run takes no controls and the app stays up
        assert app.is_running
    events = logged(app)
    error = next(e for e in events if e["type"] == "error")
    assert error["fatal"] and "CUDA out of memory" in error["message"]
    assert events[-1]["type"] == "run_end" and events[-1]["reason"] == "error"
    saved = [e["path"] for e in events if e["type"] == "checkpoint" and e["reason"] == "manual"]
    assert len(saved) == 1 and load_checkpoint(saved[0])["epoch"] >= 1


def test_trainer_is_built_off_the_main_thread(tmp_path, monkeypatch):
    """The UI thread runs no torch work: an OpenMP pool parked there slows the training worker (tui/launch.py)."""
    builders, real = [], trainer_setup.build_trainer

    def recording(*args, **kwargs):
        builders.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_setup, "build_trainer", recording)
    app = app_for(tmp_path)
    assert app.dashboard.mode.trainer is not None and len(builders) == 1
    assert builders[0] is not threading.main_thread() and not builders[0].is_alive()


def test_dashboard_config_error_exits_2_before_the_screen_opens(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("model:\n  dropout: 1.5\n")
    assert main(["--config", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "model.dropout" in err


async def test_ctrl_q_ctrl_c_and_the_palettes_quit_all_ask_first(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.epochs)
        for key in ("ctrl+q", "ctrl+c"):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, QuitDialog))
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, QuitDialog))
        await app.action_quit()  # what the command palette's "Quit" calls
        await wait_until(pilot, lambda: isinstance(app.screen, QuitDialog))
        assert app.dashboard.history.state == "running" and app.is_running
        await pilot.press("n")
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
    assert logged(app)[-1]["reason"] == "stopped"


async def test_a_nan_in_the_dashboard_rolls_back_and_pauses_instead_of_diverging(tmp_path):
    app = app_for(tmp_path)
    forward, poisoned = app.dashboard.mode.trainer.model.forward, []

    def nan_once(inputs):
        prediction, logit = forward(inputs)
        if app.dashboard.mode.trainer.epoch == 1 and app.dashboard.mode.trainer.model.training and not poisoned:
            poisoned.append(True)
            return prediction * float("nan"), logit
        return prediction, logit

    app.dashboard.mode.trainer.model.forward = nan_once
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.state == "paused")
        assert app.dashboard.history.pause_reason == "non-finite loss" and app.dashboard.mode.trainer.paused
        assert "non-finite loss" in str(app.query_one("#header").render())
        await quit_without_saving(app, pilot)
    assert [e["reason"] for e in logged(app) if e["type"] == "run_end"] == ["stopped"]  # not "diverged"
