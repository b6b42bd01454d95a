"""Runs overlaid on one chart with a table that doubles as the legend; runs still training keep growing in place."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from engine.commands.compare import METRICS, SMOOTHING, X_AXES, LoadedRun, legend_labels, run_stats
from engine.events import Event
from engine.store.log_follower import LogFollower
from engine.store.history import History
from tui.widgets.compare_chart import CompareChart, Curve, run_style
from tui.widgets.compare_table import CompareTable, swatch

POLL_S = 0.5
REDRAW_S = 0.5


@dataclass
class RunFollowed(Message):
    """A followed run's log, read afresh by its follower: it replaces the run's history."""

    index: int
    history: History


@dataclass
class RunGrew(Message):
    """Events appended to a followed run's log since the last poll."""

    index: int
    events: list[Event]


class CompareScreen(ModalScreen[None]):
    """Curves of one metric for every compared run, and their best val, skill, accuracy, verdict and speed."""

    DEFAULT_CSS = """
    CompareScreen { background: $background; }
    CompareScreen #compare-title { height: 1; padding: 0 1; background: $primary-darken-2; }
    CompareScreen CompareChart { height: 1fr; min-height: 8; }
    CompareScreen CompareTable { height: auto; max-height: 40%; min-height: 4; border-top: solid $primary-darken-2; }
    """
    BINDINGS = [Binding("m", "metric(1)", "Metric"), Binding("M", "metric(-1)", "Metric back", show=False),
                Binding("e", "toggle_ema", "EMA"), Binding("y", "toggle_log", "Log y"), Binding("x", "toggle_x", "x axis"),
                Binding("escape", "back", "Back"), Binding("q", "app.quit_app", "Quit")]

    def __init__(self, runs: list[LoadedRun], metric: str = "val_loss") -> None:
        super().__init__()
        self.runs = runs
        self.metric = metric
        self.ema = False
        self.log_y = False
        self.x_axis = "epoch"
        self.labels = legend_labels(runs)
        self._dirty = True
        self._stats = [run_stats(run) for run in runs]
        self._shown_stats: list | None = None
        self._stopped = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title")
        yield CompareChart()
        yield CompareTable()
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REDRAW_S, self.redraw_if_dirty)
        self.call_after_refresh(self.redraw)
        followed = [i for i, run in enumerate(self.runs) if run.followable]
        if followed:
            self._follow(followed)

    def on_unmount(self) -> None:
        self._stopped.set()

    def on_resize(self) -> None:
        """A new width needs new downsampling buckets."""
        self._dirty = True

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-follow", description="follow runs")
    def _follow(self, indices: list[int]) -> None:
        """Re-read each unfinished run through a follower, then post what its log gains every half second."""
        worker = get_current_worker()
        followers = {}
        for index in indices:
            follower = LogFollower(Path(self.runs[index].path))
            follower.poll()
            followers[index] = follower
            self.post_message(RunFollowed(index, follower.history))
        while not self._stopped.wait(POLL_S) and not worker.is_cancelled:
            for index, follower in followers.items():
                events = follower.poll_events()
                if events:
                    self.post_message(RunGrew(index, events))

    def on_run_followed(self, message: RunFollowed) -> None:
        """Take the follower's history (read from the same file, maybe a few epochs further)."""
        self.runs[message.index].history = message.history
        self._changed(message.index)

    def on_run_grew(self, message: RunGrew) -> None:
        """Fold a followed run's new events in; drawn at the next tick."""
        history = self.runs[message.index].history
        for event in message.events:
            history.apply(event)
        self._changed(message.index)

    def _changed(self, index: int) -> None:
        run = self.runs[index]
        run.refresh_summary()
        self._stats[index] = run_stats(run)
        self._dirty = True

    def redraw_if_dirty(self) -> None:
        """At most a couple of redraws a second, only after a change."""
        if self._dirty:
            self.redraw()

    def curves(self) -> list[Curve]:
        """Every run's curve of the chosen metric, in the run's colour."""
        result = []
        for index, run in enumerate(self.runs):
            x, y = run.curve(self.metric, self.x_axis, self.ema)
            color, marker = run_style(index, self.app.no_color)
            result.append(Curve(x, y, color, marker))
        return result

    def redraw(self) -> None:
        """Title, chart and table from the current choices."""
        self._dirty = False
        title = METRICS[self.metric] + (f" (EMA {SMOOTHING})" if self.ema else "") + (" · log y" if self.log_y else "")
        with self.app.batch_update():
            self.query_one("#compare-title", Static).update(
                f"compare {len(self.runs)} runs · {escape(title)} · x: {X_AXES[self.x_axis]}")
            self.query_one(CompareChart).show(self.curves(), title, X_AXES[self.x_axis], self.log_y,
                                              0.0 if self.metric == "skill" else None)
            if self._stats != self._shown_stats:  # a metric or axis switch leaves the table as it is
                self._shown_stats = list(self._stats)
                rows = [(swatch(label, *run_style(i, self.app.no_color)), stats)
                        for i, (label, stats) in enumerate(zip(self.labels, self._stats))]
                self.query_one(CompareTable).show(rows)

    def action_metric(self, step: int) -> None:
        """Next (or previous) metric: val loss, train loss, direction accuracy, skill, lr."""
        names = list(METRICS)
        self.metric = names[(names.index(self.metric) + step) % len(names)]
        self.redraw()

    def action_toggle_ema(self) -> None:
        """Smooth every curve with the debiased EMA, or not."""
        self.ema = not self.ema
        self.redraw()

    def action_toggle_log(self) -> None:
        """Log-scale y axis, or linear."""
        self.log_y = not self.log_y
        self.redraw()

    def action_toggle_x(self) -> None:
        """x by epoch or by training time."""
        self.x_axis = "time" if self.x_axis == "epoch" else "epoch"
        self.redraw()

    def action_back(self) -> None:
        """Back to the runs browser (or quit, when the compare view is the whole app)."""
        if self.app.first is self:
            self.app.exit()
        else:
            self.dismiss()
