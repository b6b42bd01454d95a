"""Helpers for tests that drive real training processes: read their logs, wait on them, end them."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.conftest import TINY

# A run that trains until it is told to stop (tiny model, each epoch a fraction of a second).
ENDLESS = [*TINY, "training.epochs=100000", "training.early_stopping.enabled=false", "step_event_interval_s=0.05"]
WAIT_S = 180.0  # generous: the machine is shared; tests wait on conditions, this only bounds a hang


def set_args(overrides: list[str]) -> list[str]:
    """['a=1', 'b=2'] -> ['--set', 'a=1', '--set', 'b=2']."""
    return [arg for override in overrides for arg in ("--set", override)]


def events(run_dir: Path) -> list[dict]:
    """The complete lines of a run's log (a line being written is left out)."""
    text = (Path(run_dir) / "events.jsonl").read_text()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def wait_for(predicate, what: str, timeout: float = WAIT_S):
    """Poll `predicate` until it returns something truthy; fail with `what` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def only_run_dir(log_dir: Path) -> Path | None:
    """The single run directory under log_dir, once it exists."""
    runs = [p for p in Path(log_dir).glob("*/events.jsonl")]
    return runs[0].parent if len(runs) == 1 else None


def epochs_logged(run_dir: Path) -> int:
    """Highest epoch in a run's log so far."""
    return max((e["epoch"] for e in events(run_dir) if e["type"] == "epoch"), default=0)


def pid_alive(pid: int) -> bool:
    """True while a process (not yet reaped, not a zombie) exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ")[-1][:1] != "Z"


def kill_quietly(pid: int) -> None:
    """Make sure a test leaves no training process behind."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def trainer_pid(run_dir: Path) -> int:
    """The pid of the process that trains a run, from its control socket's hello."""
    from engine.control.client import ControlClient

    def ask() -> int | None:
        try:
            client = ControlClient(Path(run_dir) / "control.sock", "test", backlog=False)
        except Exception:
            return None
        try:
            return int(client.hello["pid"])
        finally:
            client.close()

    return wait_for(ask, "the trainer answers on its socket")


def start_detached_endless(log_dir: Path) -> tuple[Path, int]:
    """`train --detach` of an endless tiny run into `log_dir`: its run directory and its trainer's pid."""
    from tui.cli import main

    assert main(["train", "--detach", *set_args([*ENDLESS, f"log_dir={log_dir}"])]) == 0
    run_dir = only_run_dir(log_dir)
    return run_dir, trainer_pid(run_dir)


def stop_run(run_dir: Path) -> None:
    """Ask a live run to stop, over its socket."""
    from engine.control.client import ControlClient

    client = ControlClient(Path(run_dir) / "control.sock", "test", backlog=False)
    client.stop()
    client.close()
