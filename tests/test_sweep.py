"""`stockpred-tui sweep`: tiny trials on synthetic data, each an ordinary run, pruned by the median rule or by diagnosis."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from engine.commands.sweep_prune import HealthPruning
from engine.commands.sweep_study import open_storage
from engine.commands.sweep_trial import leads
from engine.sweep_config import PruneConfig
from tests.histories import epoch, history_of, start
from tests.run_helpers import events
from tui.cli import main

# lr 1.0 on this 2-layer model sends the first epoch's val loss far above 10: the exploding rule's critical case.
BASE = {"data": {"source": "synthetic", "synthetic": {"days": 400}, "window": 8, "volatility_window": 5},
        "model": {"hidden_size": 128, "num_layers": 2}, "training": {"batch_size": 64, "epochs": 4, "grad_clip": 0.0},
        "step_event_interval_s": 0.0, "threads": 1}
SPACE = {"training.learning_rate": {"choice": [0.003, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}}


def write_config(tmp_path: Path, sweep: dict, **changes) -> Path:
    """A tiny sweep config under tmp_path, its runs and study in tmp_path/logs."""
    config = {**BASE, **changes, "log_dir": str(tmp_path / "logs"), "sweep": sweep}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def study_trials(tmp_path: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=open_storage(None, tmp_path / "logs")).get_trials()


def test_six_trials_two_at_a_time_are_six_runs_and_the_exploding_one_is_pruned_with_its_reason(tmp_path, capsys):
    sweep = {"params": SPACE, "sampler_seed": 1, "prune": {"median": {"startup_trials": 2, "warmup_epochs": 2}}}
    config = write_config(tmp_path, sweep)
    assert main(["sweep", "--config", str(config), "--trials", "6", "--jobs", "2", "--study", "s", "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    trials = study_trials(tmp_path, "s")
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.is_finished() and t.state != optuna.trial.TrialState.FAIL for t in trials)
    runs = sorted(p.parent for p in (tmp_path / "logs").glob("*/events.jsonl"))
    assert len(runs) == 6 and sorted(t.user_attrs["run_id"] for t in trials) == [p.name for p in runs]
    exploded = [t for t in trials if t.params["training.learning_rate"] == 1.0]
    assert exploded and all(t.state == optuna.trial.TrialState.PRUNED for t in exploded)
    assert all(t.user_attrs["prune_reason"].startswith("exploding — loss exploded") for t in exploded)
    assert all(t.user_attrs["epochs"] < 4 for t in exploded)  # stopped early, not trained to the end
    first = exploded[0]
    start = next(e for e in events(tmp_path / "logs" / first.user_attrs["run_id"]) if e["type"] == "run_start")
    assert start["trial"] == {"study": "s", "number": first.number} == start["config"]["trial"]
    assert start["config"]["training"]["learning_rate"] == 1.0
    ended = next(e for e in events(tmp_path / "logs" / first.user_attrs["run_id"]) if e["type"] == "run_end")
    assert ended["reason"] == "stopped" and ended["source"].startswith("sweep: pruned via sweep pid ")
    line = next(text for text in out if text.startswith(f"trial {first.number} pruned after "))
    assert "pruned: exploding — loss exploded" in line and len(out) == 8  # a head, 6 trials, the summary
    assert out[-1].startswith("study s in ") and "6 trials (" in out[-1]


def test_two_sweep_processes_sharing_one_storage_run_disjoint_trials(tmp_path):
    sweep = {"params": {"model.dropout": {"uniform": [0.0, 0.5]}}, "prune": {"median": {"enabled": False}}}
    config = write_config(tmp_path, sweep, model={"hidden_size": 8, "num_layers": 1}, training={"batch_size": 64, "epochs": 1})
    argv = [sys.executable, "-m", "tui.cli", "sweep", "--config", str(config), "--trials", "2", "--study", "shared", "--headless"]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    numbers = [{int(line.split()[1]) for line in out.splitlines() if line.startswith("trial ")} for out in outputs]
    assert len(numbers[0]) == len(numbers[1]) == 2 and not numbers[0] & numbers[1]
    trials = study_trials(tmp_path, "shared")
    assert sorted(t.number for t in trials) == sorted(numbers[0] | numbers[1]) == [0, 1, 2, 3]
    assert len({t.user_attrs["run_id"] for t in trials}) == 4


@pytest.mark.parametrize("sweep, message", [
    ({"params": {"training.lr": {"log_uniform": [1e-5, 1e-1]}}},
     "sweep.params: 'training.lr' is not a setting a trial can vary (did you mean 'training.learning_rate'?)"),
    ({"params": {"model.dropout": {"uniform": [0.0, 1.5]}}},
     "sweep.params: model.dropout: Input should be less than or equal to 0.95 (got 1.5)"),
    ({"params": {"model.dropout": {"between": [0.0, 0.5]}}}, "unknown key 'sweep.params.model.dropout.between'"),
    ({"params": {"training.learning_rate": {"log_uniform": [0, 0.1]}}}, "log_uniform: low must be above 0"),
    ({"params": {}}, "sweep.params: nothing to search"),
    ({"params": SPACE, "prune": {"health": ["exploded"]}}, "sweep.prune.health: no health rule is called 'exploded'"),
])
def test_a_bad_sweep_section_is_one_line_and_starts_nothing(tmp_path, capsys, sweep, message):
    config = write_config(tmp_path, sweep)
    assert main(["sweep", "--config", str(config), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {config}: ") and message in err, err
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").iterdir())


def test_a_warning_prunes_once_it_persists_and_a_critical_finding_at_once():
    history, verdicts = history_of([start()]), []
    pruning = HealthPruning(PruneConfig(health=["instability"], warning_epochs=3))
    for n in range(1, 6):  # steps 50x the healthy update/weight ratio: the rule warns from epoch 3 on
        history.apply(epoch(n, 1.0 - 0.01 * n, 1.0 - 0.01 * n, update=0.05))
        verdicts.append(pruning.judge(history))
    assert verdicts[:4] == [None] * 4 and verdicts[4].startswith("instability — unstable") and "(for 3 epochs)" in verdicts[4]
    assert HealthPruning(PruneConfig(health=["exploding"])).judge(history) is None  # not a rule it was told to prune by
    assert pruning.judge(history.upto(4)) is None  # an epoch judged already is not judged again
    nan = history_of([start(), epoch(1, 1.0, 1.0), epoch(2, float("nan"), float("nan"))])
    assert HealthPruning(PruneConfig(health=["exploding"])).judge(nan).startswith("exploding — loss exploded")
    assert HealthPruning(PruneConfig(health=[])).judge(nan) is None


def test_a_held_warning_spares_a_trial_that_leads_but_a_critical_finding_does_not():
    """The same hot trial (update/weight ratio 50x healthy from epoch 3): pruned after 3 warned epochs while it trails
    the other trials, spared while it leads; `spare_leaders: false` prunes it either way; NaN prunes a leader too."""
    def verdicts(leads: bool, spare: bool = True) -> list:
        history, pruning = history_of([start()]), HealthPruning(PruneConfig(health=["instability", "exploding"],
                                                                            warning_epochs=3, spare_leaders=spare))
        said = []
        for n in range(1, 6):
            history.apply(epoch(n, 1.0 - 0.01 * n, 1.0 - 0.01 * n, update=0.05))
            said.append(pruning.judge(history, leads=lambda: leads))
        return said

    assert verdicts(leads=False)[4].startswith("instability — unstable")
    assert verdicts(leads=True) == [None] * 5
    assert verdicts(leads=True, spare=False)[4].startswith("instability — unstable")
    nan = history_of([start(), epoch(1, 1.0, 1.0), epoch(2, float("nan"), float("nan"))])
    assert HealthPruning(PruneConfig(health=["exploding"])).judge(nan, leads=lambda: True).startswith("exploding — loss exploded")


def test_a_trial_leads_when_its_val_beats_the_median_of_the_others_at_that_epoch():
    study = optuna.create_study()
    for values in ({1: 1.0, 2: 0.9}, {1: 2.0, 2: 1.8}, {1: 3.0}):
        trial = study.ask()
        for step, value in values.items():
            trial.report(value, step)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    current = study.ask()
    assert leads(current, 1, 1.9) and not leads(current, 1, 2.0)  # median of 1.0, 2.0, 3.0 is 2.0
    assert leads(current, 2, 1.3) and not leads(current, 2, 1.4)  # median of 0.9, 1.8 is 1.35
    assert leads(current, 3, 99.0)  # nobody else got to epoch 3: nothing to trail
