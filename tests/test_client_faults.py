"""Nothing the UI process does ends the run: kill -9 of the dashboard, an exception in a key handler; and a data
error found by the trainer process comes back as one line, leaving nothing behind."""

import json
import os
import signal

from tests.conftest import TINY, wait_until
from tests.pty_harness import PtyProcess, dashboard_on_pty
from tests.run_helpers import (epochs_logged, events, pid_alive, set_args,
                               stop_run, wait_for)
from tui.cli import main
from tui.client_exit import FAULT_ENV
from tui.launch import attach_app


async def test_kill_9_of_the_dashboard_leaves_the_run_training_and_a_new_attach_takes_over(tmp_path, capsys):
    logs = tmp_path / "logs"
    with dashboard_on_pty(logs) as run:
        ui, run_dir, pid = run.ui, run.run_dir, run.trainer
        at_kill = epochs_logged(run_dir)
        os.kill(ui.pid, signal.SIGKILL)
        assert ui.wait(10) == -signal.SIGKILL
        wait_for(lambda: epochs_logged(run_dir) >= at_kill + 2, "training goes on without its UI")
        assert main(["runs", "--json", "--log-dir", str(logs)]) == 0
        assert json.loads(capsys.readouterr().out)[0]["state"] == "running"
        app = attach_app(run_dir.name, str(logs))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("space")
            await wait_until(pilot, lambda: app.dashboard.history.state == "paused")
            await pilot.press("q", "n")
            await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
        wait_for(lambda: not pid_alive(pid), "the trainer exits after the stop")
    epochs = [e["epoch"] for e in events(run_dir) if e["type"] == "epoch"]
    assert epochs == list(range(1, len(epochs) + 1))  # no epoch lost
    assert events(run_dir)[-1]["reason"] == "stopped" and events(run_dir)[-1]["source"].startswith("attach pid ")


def test_an_exception_in_a_key_handler_ends_the_ui_not_the_run(tmp_path):
    logs = tmp_path / "logs"
    with dashboard_on_pty(logs, env={FAULT_ENV: "x"}) as run:
        ui, run_dir, pid = run.ui, run.run_dir, run.trainer
        at_fault = epochs_logged(run_dir)
        ui.type("x")
        assert ui.wait(20) == 1
        wait_for(lambda: epochs_logged(run_dir) >= at_fault + 2, "training goes on after the UI crashed")
        assert pid_alive(pid)
        stop_run(run_dir)
        wait_for(lambda: not pid_alive(pid), "the trainer exits after the stop")
    assert f"the run goes on: stockpred-tui attach {run_dir.name}" in ui.text()
    console = (run_dir / "console.log").read_text()
    assert "InjectedFault" in console and "Traceback" in console and "Traceback" not in ui.text()
    assert events(run_dir)[-1]["reason"] == "stopped" and events(run_dir)[-1]["source"] != "user"


def test_a_data_error_comes_back_from_the_trainer_as_one_line_and_leaves_nothing(tmp_path):
    ui = PtyProcess(["--data", "nope.csv", *set_args([*TINY, f"log_dir={tmp_path / 'logs'}"])])
    try:
        assert ui.wait(120) == 2
    finally:
        ui.kill()
    assert "error: nope.csv: file not found" in ui.text()
    assert not (tmp_path / "logs").exists()


def test_the_dashboard_refuses_a_run_without_its_control_socket_in_one_line(tmp_path, capsys):
    # The dashboard is a client of the socket: waiting for one that never comes would hang for ever.
    (tmp_path / "c.yaml").write_text("control_socket: false\n")
    for argv in (["--config", str(tmp_path / "c.yaml")], ["--set", "control_socket=false"]):
        assert main(["dashboard", *argv, *set_args([*TINY, f"log_dir={tmp_path / 'logs'}"])]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: control_socket: false, but the dashboard is a client") and err.count("\n") == 1
    assert not (tmp_path / "logs").exists()
