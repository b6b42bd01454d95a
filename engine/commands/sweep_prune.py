"""Pruning by diagnosis: after each epoch of a trial the health rules judge its history; a critical finding of a
pruning rule stops the trial at once, a warning stops it once it has held for `warning_epochs` epochs in a row, unless
the trial leads (`spare_leaders`: its val loss beats the median of the other trials' at that epoch). The best trials of
a search often run hot (a large update/weight ratio, val swings) and still end best; a warning alone should not stop
them."""

from __future__ import annotations

from typing import Callable

from engine.errors import InputError
from engine.health import RULES, run_rules
from engine.store.history import History
from engine.sweep_config import PruneConfig


def rule_names() -> list[str]:
    """The name each health rule reports its findings under ('baseline' for baseline_skill)."""
    return [rule(History()).rule for rule in RULES]


def check_rule_names(prune: PruneConfig, source: str) -> None:
    """A one-line InputError naming `source` for a sweep.prune.health entry that no rule reports."""
    known = rule_names()
    for name in prune.health:
        if name not in known:
            raise InputError(source, f"sweep.prune.health: no health rule is called {name[:40]!r} "
                                     f"(rules: {', '.join(known)})")


class HealthPruning:
    """Judges a trial's history epoch by epoch; `judge` returns why to prune it, or None."""

    def __init__(self, prune: PruneConfig) -> None:
        self.rules = set(prune.health)
        self.warning_epochs = prune.warning_epochs
        self.spare_leaders = prune.spare_leaders
        self.streaks: dict[str, int] = {}
        self.judged_epoch = 0

    def judge(self, history: History, leads: Callable[[], bool] = lambda: False) -> str | None:
        """'exploding — loss exploded … at epoch 3' when a pruning rule says stop after the newest epoch; `leads` says
        whether the trial's val beats the other trials' median at this epoch (a held warning then spares it). It is
        asked only when a held warning would prune: it reads the study's storage."""
        epoch = max(history.epochs, default=0)
        if not self.rules or epoch <= self.judged_epoch:
            return None
        self.judged_epoch = epoch
        warned = set()
        for finding in run_rules(history):
            if finding.rule not in self.rules:
                continue
            if finding.severity == "critical":
                return f"{finding.rule} — {finding.message}"
            if finding.severity == "warning":
                warned.add(finding.rule)
                self.streaks[finding.rule] = self.streaks.get(finding.rule, 0) + 1
                if self.streaks[finding.rule] >= self.warning_epochs and not (self.spare_leaders and leads()):
                    return f"{finding.rule} — {finding.message} (for {self.warning_epochs} epochs)"
        self.streaks = {rule: count for rule, count in self.streaks.items() if rule in warned}
        return None
