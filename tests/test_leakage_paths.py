"""The leak rule's two paths, each alone: too-high direction accuracy with plausible skill, and the mirror case."""

import pytest

from engine.health import baseline as S
from tests.histories import epoch, history_of, start

# What the run's data summary says for the bundled prices and for a CSV of the user's (both real daily prices).
REAL_SOURCES = ["bundled Quandl WIKI (AAPL, IBM, MSFT, GOOG, FB)", "prices/daily.csv"]
# The README's bounds (the health table's leakage row), not the thresholds module: a drifted threshold must fail here.
PROMISED_ACCURACY_LOW = 0.60
PROMISED_SKILL_LOW = 0.10


def last_epoch_scoring(source: str, val_loss: float, val_acc: float):
    """Three epochs on real prices, the last with this validation loss and direction accuracy (n=1600 windows)."""
    events = [start(source=source)] + [epoch(n, 1.30, val_loss) for n in range(1, 4)]
    events[-1].val_acc = val_acc
    history = history_of(events)
    return history, history.rows()[-1]


@pytest.mark.parametrize("source", REAL_SOURCES)
def test_accuracy_far_above_published_models_warns_on_its_own(source):
    history, last = last_epoch_scoring(source, val_loss=1.30, val_acc=0.70)
    skill_low = S.skill_interval(history, last)[1]
    accuracy_low = S.accuracy_interval(history, last)[1]
    assert 0 < skill_low < PROMISED_SKILL_LOW  # a modest, plausible skill: only the accuracy path can fire
    assert accuracy_low == pytest.approx(0.677, abs=1e-3) and accuracy_low > PROMISED_ACCURACY_LOW
    finding = S.leakage(history)
    assert finding.severity == "warning" and "check for leaked features" in finding.message
    assert "direction accuracy 70.0% (95% lower bound 67.7%, n=1600)" in finding.message
    assert "skill" not in finding.message and finding.evidence == {"source": source, "val_acc": 0.7, "acc_low": 0.6771}


@pytest.mark.parametrize("source", REAL_SOURCES)
def test_skill_far_above_published_models_warns_on_its_own(source):
    history, last = last_epoch_scoring(source, val_loss=0.90, val_acc=0.53)
    skill, skill_low = S.skill_interval(history, last)[:2]
    assert S.accuracy_interval(history, last)[1] < PROMISED_ACCURACY_LOW  # plausible accuracy: only the skill path can fire
    assert skill_low == pytest.approx(0.300, abs=1e-3) and skill_low > PROMISED_SKILL_LOW
    finding = S.leakage(history)
    assert finding.severity == "warning" and "check for leaked features" in finding.message
    assert f"skill {skill:+.1%} (95% lower bound +30.0%)" in finding.message
    assert "direction accuracy" not in finding.message and set(finding.evidence) == {"source", "skill", "skill_low"}


def test_plausible_accuracy_and_skill_pass():
    history, _ = last_epoch_scoring(REAL_SOURCES[0], val_loss=1.30, val_acc=0.53)
    finding = S.leakage(history)
    assert finding.severity == "ok" and finding.message == "accuracy and skill within what daily price models reach"
