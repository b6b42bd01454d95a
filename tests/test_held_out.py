"""The held-out test split: scored once per run from the best checkpoint on disk, windows that never touch val or
train, the strategy reading on a hand-made price series, and the leakage rule's second look."""

import math
import os

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.data.dataset import SPLITS, prepare_data
from engine.data.direction_strategy import strategy_reading
from engine.events import EndReason, EpochEvent, TestEvaluation
from engine.health.baseline import leakage
from engine.store.checkpoint import load_checkpoint
from engine.store.history import History
from engine.training.test_evaluation import held_out_evaluation, score_checkpoint
from engine.training.trainer import Trainer
from tests.histories import epoch, history_of, start

# Val loss falls to epoch 4 and rises after: best.pt (epoch 4) and last.pt (epoch 6) hold different weights.
BEST_BEFORE_LAST = ("training.epochs=6", "training.early_stopping.enabled=false", "training.learning_rate=0.05")


def train(config, sinks=()):
    events = []
    trainer = Trainer(config, prepare_data(config), sinks=[events.append, *sinks])
    trainer.run()
    return trainer, events


def checkpoints(trainer):
    return trainer.run_dir / "checkpoints"


def test_the_test_event_comes_once_from_the_best_checkpoint(tiny):
    trainer, events = train(tiny(*BEST_BEFORE_LAST))
    tests = [e for e in events if isinstance(e, TestEvaluation)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    best_epoch = min(epochs, key=lambda e: e.val_loss).epoch
    assert len(tests) == 1 and best_epoch < epochs[-1].epoch  # the run is one where best and last differ
    test = tests[0]
    assert test.checkpoint == str(checkpoints(trainer) / "best.pt") and test.checkpoint_epoch == best_epoch
    data = trainer.data
    best = score_checkpoint(load_checkpoint(checkpoints(trainer) / "best.pt"), data, "test", "best")
    last = score_checkpoint(load_checkpoint(checkpoints(trainer) / "last.pt"), data, "test", "last")
    assert test.total["loss"] == pytest.approx(best["total"]["loss"], rel=1e-9)
    assert test.total["loss"] != pytest.approx(last["total"]["loss"], rel=1e-6)
    assert test.total["windows"] == len(data.ends["test"]) == sum(t["windows"] for t in test.tickers.values())
    assert [e.kind for e in events[-2:]] == ["test", "run_end"]


def test_with_best_and_last_swapped_on_disk_the_event_scores_the_file_named_best(tiny):
    """The evaluation loads best.pt from disk rather than reusing the weights in memory: swapped just before it
    runs, it scores what was the last epoch's checkpoint."""
    def swap_at_the_final_save(event):
        if event.kind == "checkpoint" and event.reason == "completed":
            folder = os.path.dirname(event.path)
            os.replace(os.path.join(folder, "best.pt"), os.path.join(folder, "swap.pt"))
            os.replace(event.path, os.path.join(folder, "best.pt"))
            os.replace(os.path.join(folder, "swap.pt"), event.path)

    trainer, events = train(tiny(*BEST_BEFORE_LAST), sinks=[swap_at_the_final_save])
    test = next(e for e in events if isinstance(e, TestEvaluation))
    now_best = score_checkpoint(load_checkpoint(checkpoints(trainer) / "best.pt"), trainer.data, "test", "best")
    assert test.checkpoint_epoch == 6 and test.total["loss"] == pytest.approx(now_best["total"]["loss"], rel=1e-9)


def test_an_early_stopped_run_is_scored_once_and_the_history_keeps_it(tiny):
    trainer, events = train(tiny("training.epochs=40", "training.early_stopping.patience=2", "training.learning_rate=0.05"))
    stop = next(e for e in events if e.kind == "early_stop")
    tests = [e for e in events if isinstance(e, TestEvaluation)]
    assert len(tests) == 1 and tests[0].checkpoint_epoch == stop.best_epoch
    history = History()
    for event in events:
        history.apply(event)
    assert history.test is tests[0]


@pytest.mark.parametrize("reason", [EndReason.DIVERGED, EndReason.ERROR, EndReason.INTERRUPTED])
def test_no_test_event_after_a_failure_or_an_interrupt(tiny, reason):
    trainer, _ = train(tiny("training.epochs=1"))
    assert held_out_evaluation(trainer.run_dir, trainer.data, EndReason.COMPLETED, 1, 1) is not None
    assert held_out_evaluation(trainer.run_dir, trainer.data, reason, 1, 1) is None


def test_no_test_event_without_a_best_checkpoint(tiny):
    trainer, _ = train(tiny("training.epochs=1"))
    (checkpoints(trainer) / "best.pt").unlink()
    assert held_out_evaluation(trainer.run_dir, trainer.data, EndReason.STOPPED, 1, 1) is None


@pytest.mark.parametrize("overrides", [[], ["data.source=synthetic", "data.window=8"]], ids=["bundled", "synthetic"])
def test_test_windows_never_share_a_date_with_val_or_train_windows(overrides):
    data = prepare_data(load_config(None, overrides))
    dates, tickers = data.rows["date"].to_numpy(), data.rows["ticker"].to_numpy()
    for ticker in sorted(set(tickers)):
        covered = {}
        for split in SPLITS:
            ends = data.ends[split].numpy()
            ends = ends[tickers[ends] == ticker]
            rows = (ends[:, None] - np.arange(data.window)[None, :]).ravel()  # every row a window reads
            assert (tickers[rows] == ticker).all()
            covered[split] = set(dates[rows])
        assert covered["test"] and not covered["test"] & (covered["val"] | covered["train"])
        assert min(covered["test"]) > max(covered["val"]) > max(covered["train"])


def _days(prices, p_up, ticker="X"):
    """Rows as the evaluation builds them: each day's next-day log return and the model's P(up) that day."""
    returns = np.diff(np.log(prices))
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=len(returns)), "ticker": ticker,
                         "next_return": returns, "p_up": p_up})


