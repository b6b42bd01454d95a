"""Train/val per epoch (plotext): skill or loss, each split's own baseline, EMA and log-y, event markers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine.store.history import History
from tui.downsample import minmax_downsample
from tui.widgets.chart_view import ChartMode, chart_data
from tui.widgets.plotext_canvas import MatrixPlot

if TYPE_CHECKING:
    import numpy as np

MARKER_COLORS = {"change": "orange", "pause": "red", "checkpoint": "green", "resume": "cyan"}
# Rows around the canvas: title, the frame's top and bottom, x ticks, x label.
CHROME_ROWS = 5
# Columns left of the canvas (y tick labels and the frame) and the legend's own: a margin, the marker, a space.
LEFT_COLUMNS, LEGEND_EXTRA = 9, 5


def legend_headroom(points: list[tuple[np.ndarray, np.ndarray]], labels: list[str], low: float, high: float,
                    size: tuple[int, int]) -> float:
    """The top of the y range that keeps plotext's legend (fixed at the canvas's top left) off the curves: `high`
    when no point falls under the legend, else raised until the legend's rows are clear above those points."""
    import numpy as np  # not at the top: an empty chart (the first frame) draws before numpy's import

    width, height = size
    rows, columns = height - CHROME_ROWS, width - LEFT_COLUMNS
    if not labels or not math.isfinite(low) or high <= low or rows <= len(labels) + 1 or columns <= 0:
        return high
    xs = np.concatenate([x for x, _ in points])
    ys = np.concatenate([y for _, y in points])
    if not len(xs):
        return high
    x_low, x_high = float(xs.min()), float(xs.max())
    legend_share = (max(map(len, labels)) + LEGEND_EXTRA) / columns
    under = ys[xs <= x_low + (x_high - x_low) * legend_share]
    if not len(under):
        return high
    share = (len(labels) + 0.5) / rows  # the legend's rows, and half a row between it and the curves
    top = float(under.max())
    needed = (top - share * low) / (1 - share)  # `top` lands just under the legend's rows
    return max(high, needed)


class LossChart(MatrixPlot):
    """Plotext chart of the epoch losses or of skill against each split's constant baseline."""

    _last: tuple[History, ChartMode] | None = None

    def on_resize(self) -> None:
        """The legend's room depends on the size: the first plot comes before the layout gives the chart one."""
        if self._last is not None:
            self.show(*self._last)

    def show(self, history: History, mode: ChartMode) -> None:
        """Replot from the history."""
        self._last = (history, mode)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        buckets = max(10, self.size.width // 2 or 40)
        data = chart_data(history, mode)
        low, high = math.inf, -math.inf
        drawn, labels = [], []
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
                drawn.append((x, y))  # finite already: the downsampling drops the rest
                labels.append(line.label)
            low, high = min(low, float(y.min())), max(high, float(y.max()))
        top = legend_headroom(drawn, labels, low, high, (self.size.width, self.size.height)) if drawn else high
        if top > high:
            plt.ylim(low, top)
        if mode.log_y and math.isfinite(low) and high > low:
            step = (high - low) / 3
            ticks = [low + index * step for index in range(3)] + [high]  # numpy.linspace's four points
            plt.yticks(ticks, [f"{10 ** t:.3g}" for t in ticks])
        for marker in history.markers[-40:]:
            plt.vline(marker.x, MARKER_COLORS.get(marker.kind, "white"))
        plt.title(mode.title(bool(history.baselines)) + (" · floor −1" if data.clipped else ""))
        plt.xlabel("epoch")
        plt.ylabel(data.ylabel)
        self.refresh()
