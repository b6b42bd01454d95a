"""The sweep screen fed by a fixed study: rows, the best-so-far chart, importances on `i`, `q`
(marks, compare and enter: tests/test_sweep_screen_marks.py)."""

from __future__ import annotations

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from tests.conftest import wait_until
from tui.sweep_app import SweepApp
from tui.widgets.best_so_far_chart import BestSoFarChart
from tui.widgets.importance_panel import ImportancePanel
from tui.widgets.trials_table import TrialsTable

SPACE = {"training.learning_rate": FloatDistribution(1e-5, 1.0, log=True), "model.dropout": FloatDistribution(0.0, 0.5)}
TRIALS = [  # lr, dropout, state, best val, epochs, reason
    (0.001, 0.1, TrialState.COMPLETE, 0.90, 10, ""),
    (0.003, 0.3, TrialState.COMPLETE, 0.80, 10, ""),
    (1.0, 0.2, TrialState.PRUNED, 5.00, 1, "exploding — loss exploded (NaN, inf or above 10) at epoch 1"),
    (0.0001, 0.4, TrialState.COMPLETE, 0.95, 10, ""),
    (0.002, 0.0, TrialState.COMPLETE, 0.85, 10, ""),
    (0.0005, 0.2, TrialState.RUNNING, None, 4, ""),
]


def fixed_study() -> optuna.Study:
    study = optuna.create_study(study_name="fixed", direction="minimize")
    for n, (lr, dropout, state, best, epochs, reason) in enumerate(TRIALS):
        attrs = {"run_id": f"run-{n}", "epochs": epochs, "verdict": "ok", **({"prune_reason": reason} if reason else {})}
        if best is not None:
            attrs["best_val"] = best
        study.add_trial(create_trial(
            params={"training.learning_rate": lr, "model.dropout": dropout}, distributions=SPACE, state=state,
            value=best if state == TrialState.COMPLETE else None, user_attrs=attrs,
            intermediate_values={1: best} if state == TrialState.PRUNED else {}))
    return study


async def test_the_sweep_screen_shows_trials_best_so_far_and_importances(tmp_path):
    app = SweepApp(fixed_study(), str(tmp_path / "logs"))
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(TrialsTable)
        await wait_until(pilot, lambda: table.row_count == 6)
        assert [row.state for row in table.rows_shown] == ["complete", "complete", "pruned", "complete", "complete", "running"]
        assert str(table.get_row_at(2)[7]).startswith("exploding — loss exploded")
        assert str(table.get_row_at(2)[3]) == "learning_rate=1 dropout=0.2"
        assert app.screen.query_one(BestSoFarChart).points == [(0, 0.90), (1, 0.80), (2, 0.80), (3, 0.80), (4, 0.80)]
        await pilot.press("i")
        panel = app.screen.query_one(ImportancePanel)
        await wait_until(pilot, lambda: panel.display)
        assert "training.learning_rate" in panel.text and "model.dropout" in panel.text
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


async def test_q_closes_a_screen_that_only_watches_and_importances_wait_for_enough_trials(tmp_path):
    study = optuna.create_study(study_name="few", direction="minimize")
    app = SweepApp(study, str(tmp_path / "logs"))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("i")
        panel = app.screen.query_one(ImportancePanel)
        await wait_until(pilot, lambda: panel.display)
        assert panel.text == "importances need 4 complete trials (0 so far)"
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_value is None


async def test_q_stops_a_running_sweep_cleanly_its_running_trial_saved_and_stopped(tmp_path):
    from engine.commands.sweep import Sweep, SweepRequest, plan_sweep
    from engine.commands.trainer_setup import RunOptions
    from tests.run_helpers import ENDLESS, events
    from tests.test_sweep import write_config

    config = write_config(tmp_path, {"params": {"model.dropout": {"uniform": [0.0, 0.5]}}},
                          model={"hidden_size": 8, "num_layers": 1})
    plan = plan_sweep(SweepRequest(RunOptions(config=str(config), overrides=ENDLESS[-3:]), trials=3, study="q"))
    app = SweepApp(plan.study, plan.config.log_dir, Sweep(plan))
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(TrialsTable)
        await wait_until(pilot, lambda: table.rows_shown and table.rows_shown[0].epochs >= 1, tries=3000)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, tries=3000)
    trial = plan.study.get_trials()[0]
    assert len(plan.study.get_trials()) == 1 and trial.state == TrialState.FAIL
    assert trial.user_attrs["fail_reason"] == "stopped with the sweep (saved; resume it as any run)"
    log = events(tmp_path / "logs" / trial.user_attrs["run_id"])
    assert [e["reason"] for e in log if e["type"] == "checkpoint"][-1] == "manual"
    assert log[-1]["type"] == "run_end" and log[-1]["reason"] == "stopped"
