"""The fault campaign on the real binary: kill -9 of the dashboard and terminal hang-ups, quiet and beside CPU hogs.

Each trial starts `stockpred-tui` on a pty (a tiny run), waits for a moment (startup, first epoch, command palette
open, quit dialog open), then kills the UI with SIGKILL or closes the pty (SIGHUP, then SIGCONT). It checks: the UI
is gone within 2 s of a hang-up, training goes on to its end with no epoch lost, and every process of the run is gone
after run_end. Attach clients get the same hang-ups. Prints the counts.
Usage: python3 bench/fault_campaign.py [kills] [hangups] [attach_hangups]
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.pty_harness import PtyProcess  # noqa: E402
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, pid_alive,  # noqa: E402
                               set_args, trainer_pid, wait_for)

KILLS, HANGUPS, ATTACH_HANGUPS = (int(a) for a in (sys.argv[1:] + ["10", "20", "6"][len(sys.argv) - 1:])[:3])
EPOCHS = 25
MOMENTS = ["startup", "first epoch", "palette", "quit dialog"]


def hog() -> None:
    while True:
        pass


def at_moment(ui: PtyProcess, run_dir: Path, moment: str) -> None:
    """Bring the UI to a moment of its life."""
    if moment == "startup":
        return
    wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch", 120)
    if moment == "palette":
        ui.type("\x10")  # ctrl+p
    elif moment == "quit dialog":
        ui.type("q")
    time.sleep(random.uniform(0.05, 0.6))  # a random moment is what this campaign is about


def trial(logs: Path, fault: str, moment: str, attach: bool) -> dict:
    """One trial; returns what held."""
    argv = set_args([*ENDLESS, f"training.epochs={EPOCHS}", f"log_dir={logs}"])
    trainer = attach_ui = None
    if attach:
        trainer = PtyProcess(["train", "--detach", *argv])
        trainer.wait(60)
        run_dir = wait_for(lambda: only_run_dir(logs), "the run", 60)
        attach_ui = ui = PtyProcess(["attach", run_dir.name, "--log-dir", str(logs)])
    else:
        ui = PtyProcess(argv)
        run_dir = wait_for(lambda: only_run_dir(logs), "the run", 60)
    pid = trainer_pid(run_dir)
    try:
        at_moment(ui, run_dir, moment)
        struck = time.monotonic()
        if fault == "kill -9":
            os.kill(ui.pid, signal.SIGKILL)
        else:
            ui.hang_up()
        gone = ui.wait(10) is not None
        gone_s = time.monotonic() - struck
        wait_for(lambda: not pid_alive(pid), "the trainer ends", 300)
        logged = events(run_dir)
        epochs = [e["epoch"] for e in logged if e["type"] == "epoch"]
        return {"ui_gone_2s": gone and gone_s < 2.0, "gone_s": gone_s,
                "trained_to_end": logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "completed",
                "no_epoch_lost": epochs == list(range(1, EPOCHS + 1)),
                "all_gone": not pid_alive(pid) and not (run_dir / "control.sock").exists()}
    finally:
        for process in (ui, attach_ui):
            if process is not None:
                process.kill()
        kill_quietly(pid)


def main() -> None:
    plan = ([("kill -9", False)] * KILLS + [("hang-up", False)] * HANGUPS + [("hang-up", True)] * ATTACH_HANGUPS)
    totals: dict[str, dict[str, int]] = {}
    worst = 0.0
    for index, (fault, attach) in enumerate(plan):
        hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(2)] if index % 2 else []
        for process in hogs:
            process.start()
        moment = MOMENTS[index % len(MOMENTS)]
        with tempfile.TemporaryDirectory() as root:
            os.chdir(root)
            result = trial(Path(root) / "logs", fault, moment, attach)
        for process in hogs:
            process.terminate()
        label = f"{'attach ' if attach else ''}{fault}"
        counts = totals.setdefault(label, {"trials": 0})
        counts["trials"] += 1
        for key, held in result.items():
            if key != "gone_s":
                counts[key] = counts.get(key, 0) + bool(held)
        worst = max(worst, result["gone_s"]) if fault == "hang-up" else worst
        print(f"{index + 1:2d} {label:16} {moment:12} {'hogs' if hogs else 'quiet':5} "
              f"{' '.join(k for k, v in result.items() if k != 'gone_s' and not v) or 'ok'} ({result['gone_s']:.2f} s)",
              flush=True)
    for label, counts in totals.items():
        print(f"{label}: " + ", ".join(f"{key} {value}/{counts['trials']}" for key, value in counts.items() if key != "trials"))
    print(f"slowest UI exit after a hang-up: {worst:.2f} s")


if __name__ == "__main__":
    main()
