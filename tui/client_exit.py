"""How a UI process leaves: a crash is written down and the run goes on; a dead terminal or SIGTERM end it at once.

The UI holds no training, so it never needs to linger: SIGHUP keeps its default action (the kernel ends the process
before Textual's SIGCONT handler could restart application mode on the dead pty and wedge the loop), a terminal
that vanished without a SIGHUP is noticed by a watchdog, and SIGTERM detaches and exits 143 even when the loop is stuck.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from pathlib import Path

FAULT_ENV = "STOCKPRED_UI_FAULT"  # a key whose press raises inside the app (the fault tests' hook)
WATCH_S = 0.25
HANGUP_EXIT, SIGTERM_EXIT = 129, 143
FORCE_EXIT_AFTER_S = 1.5


class InjectedFault(RuntimeError):
    """Raised by the test hook: a stand-in for any bug in any widget."""


def check_fault(key: str) -> None:
    """Raise InjectedFault when `key` is the one STOCKPRED_UI_FAULT names."""
    if key and os.environ.get(FAULT_ENV) == key:
        raise InjectedFault(f"{FAULT_ENV}={key}: a fault injected into the key handler")


def write_crash(error: BaseException, run_dir: Path | None, log_dir: str | os.PathLike = "logs") -> Path:
    """Append the traceback to the run's console.log, or to logs/ui-crash-<time>.log when no run is known."""
    if run_dir is not None and Path(run_dir).is_dir():
        path = Path(run_dir) / "console.log"
    else:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        path = Path(log_dir) / f"ui-crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    text = "".join(traceback.format_exception(error))
    with open(path, "a", encoding="utf-8") as file:
        os.chmod(path, 0o600)
        file.write(f"ui crash (pid {os.getpid()}); the run goes on:\n{text}")
    return path


def terminal_alive() -> bool:
    """True while this process still has its controlling terminal (a hung-up one cannot be opened)."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
        return True
    except OSError:
        return False


def guard_terminal() -> None:
    """Leave at once when the terminal goes: SIGHUP at its default, SIGCONT only resumes a live tty, and a watchdog.

    Call from the main thread once the driver is running (it replaces the driver's SIGCONT handler)."""
    if not terminal_alive():
        return  # no terminal (a Pilot test, a pipe): nothing to watch
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    resume = signal.getsignal(signal.SIGCONT)

    def on_continue(signum, frame) -> None:
        if not terminal_alive():
            os._exit(HANGUP_EXIT)
        if callable(resume):
            resume(signum, frame)

    signal.signal(signal.SIGCONT, on_continue)

    def watch() -> None:
        while terminal_alive():
            time.sleep(WATCH_S)
        os._exit(HANGUP_EXIT)

    threading.Thread(target=watch, name="terminal-watchdog", daemon=True).start()


def on_sigterm(leave) -> None:
    """SIGTERM: `leave()` on the event loop, and exit 143 regardless if the loop does not get there in time."""

    def handle(signum, frame) -> None:
        timer = threading.Timer(FORCE_EXIT_AFTER_S, os._exit, (SIGTERM_EXIT,))
        timer.daemon = True  # a prompt exit need not wait for it; a wedged one is ended by it
        timer.start()
        leave()

    signal.signal(signal.SIGTERM, handle)
