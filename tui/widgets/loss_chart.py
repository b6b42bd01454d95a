"""Train/val loss over epochs (plotext): optional EMA smoothing, the constant baseline, event markers."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from engine.health.series import smoothed
from engine.history import History
from tui.downsample import minmax_downsample

MARKER_COLORS = {"change": "orange", "pause": "red", "checkpoint": "green", "resume": "cyan"}
SMOOTHING = 0.6


class LossChart(PlotextPlot):
    """Plotext chart of the epoch losses."""

    def show(self, history: History, smooth: bool) -> None:
        """Replot from the history."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        rows = history.rows()
        buckets = max(10, self.size.width // 2 or 40)
        epochs = [r["epoch"] for r in rows]
        # Under NO_COLOR both lines turn the same grey, so validation gets its own glyph.
        val_marker = "dot" if self.app.no_color else "braille"
        for name, color, marker in (("train_loss", "blue", "braille"), ("val_loss", "magenta", val_marker)):
            values = [r.get(name) if r.get(name) is not None else float("nan") for r in rows]
            if smooth:
                values = smoothed(values, SMOOTHING)
            x, y = minmax_downsample(epochs, values, buckets)
            if len(y):
                plt.plot(x.tolist(), y.tolist(), label=name.replace("_loss", ""), color=color, marker=marker)
        baseline = history.baseline_loss("val")
        if baseline is not None and rows:
            plt.hline(baseline, "gray")
        for marker in history.markers[-40:]:
            plt.vline(marker.x, MARKER_COLORS.get(marker.kind, "white"))
        title = "loss per epoch" + (" (EMA 0.6)" if smooth else "") + (" · grey: constant baseline" if baseline else "")
        plt.title(title)
        plt.xlabel("epoch")
        self.refresh()
