"""Windows for the foreign writers from the engine's own feature code: bundled real prices or synthetic AR returns,
split chronologically per ticker, with the task's targets and the constant predictor's levels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.transfer.spec import RunSpec
from engine.config import SyntheticConfig
from engine.data.dataset import FEATURES, ticker_features
from engine.data.prices import BUNDLED_PRICES, read_price_csv
from engine.data.synthetic import synthetic_prices

CLF_WEIGHT = 0.5  # multitask loss = mse + 0.5 bce, as the engine weighs its two heads
VOLATILITY_WINDOW = 10


@dataclass
class Windows:
    """Inputs (n, window, features) and targets per split, plus what a constant predictor scores on val."""

    x_train: np.ndarray
    x_val: np.ndarray
    reg_train: np.ndarray
    reg_val: np.ndarray
    up_train: np.ndarray
    up_val: np.ndarray
    constant_val: float
    constant_train: float
    majority_acc: float | None


def _prices(spec: RunSpec):
    """Raw OHLCV per ticker in the canonical column names."""
    if spec.source == "prices":
        frame, _ = read_price_csv(BUNDLED_PRICES)
        frame = frame[frame["ticker"].isin(spec.tickers) & (frame["date"] >= spec.start) & (frame["date"] < spec.end)]
        return frame
    return synthetic_prices(SyntheticConfig(tickers=spec.syn_tickers, days=spec.days, signal=spec.signal), spec.seed)


def _split_windows(spec: RunSpec, rng: np.random.Generator):
    """Per ticker: features, next-day return, windows ending at each row; first 75% of rows train, the rest val."""
    parts = {"train": ([], []), "val": ([], [])}
    for _, group in _prices(spec).groupby("ticker", sort=True):
        table = ticker_features(group.sort_values("date").reset_index(drop=True), VOLATILITY_WINDOW)
        values, target = table[FEATURES].to_numpy(np.float64), table["target"].to_numpy(np.float64)
        cut = int(len(table) * 0.75)
        for name, (lo, hi) in (("train", (0, cut)), ("val", (cut, len(table)))):
            ends = np.arange(lo + spec.window - 1, hi)
            parts[name][0].append(np.stack([values[e - spec.window + 1:e + 1] for e in ends]) if len(ends) else
                                  np.empty((0, spec.window, len(FEATURES))))
            parts[name][1].append(target[ends])
    out = {}
    for name, want in (("train", spec.n_train), ("val", spec.n_val)):
        x, y = np.concatenate(parts[name][0]), np.concatenate(parts[name][1])
        keep = np.sort(rng.choice(len(x), size=min(want, len(x)), replace=False))
        out[name] = (x[keep], y[keep])
    return out


def _bce(rate: float, labels: np.ndarray) -> float:
    p = min(max(rate, 1e-6), 1 - 1e-6)
    return float(-np.mean(labels * math.log(p) + (1 - labels) * math.log(1 - p)))


def windows(spec: RunSpec) -> Windows:
    """The run's data: scaled inputs, the task's regression target (scaled as drawn) and up/down labels."""
    rng = np.random.default_rng(spec.seed)
    split = _split_windows(spec, rng)
    (x_tr, r_tr), (x_va, r_va) = split["train"], split["val"]
    mean, std = x_tr.reshape(-1, x_tr.shape[-1]).mean(0), x_tr.reshape(-1, x_tr.shape[-1]).std(0)
    std = np.where(std > 1e-12, std, 1.0)
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    up_tr, up_va = (r_tr > 0).astype(np.float32), (r_va > 0).astype(np.float32)
    reg_tr, reg_va = (np.abs(r_tr), np.abs(r_va)) if spec.task == "volatility" else (r_tr, r_va)
    if spec.noise:
        scale = spec.noise * reg_tr.std()
        reg_tr, reg_va = reg_tr + rng.normal(0, scale, len(reg_tr)), reg_va + rng.normal(0, scale, len(reg_va))
    if spec.target != "raw":
        centre, spread = reg_tr.mean(), reg_tr.std()
        reg_tr, reg_va = (reg_tr - centre) / spread, (reg_va - centre) / spread
        if spec.target == "price-like":
            reg_tr, reg_va = spec.offset + spec.gain * reg_tr, spec.offset + spec.gain * reg_va
    reg_const = float(np.mean((reg_va - reg_tr.mean()) ** 2))
    reg_const_train = float(np.mean((reg_tr - reg_tr.mean()) ** 2))
    up_rate = float(up_tr.mean())
    clf_const, clf_const_train = _bce(up_rate, up_va), _bce(up_rate, up_tr)
    constant = {"direction": (clf_const, clf_const_train),
                "multitask": (reg_const + CLF_WEIGHT * clf_const, reg_const_train + CLF_WEIGHT * clf_const_train)}
    val_level, train_level = constant.get(spec.task, (reg_const, reg_const_train))
    majority = float(np.mean(up_va == (up_rate >= 0.5))) if spec.task in ("direction", "multitask") else None
    f32 = np.float32
    return Windows(x_tr.astype(f32), x_va.astype(f32), reg_tr.astype(f32), reg_va.astype(f32), up_tr, up_va, val_level, train_level,
                   majority)
