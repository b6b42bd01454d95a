"""A real `stockpred-tui` on a pseudo-terminal: start it, type into it, hang its terminal up, read its output."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.run_helpers import ENDLESS, epochs_logged, kill_quietly, only_run_dir, pid_alive, set_args, trainer_pid, wait_for

SIZE = {"COLUMNS": "100", "LINES": "30"}


class PtyProcess:
    """`python -m tui.cli ARGV…` as the session leader of a new pty; its output is collected on a thread."""

    def __init__(self, argv: list[str], env: dict | None = None) -> None:
        self.output = bytearray()
        self.status: int | None = None
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child: its controlling terminal is the pty
            os.environ.update({**SIZE, **(env or {})})
            os.execv(sys.executable, [sys.executable, "-m", "tui.cli", *argv])
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # select, not a blocking read: a read in progress would hold the pty open past os.close (no hang-up until
        # the child next writes)
        try:
            while not self._closing.is_set():
                if select.select([self.master], [], [], 0.05)[0]:
                    chunk = os.read(self.master, 65536)
                    if not chunk:
                        return
                    self.output.extend(chunk)
        except OSError:
            pass  # the terminal closed

    def text(self) -> str:
        """What the process wrote so far."""
        return self.output.decode(errors="replace")

    def type(self, keys: str) -> None:
        """Type into the terminal."""
        os.write(self.master, keys.encode())

    def hang_up(self) -> float:
        """Close the terminal (the kernel sends SIGHUP, then SIGCONT); returns when it happened."""
        self._closing.set()
        self._reader.join()
        os.close(self.master)
        return time.monotonic()

    def wait(self, timeout: float) -> int | None:
        """The exit status (code, or -signal) once the process ends within `timeout`, else None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            time.sleep(0.02)
        return None

    def kill(self) -> None:
        """Leave nothing behind."""
        if self.status is None and pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
            self.wait(5)


@dataclass
class DashboardRun:
    """A real dashboard on a pty and the run its trainer process trains."""

    ui: PtyProcess
    run_dir: Path
    trainer: int


@contextmanager
def dashboard_on_pty(log_dir: Path, env: dict | None = None):
    """The dashboard training an endless tiny run into `log_dir`, handed over after its first epoch; the UI and the
    trainer are killed on the way out, whatever the test did."""
    ui = PtyProcess(set_args([*ENDLESS, f"log_dir={log_dir}"]), env=env)
    pid = None
    try:
        run_dir = wait_for(lambda: only_run_dir(log_dir), "the dashboard starts a run")
        pid = trainer_pid(run_dir)
        wait_for(lambda: epochs_logged(run_dir), "a first epoch")
        yield DashboardRun(ui, run_dir, pid)
    finally:
        ui.kill()
        if pid:
            kill_quietly(pid)
