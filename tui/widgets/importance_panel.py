"""Optuna's parameter importances as bars, or why there are none yet."""

from __future__ import annotations

from textual.widgets import Static

BAR_WIDTH = 30


def importance_text(importances: dict[str, float] | str) -> str:
    """'learning_rate  ██████████ 0.71' lines, most important first; a reason passes through."""
    if isinstance(importances, str):
        return importances
    width = max((len(key) for key in importances), default=0)
    return "\n".join(f"{key:<{width}}  {'█' * max(1, round(value * BAR_WIDTH))} {value:.2f}"
                     for key, value in sorted(importances.items(), key=lambda item: -item[1]))


class ImportancePanel(Static):
    """Hidden until `i`; shows the importances computed when it was opened."""

    def show(self, importances: dict[str, float] | str) -> None:
        """Fill and show the panel."""
        self.text = importance_text(importances)
        self.update("parameter importances (i hides)\n" + self.text)
        self.display = True
