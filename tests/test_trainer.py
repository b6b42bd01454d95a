"""Trainer: controls change what the next steps use, exact resume, atomic checkpoints, the log, Ctrl-C."""

import json
import math
import os
import signal
import subprocess
import sys
import threading

import pandas as pd
import pytest
import torch

from engine.store import checkpoint as checkpoint_module
from engine.store.checkpoint import load_checkpoint, save_checkpoint
from engine.control.channel import ControlChannel
from engine.data.dataset import prepare_data
from engine.errors import InputError
from engine.events import EpochEvent, HyperparamChanged, Paused
from engine.commands.trainer_setup import RunOptions, build_trainer
from engine.training.trainer import Trainer
from tests.conftest import TINY

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def run(config, controls=None, sinks=None, **kwargs):
    trainer = Trainer(config, prepare_data(config), sinks=list(sinks or []), controls=controls, **kwargs)
    events = []
    trainer.sinks.append(events.append)
    trainer.run()
    return trainer, events


def epochs_of(events):
    return [e for e in events if isinstance(e, EpochEvent)]


def test_each_knob_control_changes_what_the_next_steps_use(tiny):
    controls = ControlChannel()
    for name, value in (("lr", 0.0123), ("weight_decay", 0.002), ("dropout", 0.45), ("clf_weight", 2.0)):
        controls.set(name, value)
    trainer, events = run(tiny("training.epochs=1"), controls)
    changes = [e for e in events if isinstance(e, HyperparamChanged)]
    assert [(c.name, c.old, c.new, c.step) for c in changes] == [
        ("lr", 0.001, 0.0123, 0), ("weight_decay", 0.0001, 0.002, 0), ("dropout", 0.3, 0.45, 0), ("clf_weight", 0.5, 2.0, 0)]
    assert trainer.optimizer.param_groups[0]["lr"] == 0.0123 and trainer.optimizer.param_groups[0]["weight_decay"] == 0.002
    assert trainer.model.dropout.p == 0.45 and trainer.model.lstm.dropout == 0.45
    epoch = epochs_of(events)[0]
    assert (epoch.lr, epoch.weight_decay, epoch.dropout, epoch.clf_weight) == (0.0123, 0.002, 0.45, 2.0)
    assert epoch.train_loss == pytest.approx(epoch.train_reg + 2.0 * epoch.train_clf, rel=1e-5)


def test_learning_rate_control_changes_the_trajectory(tiny):
    _, plain = run(tiny("training.epochs=1"))
    controls = ControlChannel()
    controls.set("lr", 0.01)
    _, changed = run(tiny("training.epochs=1"), controls)
    assert epochs_of(plain)[0].train_loss != epochs_of(changed)[0].train_loss


def test_pause_blocks_steps_until_resume_and_changes_apply_on_resume(tiny):
    controls = ControlChannel()
    seen_steps_while_paused = []

    def on_event(event):
        if isinstance(event, Paused):
            seen_steps_while_paused.append(event.step)
            controls.set("lr", 0.005)  # typed while paused
            controls.resume()

    controls.pause()
    trainer, events = run(tiny("training.epochs=1"), controls, sinks=[on_event])
    kinds = [e.kind for e in events if e.kind in ("paused", "hparam", "resumed", "epoch")]
    assert kinds == ["paused", "hparam", "resumed", "epoch"]
    assert seen_steps_while_paused == [0]
    assert epochs_of(events)[0].lr == 0.005


def test_save_now_writes_a_loadable_checkpoint_and_stop_ends_the_run(tiny):
    controls = ControlChannel()
    controls.save()
    controls.stop()
    trainer, events = run(tiny(), controls)
    saved = [e for e in events if e.kind == "checkpoint"]
    assert len(saved) == 1 and saved[0].reason == "manual"
    state = load_checkpoint(saved[0].path)
    assert state["step"] == 0 and state["hparams"]["lr"] == 0.001
    # run_end names the checkpoint actually written (issue 25: it said none after a save & stop)
    assert events[-1].kind == "run_end" and events[-1].reason == "stopped" and events[-1].checkpoint == saved[0].path


def test_exact_resume_three_plus_three_equals_six(tiny, tmp_path):
    _, straight = run(tiny("training.epochs=6"))
    first, _ = run(tiny("training.epochs=3"))
    last = first.run_dir / "checkpoints" / "last.pt"
    trainer = build_trainer(RunOptions(resume=str(last), epochs=6))
    trainer.run()
    log = pd.read_json(first.run_dir / "events.jsonl", lines=True)
    resumed = log[log["type"] == "epoch"].set_index("epoch")
    for event in epochs_of(straight):
        assert resumed.loc[event.epoch, "train_loss"] == pytest.approx(event.train_loss, abs=1e-6)
        assert resumed.loc[event.epoch, "val_loss"] == pytest.approx(event.val_loss, abs=1e-6)
    assert list(log["type"]).count("run_start") == 2


