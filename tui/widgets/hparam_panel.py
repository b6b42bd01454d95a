"""Current hyperparameters and the history of changes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.store.history import History


class HparamPanel(Static):
    """lr, weight decay, dropout, clf_weight, optimizer, batch size, and what changed when."""

    DEFAULT_CSS = "HparamPanel { height: 6; }"
    _shown: Text | None = None

    def show(self, history: History) -> None:
        """Redraw from the history."""
        hp = history.hparams
        training = history.config.get("training", {})
        text = Text()

        def fmt(value) -> str:
            return "-" if value is None else f"{value:g}"

        text.append(f"lr {fmt(hp.get('lr'))}  wd {fmt(hp.get('weight_decay'))}  dropout {fmt(hp.get('dropout'))}\n", style="bold")
        text.append(f"clf_weight {fmt(hp.get('clf_weight'))}  {training.get('optimizer', '-')}  batch {training.get('batch_size', '-')}\n")
        if history.last_autosave is not None:
            text.append(f"autosaved epoch {history.last_autosave.epoch} ({history.last_autosave.reason})\n", style="dim")
        for change in reversed(history.changes[-3:]):  # newest first: at 80 columns only the top one may fit
            text.append(f"  e{change.epoch} {change.name} {change.old:g}→{change.new:g} ({change.source})\n", style="dim")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)
