"""The best val loss any trial has reached, trial by trial, as a step line."""

from __future__ import annotations

from tui.widgets.plotext_canvas import MatrixPlot


class BestSoFarChart(MatrixPlot):
    """Best val so far against the trial number; `points` keeps what was last drawn."""

    points: list[tuple[int, float]] = []

    def show(self, points: list[tuple[int, float]]) -> None:
        """Replot with (trial number, best val so far) points."""
        if points == self.points:
            return
        self.points = list(points)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if points:
            plt.plot([n for n, _ in points], [v for _, v in points], marker="braille")
        plt.title("best val so far" if points else "best val so far · no finished trial yet")
        plt.xlabel("trial")
        self.refresh()
