"""The held-out scores in words, the same everywhere: the event log, headless output, `evaluate` and the dashboard."""

from __future__ import annotations

import math

from engine.events import TestEvaluation

CAVEAT = "one split, one period, one path: not a forecast of returns"


def _number(value, fmt: str) -> str:
    return "–" if not isinstance(value, (int, float)) or not math.isfinite(value) else format(value, fmt)


def _percent(value) -> str:
    return _number(value * 100 if isinstance(value, (int, float)) else None, "+.1f") + "%"


def skill_text(scores: dict) -> str:
    """'skill +0.4% (95% CI -1.2…+2.0)', the interval only where there is one."""
    text = f"skill {_percent(scores.get('skill'))}"
    low, high = scores.get("skill_low"), scores.get("skill_high")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        text += f" (95% CI {low * 100:+.1f}…{high * 100:+.1f})"
    return text


def direction_text(scores: dict) -> str:
    """'direction 51.2% (95% CI 48.8–53.6%) vs majority 50.2%' (a Wilson interval)."""
    text = f"direction {_number(scores.get('acc'), '.1%')}"
    low, high = scores.get("acc_low"), scores.get("acc_high")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        text += f" (95% CI {low:.1%}–{high:.1%})"
    return f"{text} vs majority {_number(scores.get('majority'), '.1%')}"


def scores_text(scores: dict) -> str:
    """Skill, direction accuracy and n of one group."""
    return f"{skill_text(scores)}, {direction_text(scores)}, n={scores.get('windows')}"


def cost_text(strategy: dict) -> str:
    """'before costs' or 'at 5 bps per trade'."""
    cost = strategy.get("cost_bps") or 0
    return "before costs" if not cost else f"at {cost:g} bps per trade"


def _trades(count) -> str:
    return f"{count} trade{'' if count == 1 else 's'}"


def strategy_text(reading: dict | None, mode: str) -> str:
    """'long/flat +12.3% vs buy-and-hold +20.1%, Sharpe 0.41 vs 0.88, hit rate 52.0%, 87 trades'."""
    if not reading:
        return f"{mode}: no days"
    return (f"{mode} {_percent(reading.get('total_return'))} vs buy-and-hold {_percent(reading.get('buy_hold_return'))}, "
            f"Sharpe {_number(reading.get('sharpe'), '.2f')} vs {_number(reading.get('buy_hold_sharpe'), '.2f')}, "
            f"hit rate {_number(reading.get('hit_rate'), '.1%')}, {_trades(reading.get('trades'))}")


def held_out_summary(event: TestEvaluation) -> list[str]:
    """Two lines: the scores of the best checkpoint on the test split, then the strategy reading with its caveat."""
    strategy = event.strategy or {}
    return [f"test split (held out; best checkpoint, epoch {event.checkpoint_epoch}): {scores_text(event.total or {})}",
            f"{strategy_text(strategy.get('total'), strategy.get('mode', 'long/flat'))}, {cost_text(strategy)} ({CAVEAT})"]
