"""Train/val per epoch (plotext): skill or loss, each split's own baseline, EMA and log-y, event markers."""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

from engine.store.history import History
from tui.downsample import minmax_downsample
from tui.widgets.chart_view import ChartMode, chart_data

MARKER_COLORS = {"change": "orange", "pause": "red", "checkpoint": "green", "resume": "cyan"}


class LossChart(PlotextPlot):
    """Plotext chart of the epoch losses or of skill against each split's constant baseline."""

    def show(self, history: History, mode: ChartMode) -> None:
        """Replot from the history."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        buckets = max(10, self.size.width // 2 or 40)
        data = chart_data(history, mode)
        low, high = np.inf, -np.inf
        for line in sorted(data.lines, key=lambda line: not line.dotted):  # baselines first: curves draw over them
            x, y = minmax_downsample(line.x, line.y, buckets)
            if not len(y):
                continue
            if line.dotted:
                # A baseline: two points joined by a dotted line in its split's colour, unlabelled (the title says it).
                plt.plot([x[0], x[-1]], [y[-1], y[-1]], color=line.color, marker="·")
            else:
                # Under NO_COLOR both lines turn the same grey, so validation gets its own glyph.
                marker = "dot" if self.app.no_color and line.label == "val" else "braille"
                plt.plot(x.tolist(), y.tolist(), label=line.label, color=line.color, marker=marker)
            low, high = min(low, float(y.min())), max(high, float(y.max()))
        if mode.log_y and np.isfinite(low) and high > low:
            ticks = np.linspace(low, high, 4)
            plt.yticks(ticks.tolist(), [f"{10 ** t:.3g}" for t in ticks])
        for marker in history.markers[-40:]:
            plt.vline(marker.x, MARKER_COLORS.get(marker.kind, "white"))
        plt.title(mode.title(bool(history.baselines)) + (" · floor −1" if data.clipped else ""))
        plt.xlabel("epoch")
        plt.ylabel(data.ylabel)
        self.refresh()
