"""The dashboard layout and the event intake shared by live training, replay and follow."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.events import ErrorEvent, HyperparamChanged, Paused, Resumed, RunEnded
from engine.health import Finding, run_rules
from engine.store.history import History
from tui.client_exit import check_fault, guard_terminal, write_crash
from tui.dialogs.help_screen import HelpScreen
from tui.messages import EventsArrived, Notice
from tui.palette import binding_commands, help_lines
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

REDRAW_INTERVAL_S = 0.5
# Below this the chart, panels and log no longer fit: a notice replaces them.
MIN_SIZE = (60, 18)
# Events that answer a person's key press: drawn without waiting for the redraw tick.
ANSWERS = (Paused, Resumed, HyperparamChanged, RunEnded, ErrorEvent)


class DashboardApp(App):
    """Header, loss chart and sparklines, health status, hyperparameters and the event log."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses in other folders find it too
    TITLE = "stockpred-tui"
    BINDINGS = [Binding("v", "toggle_view", "Skill/Loss", tooltip="Chart: skill vs baseline ⇄ loss"),
                Binding("e", "toggle_ema", "EMA", tooltip="Chart: EMA smoothing on/off"),
                Binding("y", "toggle_log", "log-y", show=False, tooltip="Chart: log-y axis (loss view) on/off"),
                Binding("r", "runs", "Runs", show=False, tooltip="Runs browser: compare, open another run"),
                Binding("tab", "focus_next", "Focus pane", show=False, tooltip="Focus the next pane (then ↑↓ scroll it)"),
                Binding("question_mark", "help", "Help", tooltip="Help: every key"),
                Binding("q", "quit_app", "Quit", tooltip="Quit (a live run asks whether to save first)"),
                Binding("ctrl+c", "quit_app", show=False, priority=True)]
    badge: str | None = None
    can_apply_remedy = False

    def __init__(self, history: History | None = None, source: EventSource | None = None,
                 run_dir: Path | None = None) -> None:
        super().__init__()
        self.history = history or History()
        self.source = source
        self.run_dir = run_dir  # where a crash report goes (the run's console.log)
        self.crash_log: Path | None = None
        self.findings: list[Finding] = []
        self.chart_mode = ChartMode()
        self._dirty = True
        self._drawn: tuple | None = None

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
        yield from self.compose_extra()
        yield EventLogPane(id="events")
        yield Footer()
        yield Static(f"Terminal too small: the dashboard needs {MIN_SIZE[0]}×{MIN_SIZE[1]}.", id="too-small")

    def compose_extra(self) -> ComposeResult:
        """Extra rows a mode adds above the event log."""
        return iter(())

    def on_mount(self) -> None:
        if not self.is_headless:
            guard_terminal()
        self.set_interval(REDRAW_INTERVAL_S, self.redraw_if_dirty)
        self.redraw()
        self.call_after_refresh(self.redraw)  # again once laid out: the sparklines size their buckets to their width
        if self.source is not None:
            self.source.start(self)

    def on_unmount(self) -> None:
        """Stop listening to the source; whether the run itself stops is the mode's decision."""
        if self.source is not None:
            self.source.stop()

    def on_key(self, event) -> None:
        """The fault tests' hook (STOCKPRED_UI_FAULT=<key>): a key whose handler raises."""
        check_fault(event.key)

    def _handle_exception(self, error: Exception) -> None:
        """Any exception in any widget: the traceback goes to the run's console.log, the UI leaves, the run goes on."""
        log_dir = self.history.config.get("log_dir") or "logs"
        self.crash_log = write_crash(error, self.run_dir, log_dir)
        self._return_code = 1
        if self._exception is None:  # Pilot re-raises it for the test that caused it
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()  # Textual's own path, minus the traceback on the terminal

    def on_notice(self, message: Notice) -> None:
        """A source's notice becomes a notification."""
        self.notify(message.text, severity=message.severity, timeout=10)

    def on_resize(self, event: events.Resize) -> None:
        """A new size needs new buckets for the sparklines and the chart; below the minimum, a notice instead."""
        self._dirty = True
        # The event's size: the app's own is still the old one while its handler runs (a shrink went unnoticed).
        self.screen.set_class(event.size.width < MIN_SIZE[0] or event.size.height < MIN_SIZE[1], "-too-small")

    def get_system_commands(self, screen: Screen):
        """The palette: every key of this mode (with the key shown), then Textual's own commands."""
        yield from binding_commands(self, self._bindings_for_help())
        yield from super().get_system_commands(screen)

    def on_events_arrived(self, message: EventsArrived) -> None:
        """Fold events into the history; the answer to a control is drawn at once, the rest at the next tick."""
        for event in message.events:
            self.history.apply(event)
            self.after_event(event)
        self._dirty = True
        if any(isinstance(event, ANSWERS) for event in message.events) and self.query(RunHeader):
            self.redraw()

    def after_event(self, event) -> None:
        """Hook for modes that react to particular events."""

    def view(self) -> History:
        """The history to draw (replay narrows it to the cursor)."""
        return self.history

    def redraw_if_dirty(self) -> None:
        """Redraw at most a few times a second, and only when something changed."""
        if self._dirty and self.query(RunHeader):  # a tick can land while the app tears its screen down
            self.redraw()

    def redraw(self) -> None:
        """Update the header and sparklines; recompute findings and redraw the rest only when more than step samples changed."""
        self._dirty = False
        history = self.view()
        signature = (len(history.epochs), max(history.epochs, default=0), len(history.events), history.state,
                     self.chart_mode, self.size)
        with self.batch_update():
            self.query_one(RunHeader).show(history, self.badge)
            self.query_one(LossSparklines).show(history)
            self.query_one(StepProgressBar).show(history)
            self.query_one(DevicePanel).show(history)  # stats events leave the signature as it is: drawn apart
            if signature == self._drawn:
                return
            self._drawn = signature
            self.findings = run_rules(history) if history.epochs or history.run else []
            self.query_one(LossChart).show(history, self.chart_mode)
            self.query_one(StatusPanel).show(self.findings, self.can_apply_remedy, history.fatal_error, test=history.test)
            self.query_one(HparamPanel).show(history)
            self.query_one(EventLogPane).show(history)

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

        self.push_screen(RunsBrowser(str(self.history.config.get("log_dir") or "logs")))

    def action_help(self) -> None:
        """Show every key of this mode."""
        self.push_screen(HelpScreen(help_lines(self, self._bindings_for_help())))

    def _bindings_for_help(self) -> list[Binding]:
        seen, result = set(), []
        for cls in type(self).__mro__:
            for binding in getattr(cls, "BINDINGS", []) if cls is not App else []:
                if isinstance(binding, Binding) and binding.action not in seen:
                    seen.add(binding.action)
                    result.append(binding)
        return result

    def action_quit_app(self) -> None:
        """Quit (modes with a live engine ask first)."""
        self.exit()

    async def action_quit(self) -> None:
        """ctrl+q and the palette's Quit take the same path as `q`, never a bare exit."""
        self.action_quit_app()

    def action_help_quit(self) -> None:
        """Textual's ctrl+c hint, for a screen that lets ctrl+c through: quit the same way too."""
        self.action_quit_app()
