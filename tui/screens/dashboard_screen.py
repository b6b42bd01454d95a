"""A run's dashboard as a screen: the layout and the event intake; what differs between live, attached, replay and
follow is the screen's mode (tui/modes)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from engine.events import ErrorEvent, HyperparamChanged, Paused, Resumed, RunEnded
from engine.health import Finding, run_rules
from engine.store.history import History
from tui.client_exit import check_fault
from tui.dialogs.help_screen import HelpScreen
from tui.messages import EventsArrived, Notice, SourceClosed, TrainerConnected, TrainerFailed
from tui.modes.mode import DashboardMode
from tui.palette import help_lines
from tui.sources import EventSource
from tui.widgets.chart_view import ChartMode
from tui.widgets.device_panel import DevicePanel
from tui.widgets.event_log import EventLogPane
from tui.widgets.hparam_panel import HparamPanel
from tui.widgets.loss_chart import LossChart
from tui.widgets.loss_sparklines import LossSparklines
from tui.widgets.run_header import RunHeader
from tui.widgets.status_panel import StatusPanel
from tui.widgets.step_progress import StepProgressBar

# Every tick redraws the progress bar and the step sparkline, and on a 2-core machine each millisecond the dashboard
# draws is one the training's two threads wait: bench/bench_attach_phases.py measured 0.959-0.985 of the training
# alone with ticks twice a second, 0.987-0.994 once a second. Keys are answered at once either way.
REDRAW_INTERVAL_S = 1.0
# The health rules, chart, findings and event log cost tens of milliseconds a redraw: streamed epochs wait until this
# long after the last such redraw, so the dashboard's share of the machine has a ceiling whatever the run's pace (on
# a run of 1.5-second epochs, one redraw in two). Keys, the answers to controls and the run's end are drawn at once.
EPOCH_REDRAW_S = 2.0
# Below this the chart, panels and log no longer fit: a notice replaces them.
MIN_SIZE = (60, 18)
# Events that answer a person's key press: drawn without waiting for the redraw tick.
ANSWERS = (Paused, Resumed, HyperparamChanged, RunEnded, ErrorEvent)


class DashboardScreen(Screen):
    """Header, loss chart and sparklines, health status, hyperparameters and the event log of one run."""

    BINDINGS = [Binding("v", "toggle_view", "Skill/Loss", tooltip="Chart: skill vs baseline ⇄ loss"),
                Binding("e", "toggle_ema", "EMA", tooltip="Chart: EMA smoothing on/off"),
                Binding("y", "toggle_log", "log-y", show=False, tooltip="Chart: log-y axis (loss view) on/off"),
                Binding("r", "runs", "Runs", show=False, tooltip="Runs browser: compare, open another run"),
                Binding("tab", "focus_next", "Focus pane", show=False, tooltip="Focus the next pane (then ↑↓ scroll it)"),
                Binding("question_mark", "help", "Help", tooltip="Help: every key"),
                Binding("q", "quit_app", "Quit", tooltip="Quit (a live run asks whether to save first)"),
                Binding("escape", "back", show=False, tooltip="Back to the runs browser (a run opened from it)")]

    def __init__(self, mode: DashboardMode, history: History | None = None, source: EventSource | None = None,
                 run_dir: Path | None = None) -> None:
        super().__init__()
        self.mode = mode
        self.history = history or History()
        self.source = source
        self.run_dir = run_dir  # where a crash report goes (the run's console.log)
        self.findings: list[Finding] = []
        self.chart_mode = ChartMode()
        self._dirty = True
        self._drawn: tuple | None = None
        self._epochs_drawn_at = -EPOCH_REDRAW_S
        self._bindings = BindingsMap.merge([self._bindings, BindingsMap(mode.BINDINGS)])
        for name in dir(mode):  # the mode's keys are this screen's actions (Textual looks actions up by name)
            if name.startswith("action_"):
                setattr(self, name, getattr(mode, name))
        mode.attach(self)

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        yield StepProgressBar(id="progress")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LossChart(id="chart")
                yield LossSparklines(id="sparklines")
            with Vertical(id="right"):
                with VerticalScroll(id="status-scroll"):
                    yield StatusPanel(id="status")
                yield HparamPanel(id="hparams")
                yield DevicePanel(id="device")
        yield from self.mode.compose_extra()
        yield EventLogPane(id="events")
        yield Footer()
        yield Static(f"Terminal too small: the dashboard needs {MIN_SIZE[0]}×{MIN_SIZE[1]}.", id="too-small")

    def on_mount(self) -> None:
        self.set_interval(REDRAW_INTERVAL_S, self.redraw_if_dirty)
        self._fit(self.app.size)
        self.redraw()
        self.call_after_refresh(self.redraw)  # again once laid out: the sparklines size their buckets to their width
        self.mode.mounted()
        if self.source is not None:
            self.source.start(self)

    def on_unmount(self) -> None:
        """Stop listening to the source; whether the run itself stops is the mode's decision."""
        if self.source is not None:
            self.source.stop()
        self.mode.unmounted()

    def on_key(self, event) -> None:
        """The fault tests' hook (STOCKPRED_UI_FAULT=<key>): a key whose handler raises."""
        check_fault(event.key)

    def on_notice(self, message: Notice) -> None:
        """A source's notice becomes a notification."""
        self.notify(message.text, severity=message.severity, timeout=10)

    def on_trainer_connected(self, message: TrainerConnected) -> None:
        """The trainer process answered: the mode takes its controls."""
        self.mode.source_said(message)

    def on_trainer_failed(self, message: TrainerFailed) -> None:
        """The trainer process never answered: the mode decides how to leave."""
        self.mode.source_said(message)

    def on_source_closed(self, message: SourceClosed) -> None:
        """The source will say nothing more: the mode decides what that means."""
        self.mode.source_said(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of this screen (an in-process training) changed state: the mode shows failures."""
        self.mode.source_said(event)

    def on_resize(self, event: events.Resize) -> None:
        """A new size needs new buckets for the sparklines and the chart; below the minimum, a notice instead."""
        self._dirty = True
        self._fit(event.size)

    def _fit(self, size) -> None:
        self.set_class(size.width < MIN_SIZE[0] or size.height < MIN_SIZE[1], "-too-small")

    def on_events_arrived(self, message: EventsArrived) -> None:
        """Fold events into the history; the answer to a control is drawn at once, the rest at the next tick."""
        for event in message.events:
            self.history.apply(event)
            self.mode.after_event(event)
        self._dirty = True
        if any(isinstance(event, ANSWERS) for event in message.events) and self.query(RunHeader):
            self.redraw()

    def view(self) -> History:
        """The history to draw (replay narrows it to the cursor)."""
        return self.mode.view(self.history)

    @property
    def epochs_drawn(self) -> int:
        """How many epochs the chart, findings and event log were last drawn from."""
        return self._drawn[0] if self._drawn else 0

    @property
    def redraw_pending(self) -> bool:
        """Whether something is still to be drawn at a coming tick."""
        return self._dirty

    def redraw_soon(self) -> None:
        """Something changed: draw it at the next tick."""
        self._dirty = True

    def redraw_if_dirty(self) -> None:
        """Redraw at most once a tick, and only when something changed; new epochs at most every EPOCH_REDRAW_S."""
        if self._dirty and self.query(RunHeader):  # a tick can land while the screen is torn down
            self.redraw(epochs_due=time.monotonic() - self._epochs_drawn_at >= EPOCH_REDRAW_S)

    def redraw(self, epochs_due: bool = True) -> None:
        """Update the header and sparklines; recompute findings and redraw the rest only when more than step samples
        changed (and, from the tick, only when `epochs_due`: else a later tick does); then the mode's own rows and
        keys."""
        self._dirty = False
        history = self.view()
        signature = (len(history.epochs), max(history.epochs, default=0), len(history.events), history.state,
                     self.chart_mode, self.size)
        with self.app.batch_update():
            self.query_one(RunHeader).show(history, self.mode.badge)
            self.query_one(LossSparklines).show(history)
            self.query_one(StepProgressBar).show(history)
            self.query_one(DevicePanel).show(history)  # stats events leave the signature as it is: drawn apart
            if signature != self._drawn and not epochs_due:
                self._dirty = True
            elif signature != self._drawn:
                self._drawn, self._epochs_drawn_at = signature, time.monotonic()
                self.findings = run_rules(history) if history.epochs or history.run else []
                self.query_one(LossChart).show(history, self.chart_mode)
                self.query_one(StatusPanel).show(self.findings, self.mode.can_apply_remedy, history.fatal_error,
                                                 test=history.test)
                self.query_one(HparamPanel).show(history)
                self.query_one(EventLogPane).show(history)
            self.mode.redrawn()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Escape only for a run opened from the browser; the rest is the mode's say."""
        if action == "back":
            return self.app.first is not self and self.is_current
        return self.mode.check_action(action, parameters)

    def _set_mode(self, **changes) -> None:
        self.chart_mode = dataclasses.replace(self.chart_mode, **changes)
        self.redraw()  # a key is answered at once, not at the next redraw tick

    def action_toggle_ema(self) -> None:
        """Smooth the chart with TensorBoard's debiased EMA, or not (the chart title says which)."""
        self._set_mode(smooth=not self.chart_mode.smooth)

    def action_toggle_view(self) -> None:
        """Skill against each split's own baseline, or the raw losses."""
        self._set_mode(metric="loss" if self.chart_mode.metric == "skill" else "skill")

    def action_toggle_log(self) -> None:
        """A log-y axis for the loss view (switches to it: skill can be negative)."""
        self._set_mode(metric="loss", log_y=not self.chart_mode.log_y)

    def action_runs(self) -> None:
        """Open the runs browser over this run's log directory (compare, open another run)."""
        from tui.screens.runs_browser import RunsBrowser

        self.app.push_screen(RunsBrowser(str(self.history.config.get("log_dir") or "logs")))

    def action_help(self) -> None:
        """Show every key of this mode."""
        self.app.push_screen(HelpScreen(help_lines(self.app, self.help_bindings())))

    def help_bindings(self) -> list[Binding]:
        """The mode's keys, then the dashboard's own (one entry per action)."""
        seen, result = set(), []
        for binding in [*self.mode.BINDINGS, *self.BINDINGS]:
            if isinstance(binding, Binding) and binding.action not in seen:
                seen.add(binding.action)
                result.append(binding)
        return result

    def action_back(self) -> None:
        """Back to the browser this run was opened from; a live run trains on."""
        self.dismiss()

    def action_quit_app(self) -> None:
        """Quit the way the mode says (a live run asks first)."""
        self.mode.quit()
