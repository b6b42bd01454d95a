"""The real dashboard on a pseudo-terminal: when the terminal goes, the UI process is gone at once; the trainer
process trains on to its end and then leaves too."""

from tests.pty_harness import PtyProcess
from tests.run_helpers import (ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, pid_alive, set_args,
                               trainer_pid, wait_for)

GONE_WITHIN_S = 2.0


def test_a_hang_up_ends_the_ui_at_once_and_the_run_trains_to_its_end(tmp_path):
    logs = tmp_path / "logs"
    ui = PtyProcess(set_args([*ENDLESS, "training.epochs=12", f"log_dir={logs}"]))
    pid = None
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "the dashboard starts a run")
        pid = trainer_pid(run_dir)
        wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch")
        ui.hang_up()  # what a dropped SSH connection or `tmux kill-session` does: SIGHUP, then SIGCONT
        assert ui.wait(GONE_WITHIN_S + 3) is not None  # a bound, not a timing: bench/fault_campaign.py times it
        wait_for(lambda: not pid_alive(pid), "the trainer process ends with its run")
    finally:
        ui.kill()
        if pid:
            kill_quietly(pid)
    logged = events(run_dir)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "completed" and logged[-1]["epoch"] == 12
    assert not (run_dir / "control.sock").exists()
