"""SIGTERM ends a run like Ctrl-C (interrupt.pt, run_end, exit 143), also during the last epoch and in the dashboard."""

import os
import pty
import signal
import subprocess
import sys
import threading

from engine.control.channel import ControlChannel
from engine.events import EpochEvent
from engine.commands.trainer_setup import RunOptions, build_trainer
from tests.conftest import TINY
from tests.run_helpers import ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, set_args, wait_for
from tests.test_hangup import drain


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


def test_dashboard_sigterm_takes_the_same_path(tmp_path):
    logs = tmp_path / "logs"
    pid, master = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "tui.cli", *set_args([*ENDLESS, f"log_dir={logs}"])])
    threading.Thread(target=drain, args=(master,), daemon=True).start()
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "the dashboard starts a run")
        wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch")
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    finally:
        kill_quietly(pid)
        os.close(master)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 143
    logged = events(run_dir)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "interrupted"
    assert logged[-1]["checkpoint"].endswith("interrupt.pt")
