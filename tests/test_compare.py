"""Comparing runs without the UI: legends from differing config keys, curves, the aligned table, `compare --csv`."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.commands.compare import aligned_table, curve, differing_keys, gather, legend_labels, load_run, run_stats
from engine.commands.runs import summarize_history
from engine.config import load_config
from engine.events import HyperparamChanged, RunEnded, RunStarted
from tests.histories import BASELINES, epoch, held_out
from tests.test_logs import write_log
from tui.cli import main

KERAS = "epoch,loss,val_loss,val_accuracy\n0,1.2,1.25,0.51\n1,1.1,1.2,0.52\n2,1.0,1.18,0.53\n"


def run_events(run_id: str, epochs: int = 20, ended: bool = True, start_time: float = 1_764_000_000.0,
               slope: float = 0.003, test_skill: float | None = None, **overrides) -> list:
    """A deterministic run whose config differs from the defaults by `overrides` (dotted keys, '.' as '__')."""
    config = load_config(None, [f"{k.replace('__', '.')}={v}" for k, v in overrides.items()]).model_dump()
    training, model = config["training"], config["model"]
    events = [RunStarted(run_id, config, {"source": "synthetic", "notices": []}, BASELINES, "cpu", 1000, time=start_time)]
    events += [epoch(n, 1.30 - slope * n, 1.305 - slope * n, total=training["epochs"], lr=training["learning_rate"],
                     dropout=model["dropout"]) for n in range(1, epochs + 1)]
    if ended and test_skill is not None:
        events.append(held_out(epochs, epochs * 32, skill=test_skill))
    if ended:
        events.append(RunEnded("completed", epochs, epochs * 32, 1.305 - slope * epochs, time=start_time + epochs))
    return events


def write_run(root, run_id: str, **kwargs):
    """A run directory under `root` holding events.jsonl of `run_events`."""
    path = root / run_id
    path.mkdir(parents=True)
    write_log(path / "events.jsonl", run_events(run_id, **kwargs))
    return path


def test_legend_names_exactly_the_keys_that_differ(tmp_path):
    paths = [write_run(tmp_path, "run-a", training__learning_rate=0.001, model__dropout=0.3),
             write_run(tmp_path, "run-b", training__learning_rate=0.002, model__dropout=0.35),
             write_run(tmp_path, "run-c", training__learning_rate=0.002, model__dropout=0.3)]
    runs = [load_run(p) for p in paths]
    assert differing_keys([r.history.config for r in runs]) == ["training.learning_rate", "model.dropout"]
    assert legend_labels(runs) == ["lr 0.001 · dropout 0.3", "lr 0.002 · dropout 0.35", "lr 0.002 · dropout 0.3"]
    # Only two runs: dropout is the same in both, so it is not named.
    assert legend_labels([runs[0], runs[2]]) == ["lr 0.001", "lr 0.002"]


def test_legend_ignores_logging_settings_and_falls_back_to_ids(tmp_path):
    paths = [write_run(tmp_path, "run-a", log_dir="a", step_event_interval_s=0.1, seed=1),
             write_run(tmp_path, "run-b", log_dir="b", step_event_interval_s=0.5, seed=2),
             write_run(tmp_path, "run-c", log_dir="c", seed=2)]
    keras = tmp_path / "keras_run.csv"
    keras.write_text(KERAS)
    runs = [load_run(p) for p in [*paths, keras]]
    assert legend_labels(runs) == ["seed 1", "seed 2 · run-b", "seed 2 · run-c", "keras_run"]
    assert legend_labels(runs[1:3]) == ["run-b", "run-c"]


def test_curves_per_metric_and_axis(tmp_path):
    run = load_run(write_run(tmp_path, "run-a", epochs=5, training__learning_rate=0.002))
    x, y = curve(run.history, "val_loss")
    assert x.tolist() == [1, 2, 3, 4, 5] and y[0] == pytest.approx(1.302)
    baseline = BASELINES["val"]["reg"] + 0.5 * BASELINES["val"]["clf"]
    assert curve(run.history, "skill")[1][0] == pytest.approx(1 - 1.302 / baseline)
    assert curve(run.history, "lr")[1].tolist() == [0.002] * 5
    assert curve(run.history, "val_loss", by="time")[0].tolist() == pytest.approx([3.2, 6.4, 9.6, 12.8, 16.0])
    smooth = curve(run.history, "val_loss", ema=True)[1]
    assert smooth[0] == pytest.approx(1.302) and smooth[-1] > y[-1]  # the EMA lags a falling curve


def test_stats_name_the_best_epoch_with_its_skill_interval(tmp_path):
    events = run_events("run-a", epochs=10)
    events[7].val_loss = 1.0  # epoch 7 is the best
    path = tmp_path / "run-a"
    path.mkdir()
    write_log(path / "events.jsonl", events)
    stats = run_stats(load_run(path))
    assert (stats.best_val, stats.best_epoch, stats.val_acc) == (1.0, 7, 0.53)
    assert stats.skill_low < stats.skill < stats.skill_high
    assert stats.samples_per_s == 2500.0 and stats.duration_s == pytest.approx(32.0) and stats.verdict


def test_the_held_out_test_skill_reaches_the_summary_the_stats_and_the_tables(tmp_path):
    from tui.widgets.compare_table import interval_text

    scored = load_run(write_run(tmp_path, "run-a", epochs=4, test_skill=0.031))
    unscored = load_run(write_run(tmp_path, "run-b", epochs=4))
    stats = run_stats(scored)
    assert scored.summary.test_skill == 0.031 and scored.summary.to_dict()["test_skill"] == 0.031
    assert (stats.test_skill, stats.test_low, stats.test_high) == pytest.approx((0.031, 0.006, 0.056))
    assert interval_text(stats.test_skill, stats.test_low, stats.test_high) == "+3.1% (+0.6…+5.6)"
    assert unscored.summary.test_skill is None and run_stats(unscored).test_low is None


def test_browser_and_compare_view_agree_on_skill_and_verdict_after_a_clf_weight_change(tmp_path):
    # clf_weight 0.5 -> 0.9 after the best epoch (10): skill there is weighted with that epoch's 0.5, not the current 0.9.
    events = run_events("run-a", epochs=10, ended=False)
    events.append(HyperparamChanged("clf_weight", 0.5, 0.9, 10, 320, time=0.0))
    events.append(epoch(11, 1.40, 1.40, clf_weight=0.9))
    path = tmp_path / "run-a"
    path.mkdir()
    write_log(path / "events.jsonl", events)
    run = load_run(path)
    summary, stats = summarize_history(run.history, path, live=False), run_stats(run)
    expected = 1 - 1.275 / (BASELINES["val"]["reg"] + 0.5 * BASELINES["val"]["clf"])
    assert summary.best_epoch == stats.best_epoch == 10
    assert summary.skill == pytest.approx(expected) and stats.skill == pytest.approx(expected)
    assert summary.finding == stats.verdict == "ok"  # no warning reads the same in the browser and the compare view


def test_aligned_table_has_one_row_per_run_and_epoch_with_gaps_for_foreign_logs(tmp_path):
    keras = tmp_path / "keras_run.csv"
    keras.write_text(KERAS)
    runs = [load_run(write_run(tmp_path, "run-a", epochs=4)), load_run(keras)]
    table = aligned_table(runs)
    assert table.groupby("run").size().to_dict() == {"keras_run": 3, "run-a": 4}
    keras_rows = table[table.run == "keras_run"]
    assert keras_rows.val_acc.tolist() == [0.51, 0.52, 0.53] and keras_rows.skill.isna().all()
    assert keras_rows.wall_s.isna().all() and keras_rows.lr.isna().all()
    assert table[table.run == "run-a"].wall_s.tolist() == pytest.approx([3.2, 6.4, 9.6, 12.8])


def test_gather_reports_what_is_not_a_run_and_keeps_the_rest(tmp_path):
    write_run(tmp_path / "logs", "run-a")
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    runs, problems = gather(tmp_path / "logs", [str(bad), str(tmp_path / "logs" / "run-a")])
    assert [r.run_id for r in runs] == ["run-a"]
    assert len(problems) == 1 and problems[0].startswith(f"{bad}: not a training log")


def test_compare_csv_writes_the_table_and_refuses_to_overwrite(tmp_path, capsys):
    a, b = write_run(tmp_path, "run-a", epochs=3), write_run(tmp_path, "run-b", epochs=5, model__dropout=0.4)
    out = tmp_path / "table.csv"
    assert main(["compare", str(a), str(b), "--csv", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 8 and set(table.label) == {"dropout 0.3", "dropout 0.4"}
    assert main(["compare", str(a), str(b), "--csv", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main(["compare", str(a), "--csv", str(out), "--force"]) == 0 and len(pd.read_csv(out)) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".table")] == []


def test_compare_of_a_path_that_is_not_a_run_is_one_line_and_exit_2(tmp_path, capsys):
    a = write_run(tmp_path, "run-a", epochs=3)
    assert main(["compare", str(a), str(tmp_path / "missing"), "--csv", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing: file not found" in err and not (tmp_path / "t.csv").exists()


def test_skill_is_nan_without_a_baseline(tmp_path):
    keras = tmp_path / "k.csv"
    keras.write_text(KERAS)
    assert math.isnan(aligned_table([load_run(keras)]).skill.iloc[0])


def test_runs_browser_needs_a_log_directory_or_paths(tmp_path, capsys):
    assert main(["runs", "--tui", "--log-dir", str(tmp_path / "nowhere")]) == 2
    assert main(["runs", "--log-dir", str(tmp_path), str(tmp_path / "k.csv")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {tmp_path / 'nowhere'}: no such log directory",
                   f"error: {tmp_path / 'k.csv'}: extra paths are listed only in the browser: add --tui"]
