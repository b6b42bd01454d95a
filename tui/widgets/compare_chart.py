"""Several runs' curves of one metric on one plotext chart, a stable colour (and glyph) per run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui.downsample import minmax_downsample
from tui.widgets.plotext_canvas import MatrixPlot

# Tableau 10: tells ten runs apart on dark and light terminals alike.
PALETTE = [(78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79), (237, 201, 72),
           (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172)]
# Past ten runs the colours repeat with another glyph; without colour the glyph alone tells runs apart.
GLYPHS = ["braille", "•", "x", "+", "o", "*", "#", "@"]


def run_style(index: int, no_color: bool) -> tuple[tuple[int, int, int] | None, str]:
    """Colour and plotext marker of the run at `index` in the compared set."""
    if no_color:
        return None, GLYPHS[index % len(GLYPHS)]
    return PALETTE[index % len(PALETTE)], GLYPHS[index // len(PALETTE) % len(GLYPHS)]


@dataclass
class Curve:
    """One run's points and how to draw them."""

    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int] | None
    marker: str


class CompareChart(MatrixPlot):
    """Overlaid curves; each is min-max downsampled to about two points per column before plotext sees it."""

    def show(self, curves: list[Curve], title: str, xlabel: str, log_y: bool, hline: float | None = None) -> None:
        """Replot the given curves."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        # A bucket per two columns: plotext's line drawing per point is most of a redraw's cost, and a bucket's
        # min and max at their own x still show every spike.
        buckets = max(10, self.size.width // 4 or 20)
        drawn, low, high = 0, np.inf, -np.inf
        for curve in curves:
            x, y = curve.x, curve.y
            if log_y:
                keep = y > 0  # a log axis has no place for zero or negative values (skill below the baseline)
                x, y = x[keep], np.log10(y[keep])
            x, y = minmax_downsample(x, y, buckets)
            if len(y):
                options = {"color": curve.color} if curve.color is not None else {}
                plt.plot(x.tolist(), y.tolist(), marker=curve.marker, **options)
                drawn, low, high = drawn + 1, min(low, y.min()), max(high, y.max())
        if log_y and drawn:
            # log10 taken here, ticks labelled in real values: plotext's own log scale rewrites its data in place,
            # so a second render of the same figure took the log of a log.
            ticks = np.linspace(low, high, 5) if high > low else np.array([low])
            plt.yticks(ticks.tolist(), [f"{10 ** t:.3g}" for t in ticks])
        if hline is not None and drawn and not log_y:
            plt.hline(hline, "gray")
        plt.title(title if drawn else f"{title} · nothing to draw")
        plt.xlabel(xlabel)
        self.refresh()
