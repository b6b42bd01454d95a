"""A real `stockpred-tui` in a tmux session of the campaign's own tmux server: type into it, kill the session.

`tmux kill-session` is how a terminal multiplexer (or a closed terminal window) hangs a program up: the pane's pty
goes, the kernel sends SIGHUP and SIGCONT. Mirrors tests/pty_harness.PtyProcess where the campaign needs it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from tests.run_helpers import pid_alive

SERVER = f"stockpred-faults-{os.getpid()}"  # a server of its own: never touches the user's sessions
KEYS = {"\x10": "C-p"}


def tmux_available() -> bool:
    """True where the tmux binary is installed."""
    return shutil.which("tmux") is not None


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SERVER, *args], check=True, capture_output=True, text=True).stdout


class TmuxProcess:
    """`python -m tui.cli ARGV…` as the only program of a detached 100×30 tmux session."""

    count = 0

    def __init__(self, argv: list[str]) -> None:
        TmuxProcess.count += 1
        self.session = f"ui{TmuxProcess.count}"
        command = "exec " + shlex.join([sys.executable, "-m", "tui.cli", *argv])  # exec: the pane's pid is the UI
        _tmux("new-session", "-d", "-s", self.session, "-x", "100", "-y", "30", "-c", os.getcwd(),
              "-e", f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}", command)
        self.pid = int(_tmux("list-panes", "-t", self.session, "-F", "#{pane_pid}").split()[0])
        self.status: int | None = None

    def type(self, keys: str) -> None:
        """Type into the pane (ctrl+p by its tmux name)."""
        _tmux("send-keys", "-t", self.session, KEYS.get(keys, keys))

    def hang_up(self) -> float:
        """Kill the session (its pty goes: SIGHUP, then SIGCONT); returns when it happened."""
        _tmux("kill-session", "-t", self.session)
        return time.monotonic()

    def wait(self, timeout: float) -> int | None:
        """0 once the process is gone within `timeout` (it is the tmux server's child, not ours), else None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(self.pid):
                self.status = 0
                return 0
            time.sleep(0.02)
        return None

    def kill(self) -> None:
        """Leave nothing behind: the process, and the session if it is still there."""
        if pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        subprocess.run(["tmux", "-L", SERVER, "kill-session", "-t", self.session], capture_output=True)
