"""The sweep screen's marks and what it opens: `space` marks trials (the marks outlive the table's refresh), `c`
compares their runs, `enter` opens a trial's dashboard; leaving either comes back to the sweep, which goes on."""

from __future__ import annotations

import socket
import threading

import pytest
from optuna.trial import TrialState, create_trial

from engine.errors import InputError
from tests.conftest import wait_until
from tests.test_compare import write_run
from tests.test_sweep_screen import SPACE, TRIALS, fixed_study
from tui.client_exit import SIGTERM_EXIT
from tui.launch import replay_screen
from tui.screens.compare_screen import CompareScreen
from tui.screens.dashboard_screen import DashboardScreen
from tui.screens.sweep_screen import SweepScreen
from tui.sweep_app import SweepApp
from tui.widgets.trials_table import TrialsTable


class HeldSweep:
    """Stands in for a sweep that is still running: `run` lasts until `stop`, and every stop is counted."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.stops: list[bool] = []

    def run(self) -> list:
        self.stopped.wait()
        return []

    def stop(self, leave_running: bool = False) -> None:
        self.stops.append(leave_running)
        self.stopped.set()


@pytest.fixture
def trial_logs(tmp_path):
    """The finished trials' runs (0-4) as tiny logs under ./logs, each with its trial's lr and dropout; the running
    trial 5 has none."""
    for n, (lr, dropout, state, *_) in enumerate(TRIALS):
        if state != TrialState.RUNNING:
            write_run(tmp_path / "logs", f"run-{n}", epochs=5, training__learning_rate=lr, model__dropout=dropout)
    return tmp_path / "logs"


@pytest.fixture
def held_sweep():
    sweep = HeldSweep()
    yield sweep
    sweep.stopped.set()  # a failed test leaves no thread waiting


def sweep_screen(app) -> SweepScreen:
    return app.screen_stack[0]


def marks(table: TrialsTable) -> list[str]:
    """The mark column, row by row."""
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def status(app) -> str:
    return str(sweep_screen(app).query_one("#status").render())


async def test_space_marks_two_trials_c_compares_their_runs_and_enter_replays_a_finished_one(trial_logs, held_sweep):
    app = SweepApp(fixed_study(), "logs", held_sweep)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = sweep_screen(app)
        table = screen.query_one(TrialsTable)
        await wait_until(pilot, lambda: table.row_count == 6)
        await pilot.press("space", "down", "space")
        assert screen.marked == {0, 2} and table.cursor_row == 3
        assert marks(table) == ["●", " ", "●", " ", " ", " "]
        assert status(app).endswith("· 2 marked")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert [run.run_id for run in app.screen.runs] == ["run-0", "run-2"]
        assert app.screen.labels == ["lr 0.001 · dropout 0.1", "lr 1 · dropout 0.2"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.running and held_sweep.stops == []  # the sweep went on under the compare view
        table.move_cursor(row=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.screen.mode.badge == "replay" and app.screen.history.run.run_id == "run-1"
        assert sorted(app.screen.history.epochs) == [1, 2, 3, 4, 5]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert app.is_running and screen.running and held_sweep.stops == []
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        app._sigterm()  # SIGTERM closes the app even from a trial's dashboard (launch_sweep then stops the sweep)
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_value == SIGTERM_EXIT


async def test_marks_survive_the_periodic_refresh_as_trials_come_and_change(trial_logs):
    study = fixed_study()
    app = SweepApp(study, "logs")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = sweep_screen(app)
        table = screen.query_one(TrialsTable)
        await wait_until(pilot, lambda: table.row_count == 6)
        table.move_cursor(row=3)
        await pilot.press("space", "space")
        assert screen.marked == {3, 4}
        study.add_trial(create_trial(params={"training.learning_rate": 0.01, "model.dropout": 0.1}, distributions=SPACE,
                                     state=TrialState.COMPLETE, value=0.7, user_attrs={"run_id": "run-6", "epochs": 3}))
        await wait_until(pilot, lambda: table.row_count == 7)  # the refresh rebuilt every row
        assert marks(table) == [" ", " ", " ", "●", "●", " ", " "]
        await pilot.press("space")  # the cursor is on trial 5: a third mark
        assert marks(table)[5] == "●" and status(app).endswith("· 3 marked")
        table.move_cursor(row=3)
        await pilot.press("space")
        assert screen.marked == {4, 5} and marks(table)[3] == " "


async def test_a_trial_without_a_run_is_skipped_with_a_notice_and_q_in_the_compare_view_comes_back(trial_logs, held_sweep):
    study = fixed_study()
    study.add_trial(create_trial(params={"training.learning_rate": 0.01, "model.dropout": 0.1}, distributions=SPACE,
                                 state=TrialState.RUNNING, user_attrs={}))  # asked for, its run not started yet
    app = SweepApp(study, "logs", held_sweep)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = sweep_screen(app)
        table = screen.query_one(TrialsTable)
        await wait_until(pilot, lambda: table.row_count == 7)
        table.move_cursor(row=4)
        await pilot.press("space", "space", "space", "c")  # trials 4, 5 (no log on disk) and 6 (no run yet)
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert [run.run_id for run in app.screen.runs] == ["run-4"]
        notices = [n.message for n in app._notifications]
        assert "trial 6: no run yet; skipped" in notices
        assert any(n.startswith("trial 5: run-5: no such run") for n in notices)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.screen is screen)
        assert app.is_running and screen.running and held_sweep.stops == []
        await pilot.press("q")  # on the sweep screen, q stops the sweep and closes
        await wait_until(pilot, lambda: not app.is_running)
    assert held_sweep.stops == [False]


async def test_enter_attaches_to_a_running_trial_and_a_run_that_ended_meanwhile_is_a_notice(trial_logs, monkeypatch):
    write_run(trial_logs, "run-5", epochs=4, ended=False, training__learning_rate=0.0005, model__dropout=0.2)
    attached, ended = [], []

    def attach_screen(path, log_dir="logs"):
        attached.append(path)
        if ended:
            raise InputError(path, "not live (the run ended or crashed; see `stockpred-tui runs`)")
        return replay_screen(path)  # stands in for the live dashboard: no trainer here

    monkeypatch.setattr("tui.launch.attach_screen", attach_screen)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("logs/run-5/control.sock")  # answers like a live run's control server (cwd: tmp_path)
    listener.listen()
    try:
        app = SweepApp(fixed_study(), "logs")
        async with app.run_test(size=(140, 40)) as pilot:
            screen = sweep_screen(app)
            table = screen.query_one(TrialsTable)
            await wait_until(pilot, lambda: table.row_count == 6)
            table.move_cursor(row=5)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            assert attached == ["logs/run-5"] and app.screen.history.run.run_id == "run-5"
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)
            ended.append(True)
            await pilot.press("enter")
            await wait_until(pilot, lambda: any(n.message.startswith("cannot open run-5: logs/run-5: not live")
                                                for n in app._notifications))
            assert app.screen is screen and app.is_running and len(attached) == 2
    finally:
        listener.close()


async def test_the_footer_at_80_columns_and_the_help_show_the_new_keys(trial_logs):
    app = SweepApp(fixed_study(), "logs")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = sweep_screen(app)
        await wait_until(pilot, lambda: screen.query_one(TrialsTable).row_count == 6)
        def footer() -> str:
            return "".join(segment.text for segment in screen._compositor.render_strips()[-1])

        await wait_until(pilot, lambda: footer().strip())
        assert footer().startswith(" ⏎ open  space mark  c compare  q stop sweep  l leave  i importances")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        text = str(app.screen.query_one("Static").render())
        assert "space            Mark or unmark the trial under the cursor, then move the cursor down" in text
        assert "c                Compare the marked trials' runs (none marked: the one under the cursor)" in text
        assert "⏎                Open the trial's dashboard: attached while it runs, else a replay" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
