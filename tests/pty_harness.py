"""A real `stockpred-tui` on a pseudo-terminal: start it, type into it, hang its terminal up, read its output."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import threading
import time

from tests.run_helpers import pid_alive

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
