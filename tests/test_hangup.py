"""The real dashboard on a pseudo-terminal: the terminal goes away, training goes on, a stop over the socket ends it."""

import os
import pty
import sys
import threading

from engine.control.client import ControlClient
from tests.run_helpers import ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, pid_alive, set_args, wait_for


def drain(fd: int) -> None:
    """Read the dashboard's output until the terminal closes, so it never blocks on a full pty."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def test_dashboard_survives_its_terminal_and_stays_reachable(tmp_path):
    logs = tmp_path / "logs"
    argv = [sys.executable, "-m", "tui.cli", *set_args([*ENDLESS, f"log_dir={logs}"])]
    pid, master = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty
        os.environ["COLUMNS"], os.environ["LINES"] = "100", "30"
        os.execv(sys.executable, argv)
    threading.Thread(target=drain, args=(master,), daemon=True).start()
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "the dashboard starts a run")
        wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch")
        os.close(master)  # what a dropped SSH connection or `tmux kill-session` does: SIGHUP
        noted = wait_for(lambda: [e for e in events(run_dir) if e["type"] == "note" and e["source"] == "SIGHUP"],
                         "the log records the hang-up")
        at_hangup = noted[0]["epoch"]
        wait_for(lambda: epochs_logged(run_dir) >= at_hangup + 3, "training goes on after the hang-up")
        assert pid_alive(pid)
        client = ControlClient(run_dir / "control.sock", "test", backlog=False)
        client.stop()
        client.close()
        _, status = os.waitpid(pid, 0)
    finally:
        kill_quietly(pid)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    logged = events(run_dir)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "stopped"
    assert logged[-1]["epoch"] >= at_hangup + 3
    assert (run_dir / "checkpoints" / "last.pt").exists() and not (run_dir / "control.sock").exists()
