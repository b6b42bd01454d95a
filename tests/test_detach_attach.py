"""End to end: `train --detach`, a Pilot-driven `attach` that pauses, sets lr and detaches, a second attach that sees it and stops."""

import json

import pytest

from tests.conftest import wait_until
from tests.run_helpers import ENDLESS, events, kill_quietly, only_run_dir, pid_alive, set_args, trainer_pid, wait_for
from tui.cli import main
from tui.launch import attach_app

SIZE = (100, 30)


async def test_detach_then_attach_steer_detach_and_stop_from_a_second_attach(tmp_path, capsys):
    logs = tmp_path / "logs"
    assert main(["train", "--detach", *set_args([*ENDLESS, f"log_dir={logs}"])]) == 0
    printed = capsys.readouterr().out
    run_dir = only_run_dir(logs)
    assert run_dir is not None and f"stockpred-tui attach {run_dir.name}" in printed
    pid = trainer_pid(run_dir)
    try:
        app = attach_app(None, str(logs))  # the newest live run
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.dashboard.history.epochs)
            await pilot.press("space")
            await wait_until(pilot, lambda: app.dashboard.history.state == "paused")
            await pilot.press("equals_sign")
            await wait_until(pilot, lambda: app.dashboard.history.hparams["lr"] == pytest.approx(0.00125))
            assert "PAUSED" in str(app.query_one("#header").render())
            await pilot.press("q", "d")
            await wait_until(pilot, lambda: not app.is_running)
        assert app.dashboard.mode.detached and pid_alive(pid)
        first_client = next(e["source"] for e in events(run_dir) if e["type"] == "hparam")
        assert first_client.startswith("attach pid ")

        again = attach_app(run_dir.name, str(logs))
        async with again.run_test(size=SIZE) as pilot:
            change = again.dashboard.history.changes[-1]  # from the backlog, before any live event
            assert (change.name, change.new, change.source) == ("lr", 0.00125, first_client)
            assert again.dashboard.history.state == "paused"
            await pilot.press("q", "n")
            await wait_until(pilot, lambda: again.dashboard.history.state == "ended")
        wait_for(lambda: not pid_alive(pid), "the background process exits after the stop")
    finally:
        kill_quietly(pid)
    logged = events(run_dir)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "stopped"
    assert logged[-1]["source"].startswith("attach pid ")
    notes = [e["what"] for e in logged if e["type"] == "note" and e["source"].startswith("attach pid ")]
    assert notes.count("client attached") == 2 and notes.count("client detached") >= 1
    assert not (run_dir / "control.sock").exists()


def test_detach_returns_before_the_data_load_and_a_data_error_lands_in_the_run(tmp_path, capsys):
    """`--detach` returns once the socket answers; a bad CSV then ends the run as error, in console.log and `runs`."""
    bad = tmp_path / "prices.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\n")
    logs = tmp_path / "logs"
    assert main(["train", "--detach", "--data", str(bad), *set_args([f"log_dir={logs}"])]) == 0
    run_dir = only_run_dir(logs)
    assert f"stockpred-tui attach {run_dir.name}" in capsys.readouterr().out
    ended = wait_for(lambda: [e for e in events(run_dir) if e["type"] == "run_end"], "the run ends")[0]
    message = next(e["message"] for e in events(run_dir) if e["type"] == "error")
    assert ended["reason"] == "error" and str(bad) in message
    wait_for(lambda: f"error: {message}" in (run_dir / "console.log").read_text(), "console.log says why")
    assert main(["runs", "--json", "--log-dir", str(logs)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert json.dumps(listed).count(message) >= 1 and "error" in json.dumps(listed)
