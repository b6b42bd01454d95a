"""Deterministic event streams for rule tests and screen snapshots."""

from __future__ import annotations

import math

from engine.config import Config
from engine.events import (CheckpointSaved, EpochEvent, ErrorEvent, HyperparamChanged, Paused, RunEnded, RunStarted,
                           TestEvaluation)
from engine.store.history import History

BASELINES = {"train": {"reg": 1.0, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 8000},
             "val": {"reg": 1.0, "clf": 0.6931, "up_rate": 0.52, "majority_acc": 0.48, "windows": 1600}}
# The troubleshooting guide's unscaled returns: a constant predictor scores 0.5·ln 2 plus an MSE of ~0.0006.
NOTE_BASELINES = {"train": {"reg": 0.00064, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 8000},
                  "val": {"reg": 0.00058, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 1600}}


def start(config: Config | None = None, baselines: dict | None = BASELINES, source: str = "bundled Quandl WIKI") -> RunStarted:
    """A run-start event with fixed numbers; real prices unless `source` says e.g. 'synthetic(signal=0.6)' (the leak
    check applies only to real daily prices)."""
    config = config or Config()
    return RunStarted("20261125-120000-demo", config.model_dump(), {"source": source, "notices": [],
                      "target_std": 0.0254}, baselines or {}, "cpu", 210_000, time=0.0)


def epoch(n: int, train: float, val: float, total: int = 100, update: float = 1e-3, wd: float = 0.01,
          pred_std: float = 0.3, prob_std: float = 0.05, grad: float = 0.5, weight_norm: float = 20.0, **hp) -> EpochEvent:
    """An epoch event with healthy statistics unless told otherwise."""
    groups = ("lstm.l0", "lstm.l1", "reg_head", "clf_head")
    return EpochEvent(n, total, n * 32, train, val, train * 0.7, train * 0.6, val * 0.7, val * 0.6, 0.53,
                      hp.get("lr", 0.001), hp.get("weight_decay", 0.0001), hp.get("dropout", 0.3), hp.get("clf_weight", 0.5),
                      grad, {g: update for g in groups}, {g: wd for g in groups}, weight_norm, pred_std, prob_std,
                      2500.0, 3.2, time=0.0)


def history_of(events) -> History:
    """Fold events into a History."""
    history = History()
    for event in events:
        history.apply(event)
    return history


def healthy_run(epochs: int = 30) -> list:
    """Train and val falling together, ~0.015 per 5 epochs."""
    return [start()] + [epoch(n, 1.30 - 0.003 * n, 1.305 - 0.003 * n) for n in range(1, epochs + 1)]


def noisy_fine_run(epochs: int = 30) -> list:
    """A descent with small epoch-to-epoch noise on validation."""
    return [start()] + [epoch(n, 1.30 - 0.004 * n, 1.305 - 0.004 * n + 0.004 * math.sin(n * 2.1)) for n in range(1, epochs + 1)]


def overfitting_run() -> list:
    """The classic shape ending at the troubleshooting guide's numbers: train falls to 0.296 while val, below the constant baseline 0.347
    at first, rises from its best (epoch 8) to 0.378."""
    events = [start(baselines=NOTE_BASELINES)]
    for n in range(1, 21):
        train = 0.42 - 0.0062 * n
        val = 0.345 - 0.001875 * n if n <= 8 else 0.33 + 0.004 * (n - 8)
        events.append(epoch(n, train, val))
    return events


def harder_val_run(epochs: int = 30) -> list:
    """A healthy descent whose validation period is harder: a steady gap of 0.08 while val still falls."""
    return [start()] + [epoch(n, 1.30 - 0.004 * n, 1.38 - 0.004 * n) for n in range(1, epochs + 1)]


def exploding_paused_run() -> list:
    """Loss blows up at epoch 6 and the engine pauses itself."""
    events = healthy_run(5)
    events.append(epoch(6, float("nan"), float("inf"), lr=0.05))
    events.append(Paused(5, 190, "non-finite loss", time=0.0))
    return events


def paused_run() -> list:
    """A user pause after a change of learning rate."""
    events = healthy_run(12)
    events.append(HyperparamChanged("lr", 0.001, 0.00125, 12, 384, "user", time=0.0))
    events.append(Paused(12, 390, "user", time=0.0))
    return events


def held_out(at_epoch: int, step: int, skill: float = 0.012, acc: float = 0.521) -> TestEvaluation:
    """A test event of fixed numbers: skill ±2.5 points, the Wilson interval of `acc` over 1664 windows, and a
    long/flat reading that trails buy-and-hold."""
    total = {"windows": 1664, "loss": 1.03, "baseline": 1.04, "skill": skill, "skill_low": skill - 0.025,
             "skill_high": skill + 0.025, "acc": acc, "acc_low": acc - 0.024, "acc_high": acc + 0.024, "majority": 0.502}
    reading = {"days": 416, "trades": 87, "total_return": 0.123, "sharpe": 0.81, "hit_rate": 0.54, "exposure": 0.61,
               "buy_hold_return": 0.201, "buy_hold_sharpe": 1.02}
    return TestEvaluation("test", "logs/x/checkpoints/best.pt", at_epoch, at_epoch, step, total, {"AAPL": total},
                          {"mode": "long/flat", "cost_bps": 0.0, "total": reading, "tickers": {"AAPL": reading}}, time=0.0)


def finished_run() -> list:
    """A run that reached its last epoch, then scored its best checkpoint on the test split."""
    events = [start()] + [epoch(n, 1.30 - 0.003 * n, 1.305 - 0.003 * n, total=20) for n in range(1, 21)]
    events.append(held_out(20, 640))
    events.append(RunEnded("completed", 20, 640, 1.245, "logs/x/checkpoints/last.pt", time=0.0))
    return events


def failed_run() -> list:
    """A manual save at epoch 5, then CUDA runs out of memory in epoch 9."""
    events = healthy_run(8)
    events.insert(6, CheckpointSaved("logs/x/checkpoints/epoch0005-step0000160.pt", "manual", 5, 160, time=0.0))
    events.append(ErrorEvent("OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (batch_size 256: lower "
                             "training.batch_size or model.hidden_size)", 8, 270, fatal=True, time=0.0))
    events.append(RunEnded("error", 8, 270, 1.281, None, time=0.0))
    return events
