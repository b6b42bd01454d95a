"""Starting a trainer process (torch-free): its own session, stdin /dev/null, output appended to console.log.

The dashboard and `train --detach` start the same process and wait only for its control socket to answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

from engine.commands.multiproc import train_args
from engine.commands.run_plan import RunOptions, RunPlan
from engine.errors import InputError
from engine.store.log_writer import EVENTS_FILE

CONSOLE_FILE = "console.log"
SOCKET_FILE = "control.sock"
POLL_S = 0.02


def child_argv(options: RunOptions, run_dir: Path) -> list[str]:
    """The headless command line that the trainer process runs."""
    return [sys.executable, "-m", "tui.cli", "train", *train_args(replace(options, run_dir=str(run_dir)))]


def last_line(path: Path) -> str:
    """The last non-empty line of a console log (the trainer's one-line error when it failed)."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return lines[-1] if lines else "no output"


def socket_answers(path: Path) -> bool:
    """True once something accepts connections on the Unix socket at `path`."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class TrainerProcess:
    """One trainer process of a run, started by a client that may leave at any time."""

    def __init__(self, options: RunOptions, plan: RunPlan) -> None:
        self.plan = plan
        self.run_dir = plan.run_dir
        self.console = plan.run_dir / CONSOLE_FILE
        log = plan.run_dir / EVENTS_FILE
        self._log_size = log.stat().st_size if log.exists() else 0
        with open(self.console, "ab") as output:
            os.chmod(self.console, 0o600)
            self.process = subprocess.Popen(child_argv(options, plan.run_dir), stdin=subprocess.DEVNULL, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """The trainer's process id."""
        return self.process.pid

    def _ready(self) -> bool:
        if self.plan.control_socket:
            return socket_answers(self.run_dir / SOCKET_FILE)
        log = self.run_dir / EVENTS_FILE  # no socket: its first event says it started
        return log.exists() and log.stat().st_size > self._log_size

    def wait_until_ready(self, timeout_s: float, cancelled: threading.Event | None = None) -> None:
        """Return once the trainer answers; InputError with its last console line if it exits first."""
        cancelled = cancelled or threading.Event()
        waited = 0.0
        while not self._ready():
            if self.process.poll() is not None and not self._ready():
                raise InputError(str(self.console), f"training did not start: {last_line(self.console)}")
            if cancelled.wait(POLL_S) or waited > timeout_s:
                raise InputError(str(self.console), f"the trainer did not answer within {timeout_s:.0f} s")
            waited += POLL_S

    def error_line(self) -> str:
        """The trainer's own error line (console.log's last), once it has exited."""
        return last_line(self.console)
