"""The fault campaign on the real binary: kill -9 of the dashboard and terminal hang-ups, quiet and beside CPU hogs.

Each trial starts `stockpred-tui` on a terminal (a tiny run), waits for a moment (startup, first epoch, command
palette open, quit dialog open), then kills the UI with SIGKILL or hangs its terminal up: half the hang-ups close a
pty's master, half kill a tmux session (when tmux is installed); either way the kernel sends SIGHUP, then SIGCONT.
Every other trial runs beside two CPU hogs. It checks: the UI is gone within 2 s of a hang-up, a new `attach` takes
over with full control (pause, then resume), training goes on to its end with no epoch lost, and every process of the
run is gone after run_end. Attach clients get the same hang-ups. Prints each trial and the counts.
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
from engine.control.client import ControlClient  # noqa: E402
from bench.tmux_terminal import TmuxProcess, tmux_available  # noqa: E402
from tests.pty_harness import PtyProcess  # noqa: E402
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, pid_alive,  # noqa: E402
                               set_args, trainer_pid, wait_for)

KILLS, HANGUPS, ATTACH_HANGUPS = (int(a) for a in (sys.argv[1:] + ["10", "20", "6"][len(sys.argv) - 1:])[:3])
EPOCHS = 120  # tiny epochs: 25, once 60, all ended before the new attach's first key (then nothing is left to steer)
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


def count(run_dir: Path, kind: str) -> int:
    """How many events of one type the run has logged."""
    return sum(e["type"] == kind for e in events(run_dir))


def takes_over(run_dir: Path, logs: Path) -> str:
    """A new `attach` steers the run: space pauses it, space (once PAUSED is drawn) resumes it; then its terminal is
    closed. Returns "" or what did not happen (and then resumes the run over the socket, so the trial can go on)."""
    paused, resumed = count(run_dir, "paused"), count(run_dir, "resumed")
    ui = PtyProcess(["attach", run_dir.name, "--log-dir", str(logs)])
    try:
        wait_for(lambda: "RUNNING" in ui.text(), "the attached screen", 60)
        ui.type(" ")
        wait_for(lambda: count(run_dir, "paused") > paused, "a pause from the new attach", 30)
        wait_for(lambda: "PAUSED" in ui.text(), "PAUSED on the new attach's screen", 30)
        ui.type(" ")
        wait_for(lambda: count(run_dir, "resumed") > resumed, "a resume from the new attach", 30)
        ui.hang_up()
        return "" if ui.wait(10) is not None else "the new attach outlived its terminal"
    except AssertionError as failure:
        if count(run_dir, "run_end") and not count(run_dir, "paused") > paused:
            return f"{failure} (the run had ended: too few epochs left to steer)"
        if count(run_dir, "paused") > count(run_dir, "resumed"):
            client = ControlClient(run_dir / "control.sock", "campaign", backlog=False)
            client.resume()
            client.close()
        return str(failure)
    finally:
        ui.kill()


def run_processes(run_dir: Path) -> list[int]:
    """Pids of live processes whose command line names the run (the trainer and anything it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and run_dir.name in (entry / "cmdline").read_text() and pid_alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            pass  # gone meanwhile
    return found


def open_ui(argv: list[str], terminal: str):
    """The UI on a pty of ours or in a tmux session."""
    return TmuxProcess(argv) if terminal == "tmux" else PtyProcess(argv)


def trial(logs: Path, fault: str, moment: str, attach: bool, terminal: str) -> dict:
    """One trial; returns what held."""
    argv = set_args([*ENDLESS, f"training.epochs={EPOCHS}", f"log_dir={logs}"])
    if attach:
        trainer = PtyProcess(["train", "--detach", *argv])
        trainer.wait(60)
        run_dir = wait_for(lambda: only_run_dir(logs), "the run", 60)
        ui = open_ui(["attach", run_dir.name, "--log-dir", str(logs)], terminal)
    else:
        ui = open_ui(argv, terminal)
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
        missing = takes_over(run_dir, logs) if pid_alive(pid) else "the trainer had ended"
        try:
            wait_for(lambda: not pid_alive(pid), "the trainer ends", 300)
        except AssertionError:
            pass  # counted below: no completed run_end, a process left
        logged = events(run_dir)
        epochs = [e["epoch"] for e in logged if e["type"] == "epoch"]
        return {"ui_gone_2s": gone and gone_s < 2.0, "gone_s": gone_s, "new_attach_steers": not missing, "why": missing,
                "trained_to_end": logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "completed",
                "no_epoch_lost": epochs == list(range(1, EPOCHS + 1)),
                "all_gone": not run_processes(run_dir) and not (run_dir / "control.sock").exists()}
    finally:
        ui.kill()
        kill_quietly(pid)


def schedule() -> list[tuple[str, bool, str, str, bool]]:
    """(fault, attach, moment, terminal, hogs) per trial: within each kind, moments in pairs (quiet, then beside the
    hogs), and the second half of the hang-ups in tmux."""
    plan = []
    for fault, attach, trials in (("kill -9", False, KILLS), ("hang-up", False, HANGUPS),
                                  ("hang-up", True, ATTACH_HANGUPS)):
        for index in range(trials):
            tmux = fault == "hang-up" and index >= trials // 2 and tmux_available()
            plan.append((fault, attach, MOMENTS[(index // 2) % len(MOMENTS)], "tmux" if tmux else "pty",
                         bool(index % 2)))
    return plan


def main() -> None:
    totals: dict[str, dict[str, int]] = {}
    worst = 0.0
    for index, (fault, attach, moment, terminal, busy) in enumerate(schedule()):
        hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(2)] if busy else []
        for process in hogs:
            process.start()
        with tempfile.TemporaryDirectory() as root:
            os.chdir(root)
            result = trial(Path(root) / "logs", fault, moment, attach, terminal)
        for process in hogs:
            process.terminate()
        label = f"{'attach ' if attach else ''}{fault}" + (f" ({terminal})" if fault == "hang-up" else "")
        counts = totals.setdefault(label, {"trials": 0})
        counts["trials"] += 1
        for key, held in result.items():
            if key not in ("gone_s", "why"):
                counts[key] = counts.get(key, 0) + bool(held)
        worst = max(worst, result["gone_s"]) if fault == "hang-up" else worst
        print(f"{index + 1:2d} {label:23} {moment:12} {'hogs' if hogs else 'quiet':5} "
              f"{' '.join(k for k, v in result.items() if k not in ('gone_s', 'why') and not v) or 'ok'} "
              f"({result['gone_s']:.2f} s){' ' + result['why'] if result['why'] else ''}",
              flush=True)
    for label, counts in totals.items():
        print(f"{label}: " + ", ".join(f"{key} {value}/{counts['trials']}" for key, value in counts.items() if key != "trials"))
    print(f"slowest UI exit after a hang-up: {worst:.2f} s")


if __name__ == "__main__":
    main()
