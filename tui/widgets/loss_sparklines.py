"""Three labelled sparklines: train and val loss per epoch, and sampled step loss."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from engine.store.history import History
from tui.downsample import minmax_downsample


LABEL_WIDTH = 27


def spark_label(key: str, values) -> str:
    """'train 1.2640 1.26–1.30': the latest value, then the range the bars span (their height is relative)."""
    if not len(values):
        return f"{key:5} -"
    low, high = min(values), max(values)
    return f"{key:5} {values[-1]:.4f} " + ("flat" if low == high else f"{low:.4g}–{high:.4g}")


class LossSparklines(Vertical):
    """Compact live curves using Textual's Sparkline."""

    DEFAULT_CSS = """
    LossSparklines { height: 3; }
    LossSparklines Horizontal { height: 1; }
    LossSparklines Label { width: 27; }
    LossSparklines Sparkline { width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn: dict[str, tuple] = {}  # what each line was drawn from: train and val change once an epoch

    def compose(self) -> ComposeResult:
        for key in ("train", "val", "step"):
            with Horizontal():
                yield Label(key, id=f"{key}-label")
                yield Sparkline([], id=f"{key}-spark", summary_function=max)

    def show(self, history: History) -> None:
        """Update all three from the history, downsampled to the available width; a line whose samples and width
        are as last drawn is left alone."""
        width = max(8, self.size.width - LABEL_WIDTH)
        rows = history.rows()
        epochs = (id(history), width, len(rows), rows[-1] if rows else None)
        if epochs != self._drawn.get("epochs"):
            self._drawn["epochs"] = epochs
            self._draw("train", [r.train_loss for r in rows if r.train_loss is not None], width)
            self._draw("val", [r.val_loss for r in rows if r.val_loss is not None], width)
        steps = (id(history), width, len(history.step_loss))
        if steps != self._drawn.get("steps"):
            self._drawn["steps"] = steps
            self._draw("step", list(history.step_loss[-20 * width:]), width)

    def _draw(self, key: str, values: list[float], width: int) -> None:
        _, y = minmax_downsample(range(len(values)), values, width // 2) if values else ((), ())
        # A flat series would draw full-height bars, read as "high": draw none, the label says "flat".
        self.query_one(f"#{key}-spark", Sparkline).data = y.tolist() if len(y) and y.min() < y.max() else []
        self.query_one(f"#{key}-label", Label).update(spark_label(key, values), layout=False)
