"""kill -9 at a random step: `runs` says crashed, and its resume command loses at most one epoch."""

import json
import random
import shlex
import signal
import subprocess
import sys

from tests.run_helpers import ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, set_args, wait_for
from tui.cli import main


def test_killed_run_is_listed_as_crashed_and_resumes_from_its_last_epoch(tmp_path, capsys):
    logs = tmp_path / "logs"
    rng = random.Random()
    first_epochs, extra_steps = rng.randint(2, 4), rng.randint(0, 12)
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "train", *set_args([*ENDLESS, f"log_dir={logs}"])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "the run starts")
        wait_for(lambda: epochs_logged(run_dir) >= first_epochs, f"{first_epochs} epochs")
        steps = len([e for e in events(run_dir) if e["type"] == "step"])
        wait_for(lambda: len([e for e in events(run_dir) if e["type"] == "step"]) >= steps + extra_steps, "more steps")
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        kill_quietly(process.pid)
    last_epoch = epochs_logged(run_dir)

    assert main(["runs", "--json", "--log-dir", str(logs)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["state"] == "crashed" and row["epoch"] == last_epoch, (row, first_epochs, extra_steps)
    command = shlex.split(row["resume"])
    assert command[:3] == ["stockpred-tui", "train", "--resume"]

    # The printed command, with a finite length so the test ends.
    assert main([*command[1:], "--set", f"training.epochs={last_epoch + 2}"]) == 0
    logged = events(run_dir)
    resumed = [e for e in logged if e["type"] == "run_start"][-1]
    assert resumed["resumed_from"] == command[3]
    assert last_epoch - 1 <= resumed["start_epoch"] <= last_epoch  # at most one epoch lost
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "completed"
    assert logged[-1]["epoch"] == last_epoch + 2
    assert main(["runs", "--log-dir", str(logs)]) == 0
    assert "completed" in capsys.readouterr().out
