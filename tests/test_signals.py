"""SIGTERM ends a run like Ctrl-C (interrupt.pt, run_end, exit 143), also during the last epoch; to a dashboard it detaches."""

import os
import signal
import subprocess
import sys

from engine.control.channel import ControlChannel
from engine.events import EpochEvent
from engine.commands.trainer_setup import RunOptions, build_trainer
from tests.conftest import TINY
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, pid_alive, set_args,
                               wait_for)
from tests.pty_harness import dashboard_on_pty


def test_headless_sigterm_saves_logs_the_end_and_exits_143(tmp_path):
    logs = tmp_path / "logs"
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "train", *set_args([*ENDLESS, f"log_dir={logs}"])],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "the run starts")
        wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch")
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=120)
    finally:
        kill_quietly(process.pid)
    assert process.returncode == 143
    logged = events(run_dir)
    assert [e["type"] for e in logged[-2:]] == ["checkpoint", "run_end"]
    assert logged[-1]["reason"] == "interrupted" and logged[-1]["source"] == "SIGTERM"
    assert logged[-1]["checkpoint"].endswith("interrupt.pt")
    assert f"resume: stockpred-tui train --resume {logged[-1]['checkpoint']}" in out
    assert f"run directory: {run_dir}" in out


def test_an_interrupt_during_the_last_epochs_evaluation_is_honoured(tmp_path):
    controls = ControlChannel()
    trainer = build_trainer(RunOptions(overrides=[*TINY, f"log_dir={tmp_path / 'logs'}"]), controls=controls)
    trainer.sinks.append(lambda e: controls.interrupt() if isinstance(e, EpochEvent) and e.epoch == e.epochs else None)
    ended = trainer.run()
    assert ended.reason == "interrupted" and ended.epoch == 3 and ended.checkpoint.endswith("interrupt.pt")


def test_sigterm_detaches_the_dashboard_and_ends_its_trainer_the_headless_way(tmp_path):
    """SIGTERM to the dashboard detaches it (exit 143, the run goes on); SIGTERM to the trainer saves and ends."""
    logs = tmp_path / "logs"
    with dashboard_on_pty(logs) as run:
        ui, run_dir, pid = run.ui, run.run_dir, run.trainer
        at_signal = epochs_logged(run_dir)
        os.kill(ui.pid, signal.SIGTERM)
        assert ui.wait(20) == 143
        wait_for(lambda: epochs_logged(run_dir) >= at_signal + 2, "the run goes on without its dashboard")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), "the trainer ends")
    assert f"detached; run {run_dir.name} goes on" in ui.text()
    logged = events(run_dir)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "interrupted" and logged[-1]["source"] == "SIGTERM"
    assert logged[-1]["checkpoint"].endswith("interrupt.pt")
