"""An economic reading of the direction head: hold the stock when P(up) > 0.5, else stay flat (or go short), against
buy-and-hold over the same days; one path over one period, before costs unless a cost per trade is given.

A position taken at a window's last close earns the next day's return. A cost of N basis points is charged on the
amount traded: entering or leaving a position costs N bps, a flip from long to short 2N; buy-and-hold pays its entry
once. The last position is not closed at the end (for either), and nothing is reinvested across tickers: the total is
an equal-weight portfolio, each day the mean of the tickers' daily returns that day.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRADING_DAYS = 252  # annualisation of the daily Sharpe ratio
LONG_FLAT, LONG_SHORT = "long/flat", "long/short"


def positions(p_up: np.ndarray, short: bool) -> np.ndarray:
    """+1 where P(up) > 0.5, else 0 (long/flat) or −1 (long/short)."""
    return np.where(np.asarray(p_up) > 0.5, 1.0, -1.0 if short else 0.0)


def daily_returns(position: np.ndarray, next_return: np.ndarray, cost_bps: float) -> np.ndarray:
    """Simple daily returns of holding `position` over days whose log returns are `next_return`, less the cost of
    each change of position (the first day's entry from flat included)."""
    traded = np.abs(np.diff(position, prepend=0.0))
    return position * np.expm1(next_return) - traded * cost_bps / 1e4


def _sharpe(returns: np.ndarray) -> float | None:
    """Annualised Sharpe ratio of daily returns (risk-free rate 0); None when they never vary."""
    if len(returns) < 2:
        return None
    spread = float(np.std(returns, ddof=1))
    return float(np.mean(returns) / spread * math.sqrt(TRADING_DAYS)) if spread > 1e-15 else None


def _total(returns: np.ndarray) -> float:
    """Compounded total return."""
    return float(np.prod(1.0 + returns) - 1.0)


def summarise(strategy: np.ndarray, hold: np.ndarray, hits: int, in_market: int, trades: float) -> dict:
    """The figures of one series of daily strategy returns against the buy-and-hold returns of the same days."""
    return {"days": int(len(strategy)), "trades": int(round(trades)), "total_return": _total(strategy),
            "sharpe": _sharpe(strategy), "hit_rate": hits / in_market if in_market else None,
            "exposure": in_market / len(strategy) if len(strategy) else None,
            "buy_hold_return": _total(hold), "buy_hold_sharpe": _sharpe(hold)}


def _one_ticker(days: pd.DataFrame, short: bool, cost_bps: float) -> tuple[pd.DataFrame, dict]:
    """Each day's strategy and buy-and-hold returns of one ticker, and its figures."""
    days = days.sort_values("date")
    returns = days["next_return"].to_numpy(np.float64)
    position = positions(days["p_up"].to_numpy(), short)
    strategy = daily_returns(position, returns, cost_bps)
    hold = daily_returns(np.ones_like(returns), returns, cost_bps)
    in_market = position != 0
    hits = int(np.sum(in_market & (np.sign(position) == np.sign(returns))))
    trades = float(np.abs(np.diff(position, prepend=0.0)).sum())
    figures = summarise(strategy, hold, hits, int(in_market.sum()), trades)
    series = pd.DataFrame({"date": days["date"].to_numpy(), "strategy": strategy, "hold": hold,
                           "hit": np.sign(position) == np.sign(returns), "in_market": in_market})
    return series, figures


def strategy_reading(days: pd.DataFrame, short: bool = False, cost_bps: float = 0.0) -> dict:
    """The reading per ticker and in total, from rows of date, ticker, next_return (log) and p_up."""
    per_ticker, series = {}, []
    for ticker, group in days.groupby("ticker", sort=True):
        one, per_ticker[str(ticker)] = _one_ticker(group, short, cost_bps)
        series.append(one.assign(ticker=str(ticker)))
    reading = {"mode": LONG_SHORT if short else LONG_FLAT, "cost_bps": float(cost_bps), "tickers": per_ticker}
    if not series:
        reading["total"] = None
        return reading
    every = pd.concat(series, ignore_index=True)
    portfolio = every.groupby("date", sort=True)[["strategy", "hold"]].mean()
    reading["total"] = summarise(portfolio["strategy"].to_numpy(), portfolio["hold"].to_numpy(),
                                 int((every["hit"] & every["in_market"]).sum()), int(every["in_market"].sum()),
                                 sum(figures["trades"] for figures in per_ticker.values()))
    reading["total"]["exposure"] = float(every["in_market"].mean())
    return reading
