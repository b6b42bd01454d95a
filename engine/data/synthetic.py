"""Deterministic synthetic OHLCV with a planted, learnable signal (AR(1) daily returns)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.config import SyntheticConfig


def synthetic_prices(settings: SyntheticConfig, seed: int) -> pd.DataFrame:
    """Prices whose next-day return is `signal` times today's return plus noise."""
    rng = np.random.default_rng(seed)
    frames = []
    dates = pd.bdate_range("2000-01-03", periods=settings.days)
    for index in range(settings.tickers):
        noise = rng.normal(0.0, 0.015, settings.days)
        returns = np.empty(settings.days)
        returns[0] = noise[0]
        for day in range(1, settings.days):
            returns[day] = settings.signal * returns[day - 1] + noise[day]
        close = 100.0 * np.exp(np.cumsum(returns))
        open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, settings.days))
        wiggle = np.exp(np.abs(rng.normal(0.0, 0.005, (2, settings.days))))
        frames.append(
            pd.DataFrame(
                {
                    "ticker": f"SYN{index}",
                    "date": dates,
                    "open": open_,
                    "high": np.maximum(open_, close) * wiggle[0],
                    "low": np.minimum(open_, close) / wiggle[1],
                    "close": close,
                    "adj_close": close,
                    "volume": rng.lognormal(14.0, 0.3, settings.days).round(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