def test_long_flat_on_a_hand_made_series():
    # +10%, -10%, +10%: right about both up days, flat on the down day.
    reading = strategy_reading(_days([100, 110, 99, 108.9], [0.9, 0.1, 0.9]))
    total = reading["total"]
    assert total["total_return"] == pytest.approx(1.1 * 1.1 - 1) and total["buy_hold_return"] == pytest.approx(1.1 * 0.9 * 1.1 - 1)
    assert total["hit_rate"] == 1.0 and total["trades"] == 3 and total["exposure"] == pytest.approx(2 / 3)
    daily = np.array([0.1, 0.0, 0.1])
    assert total["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * math.sqrt(252))
    assert reading["mode"] == "long/flat" and reading["tickers"]["X"] == total


def test_long_short_and_a_cost_per_trade_on_a_hand_made_series():
    days = _days([100, 110, 99, 108.9], [0.9, 0.1, 0.9])
    short = strategy_reading(days, short=True)["total"]
    assert short["total_return"] == pytest.approx(1.1 ** 3 - 1) and short["trades"] == 5  # in, flip, flip
    costly = strategy_reading(days, cost_bps=10)["total"]
    assert costly["total_return"] == pytest.approx(1.099 * 0.999 * 1.099 - 1)  # 10 bps on each of 3 trades
    assert costly["buy_hold_return"] == pytest.approx((1.1 - 0.001) * 0.9 * 1.1 - 1)  # the entry, once


def test_the_total_is_an_equal_weight_portfolio_of_the_tickers():
    days = pd.concat([_days([100, 110, 121], [0.9, 0.9], "A"), _days([100, 90, 81], [0.1, 0.1], "B")])
    reading = strategy_reading(days)
    assert reading["tickers"]["A"]["total_return"] == pytest.approx(0.21) and reading["tickers"]["B"]["total_return"] == 0
    assert reading["total"]["total_return"] == pytest.approx(1.05 ** 2 - 1)  # each day (+10% + 0) / 2
    assert reading["total"]["buy_hold_return"] == pytest.approx(1.0 - 1)  # (+10% − 10%) / 2 each day
    assert reading["total"]["hit_rate"] == 1.0 and reading["total"]["sharpe"] is None  # a return that never varies


def _test_event(acc_low: float, skill_low: float) -> TestEvaluation:
    scores = {"windows": 1664, "skill": skill_low + 0.01, "skill_low": skill_low, "skill_high": skill_low + 0.02,
              "acc": acc_low + 0.02, "acc_low": acc_low, "acc_high": acc_low + 0.04, "majority": 0.52}
    return TestEvaluation("test", "best.pt", 3, 5, 50, scores, {}, {"mode": "long/flat", "cost_bps": 0.0, "total": None})


@pytest.mark.parametrize("acc_low, skill_low, warns", [(0.70, 0.0, True), (0.50, 0.2, True), (0.50, 0.0, False)])
def test_leakage_takes_a_second_look_on_the_test_split(acc_low, skill_low, warns):
    history = history_of([start(), *(epoch(n, 1.30, 1.30) for n in range(1, 4)), _test_event(acc_low, skill_low)])
    finding = leakage(history)
    assert (finding.severity == "warning") is warns
    assert ("held-out test split" in finding.message) is warns


async def test_the_dashboard_status_panel_leads_with_the_test_scores_once_logged():
    from tests.histories import finished_run
    from tui.launch import dashboard_app
    from tui.widgets.status_panel import StatusPanel

    app = dashboard_app(history_of(finished_run()))
    async with app.run_test(size=(160, 40)):
        lines = app.query_one(StatusPanel)._shown.plain.splitlines()
    assert lines[0].startswith(" TEST  test split (held out; best checkpoint, epoch 20): skill +1.2% (95% CI -1.3…+3.7)")
    assert "direction 52.1% (95% CI 49.7%–54.5%) vs majority 50.2%, n=1664" in lines[0]
    assert lines[1] == ("   long/flat +12.3% vs buy-and-hold +20.1%, Sharpe 0.81 vs 1.02, hit rate 54.0%, 87 trades, "
                        "before costs (one split, one period, one path: not a forecast of returns)")


def test_headless_training_ends_with_the_test_scores_and_their_caveat(tmp_path, capsys):
    from tests.conftest import TINY
    from tests.run_helpers import set_args
    from tui.cli import main

    assert main(["train", *set_args([*TINY, f"log_dir={tmp_path / 'logs'}"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("Run ") and " completed after 3 epochs" in line)
    assert lines[end - 2].startswith("test split (held out; best checkpoint, epoch ") and ", n=" in lines[end - 2]
    assert lines[end - 1].startswith("long/flat ") and "before costs (one split, one period, one path" in lines[end - 1]


def test_a_test_line_is_read_back_and_one_with_a_word_for_a_number_is_skipped_with_a_notice(tmp_path):
    from engine.store.log_reader import read_jsonl
    from tests.histories import finished_run, held_out
    from tests.test_logs import write_log

    good = held_out(20, 640)
    bad = held_out(20, 640)
    bad.total["skill_low"] = "high"
    history, notices = read_jsonl(write_log(tmp_path / "events.jsonl", [*finished_run()[:-1], bad, good]))
    assert history.test.total == good.total and history.test.strategy == good.strategy
    assert len(notices) == 1 and "field 'total.skill_low'" in notices[0]