def test_mid_epoch_checkpoint_resumes_exactly(tiny):
    _, straight = run(tiny("training.epochs=2"))
    controls = ControlChannel()

    def stop_mid_epoch(event):
        if event.kind == "step" and event.step == 3:
            controls.save()
            controls.stop()

    first, events = run(tiny("training.epochs=2"), controls, sinks=[stop_mid_epoch])
    path = next(e.path for e in events if e.kind == "checkpoint")
    resumed = build_trainer(RunOptions(resume=path, overrides=[f"log_dir={first.config.log_dir}"]))
    more = []
    resumed.sinks.append(more.append)
    resumed.run()
    assert [round(e.train_loss, 6) for e in epochs_of(more)] == [round(e.train_loss, 6) for e in epochs_of(straight)]


def test_a_crash_mid_write_leaves_the_old_checkpoint_loadable(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    good = {"model": {"w": torch.ones(3)}, "optimizer": {}, "epoch": 1, "step": 5, "config": {}, "scaler": {}, "hparams": {}, "rng": {}}
    save_checkpoint(good, path)

    def crash(obj, file):
        file.write(b"half a checkpoint")
        raise OSError("disk vanished")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash)
    with pytest.raises(OSError):
        save_checkpoint({**good, "epoch": 2}, path)
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_bad_checkpoint_is_a_one_line_error(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pt: is text, not a checkpoint"):
        load_checkpoint(path)


def test_log_is_one_json_object_per_line_readable_by_pandas(tiny):
    trainer, events = run(tiny())
    path = trainer.run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == [e.kind for e in events]
    frame = pd.read_json(path, lines=True)
    assert list(frame[frame["type"] == "epoch"]["epoch"]) == [1, 2, 3]
    assert (trainer.run_dir / "config.yaml").exists()


def test_early_stopping_restores_the_best_weights(tiny):
    trainer, events = run(tiny("training.epochs=40", "training.early_stopping.patience=2", "training.learning_rate=0.05"))
    stop = next(e for e in events if e.kind == "early_stop")
    best = {k: v for k, v in trainer.early_stop.best_weights.items()}
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in best.items())
    assert stop.epoch - stop.best_epoch == 2 and events[-1].reason == "early_stop"


def test_ctrl_c_saves_logs_run_end_and_exits_130(tmp_path):
    args = [sys.executable, "-m", "tui.cli", "train", *sum((["--set", o] for o in TINY), []), "--epochs", "100000",
            "--set", f"log_dir={tmp_path / 'logs'}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    first_epoch = threading.Event()

    def watch():
        for line in process.stdout:
            if line.startswith("Epoch ["):
                first_epoch.set()

    threading.Thread(target=watch, daemon=True).start()
    assert first_epoch.wait(120)
    process.send_signal(signal.SIGINT)
    assert process.wait(120) == 130
    run_dir = next((tmp_path / "logs").iterdir())
    assert (run_dir / "checkpoints" / "interrupt.pt").exists()
    last = json.loads((run_dir / "events.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "run_end" and last["reason"] == "interrupted"
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("seen_at", ["step", "epoch end"])
def test_non_finite_loss_rolls_back_pauses_and_resumes_clean(tiny, seen_at):
    # With step events at every step the NaN is seen mid-epoch; without them, only when the epoch's sums are read.
    config = tiny("training.epochs=2", *(["step_event_interval_s=1000"] if seen_at == "epoch end" else []))
    controls = ControlChannel()
    trainer = Trainer(config, prepare_data(config), controls=controls, pause_on_nonfinite=True)
    forward, poisoned_once = trainer.model.forward, []

    def poisoned(inputs):
        prediction, logit = forward(inputs)
        if trainer.epoch == 1 and trainer.batch == 2 and trainer.model.training and not poisoned_once:
            poisoned_once.append(True)  # one NaN in the second epoch, after Adam has state to corrupt
            return prediction * float("nan"), logit
        return prediction, logit

    trainer.model.forward = poisoned
    events = []

    def on_event(event):
        events.append(event)
        if event.kind == "paused":
            if sum(e.kind == "paused" for e in events) > 1:
                controls.stop()  # a rollback to a corrupted state would fail forever; end instead of hanging
            controls.set("lr", 0.0005)
            controls.resume()

    trainer.sinks.append(on_event)
    trainer.run()
    assert sum(e.kind == "paused" for e in events) == 1
    error = next(e for e in events if e.kind == "error")
    assert not error.fatal and "non-finite loss" in error.message
    assert next(e for e in events if e.kind == "paused").reason == "non-finite loss"
    first, second = epochs_of(events)
    assert second.lr == 0.0005 and math.isfinite(second.train_loss)  # weights and Adam state rolled back
    assert [first.epoch, second.epoch] == [1, 2]  # the discarded epoch is not logged as if it happened
    assert events[-1].reason == "completed"
