"""The chart's numbers: skill against each split's own baseline, per-split baselines, log-y, EMA, sparkline ranges."""


import numpy as np
import pytest

from tests import histories
from tui.widgets.chart_view import SKILL_FLOOR, ChartMode, chart_data
from tui.widgets.loss_sparklines import spark_label

# The bundled default's regime: train sits near 1.34 and val near 0.69, each just under its own baseline.
DEFAULT_BASELINES = {"train": {"reg": 1.0, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 8198},
                     "val": {"reg": 0.35, "clf": 0.69, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1700}}


def near_baseline_run(epochs=6):
    events = [histories.start(baselines=DEFAULT_BASELINES)]
    return events + [histories.epoch(n, 1.345 - 0.001 * n, 0.6949 - 0.0004 * n) for n in range(1, epochs + 1)]


def lines(data):
    return {line.label: line for line in data.lines}


def test_skill_puts_both_splits_on_one_scale_against_their_own_baselines():
    data = chart_data(histories.history_of(near_baseline_run()), ChartMode("skill"))
    drawn = lines(data)
    train_base, val_base = 1.0 + 0.5 * 0.69, 0.35 + 0.5 * 0.69
    assert drawn["train"].y[-1] == pytest.approx(1 - (1.345 - 0.006) / train_base)
    assert drawn["val"].y[-1] == pytest.approx(1 - (0.6949 - 0.0024) / val_base)
    # Both near zero and apart from each other: a shared loss axis would have drawn them 0.65 apart as flat lines.
    assert abs(drawn["train"].y[-1]) < 0.01 and abs(drawn["val"].y[-1]) < 0.01
    assert drawn["train"].y[-1] != pytest.approx(drawn["val"].y[-1], abs=1e-4)
    assert list(drawn["baseline"].y) == [0.0] * 6 and data.ylabel == "skill"


def test_loss_view_draws_each_splits_baseline_in_its_colour():
    drawn = lines(chart_data(histories.history_of(near_baseline_run()), ChartMode("loss")))
    assert drawn["train baseline"].y[0] == pytest.approx(1.345) and drawn["train baseline"].color == drawn["train"].color
    assert drawn["val baseline"].y[0] == pytest.approx(0.695) and drawn["val baseline"].color == drawn["val"].color
    assert drawn["val baseline"].dotted and not drawn["val"].dotted


def test_log_y_and_ema_change_the_numbers_and_say_so_in_the_title():
    history = histories.history_of(histories.healthy_run(10))
    raw = lines(chart_data(history, ChartMode("loss")))["train"].y
    logged = lines(chart_data(history, ChartMode("loss", log_y=True)))["train"].y
    assert np.allclose(logged, np.log10(raw))
    smooth = lines(chart_data(history, ChartMode("loss", smooth=True)))["train"].y
    assert smooth[0] == pytest.approx(raw[0]) and smooth[-1] > raw[-1]  # debiased EMA lags a falling curve
    assert ChartMode("skill", smooth=True).title(True).startswith("EMA 0.6 · skill")
    assert ChartMode("skill").title(True).startswith("raw · skill = 1 − loss/base")
    assert ChartMode("loss", log_y=True).title(True) == "raw · log loss · ··· baselines"
    # Title plus the clipping note fit the chart at 80 columns (about 46 cells wide).
    assert len(ChartMode("skill", smooth=True).title(True) + " · floor −1") <= 46


def test_a_fast_descent_is_clipped_at_minus_one_skill_not_squashed():
    events = [histories.start()] + [histories.epoch(n, 6.0 / n, 5.0 / n) for n in range(1, 11)]
    data = chart_data(histories.history_of(events), ChartMode("skill"))
    drawn = lines(data)
    assert data.clipped and drawn["train"].y.min() == SKILL_FLOOR
    assert drawn["val"].y[-1] == pytest.approx(1 - 0.5 / 1.34655, abs=1e-4)


def test_without_baselines_the_skill_view_falls_back_to_loss():
    events = [histories.start(baselines={})] + [histories.epoch(n, 1.0, 1.1) for n in (1, 2)]
    data = chart_data(histories.history_of(events), ChartMode("skill"))
    assert data.ylabel == "loss" and set(lines(data)) == {"train", "val"}
    assert ChartMode("skill").title(False) == "raw · loss"


def test_sparkline_labels_carry_their_range():
    assert spark_label("train", [1.2971, 1.2640, 1.2655]) == "train 1.2655 1.264–1.297"
    assert spark_label("step", []) == "step  -"
    assert spark_label("val", [0.69]) == "val   0.6900 flat"  # one value: full bars mean nothing
