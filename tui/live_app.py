"""Live training: the engine runs in one thread worker; keys steer it through the ControlChannel."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from engine.controls import KNOB_LABELS, ControlChannel, validate_knob
from engine.errors import InputError
from engine.events import CheckpointSaved, ErrorEvent, RunEnded
from engine.health import top_suggestion
from engine.history import History
from engine.trainer import Trainer
from tui.app import REDRAW_INTERVAL_S, DashboardApp
from tui.bridge import UiBridge
from tui.dialogs.quit_dialog import QuitDialog
from tui.dialogs.value_dialog import ValueDialog

LR_FACTOR = 1.25
DROPOUT_STEP = 0.05


class LiveDashboard(DashboardApp):
    """Dashboard of a run in progress."""

    BINDINGS = [
        Binding("space,p", "toggle_pause", "Pause/Resume"),
        Binding("equals_sign,plus", "lr_up", f"lr×{LR_FACTOR:g}"),
        Binding("minus", "lr_down", f"lr÷{LR_FACTOR:g}"),
        Binding("l", "set_value('lr')", "lr…"),
        Binding("right_square_bracket", "dropout_step(1)", "drop+"),
        Binding("left_square_bracket", "dropout_step(-1)", "drop-"),
        Binding("d", "set_value('dropout')", "dropout…"),
        Binding("w", "set_value('weight_decay')", "wd…"),
        Binding("a", "apply_remedy", "Remedy"),
        Binding("s", "save", "Save"),
    ]
    can_apply_remedy = True

    def __init__(self, trainer: Trainer | None, controls: ControlChannel | None, history: History | None = None) -> None:
        super().__init__(history)
        self.trainer = trainer
        self.controls = controls
        self.requested: dict[str, float] = dict(trainer.hparams) if trainer else dict(self.history.hparams)
        self.quitting = False

    def on_mount(self) -> None:
        super().on_mount()
        if self.trainer is not None:
            self.trainer.sinks.append(UiBridge(self, max(REDRAW_INTERVAL_S, self.trainer.config.step_event_interval_s)))
            self.train()

    def on_unmount(self) -> None:
        """Leaving the app for any reason ends the run cleanly, so its log closes with a run-end event."""
        if self.controls is not None and self.history.state != "ended":
            self.controls.stop()

    @work(thread=True, exclusive=True, exit_on_error=False, group="training", description="training")
    def train(self) -> None:
        """Run the trainer to its end in this worker thread."""
        self.trainer.run()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Failures of the training worker are shown, never swallowed."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            if self.history.ended is None or self.history.ended.reason != "error":  # else the engine's error event said it
                self.notify(f"training failed: {type(error).__name__}: {error}", severity="error", timeout=30)
            if self.quitting:
                self.exit()

    def after_event(self, event) -> None:
        if isinstance(event, CheckpointSaved) and event.reason == "manual":
            self.notify(f"checkpoint saved: {event.path}", timeout=6)
        elif isinstance(event, ErrorEvent):
            self.notify(event.message, severity="error", timeout=15)
        elif isinstance(event, RunEnded) and self.quitting:
            self.exit()

    @property
    def live(self) -> bool:
        """True while an engine is running and can take controls."""
        return self.controls is not None and self.history.state != "ended"

    def _send(self, name: str, value: float, source: str = "user") -> None:
        if not self.live:
            self.notify("the run has ended; nothing to change", severity="warning")
            return
        try:
            self.controls.set(name, value, source)
        except InputError as error:
            self.notify(str(error), severity="error")
            return
        self.requested[name] = value

    def action_toggle_pause(self) -> None:
        """Pause at the next step, or resume."""
        if not self.live:
            return
        self.controls.resume() if self.history.state == "paused" else self.controls.pause()

    def action_lr_up(self) -> None:
        """Raise the learning rate by a small factor."""
        self._send("lr", self.requested["lr"] * LR_FACTOR)

    def action_lr_down(self) -> None:
        """Lower the learning rate by a small factor."""
        self._send("lr", self.requested["lr"] / LR_FACTOR)

    def action_dropout_step(self, direction: int) -> None:
        """Dropout ±0.05, kept inside [0, 0.95]."""
        value = round(min(0.95, max(0.0, self.requested["dropout"] + direction * DROPOUT_STEP)), 4)
        self._send("dropout", value)

    def action_set_value(self, name: str) -> None:
        """Ask for an exact value in a dialog that validates it."""
        if not self.live:
            return

        def done(value: float | None) -> None:
            if value is not None:
                self._send(name, value)

        current = f"{self.requested[name]:g}"
        self.push_screen(ValueDialog(f"New {KNOB_LABELS[name]} (now {current})", current, lambda t: validate_knob(name, t)), done)

    def action_apply_remedy(self) -> None:
        """Apply the status panel's suggested remedy."""
        chosen = top_suggestion(self.findings)
        if chosen is None:
            self.notify("no remedy suggested right now", timeout=3)
            return
        finding, suggestion = chosen
        self._send(suggestion.name, suggestion.value, source="remedy")
        self.notify(f"{finding.rule}: {suggestion.label}", timeout=4)

    def action_save(self) -> None:
        """Save a checkpoint at the next step boundary."""
        if self.live:
            self.controls.save()

    def action_quit_app(self) -> None:
        """Ask whether to save; the engine then ends the log with a run-end event."""
        if not self.live or self.trainer is None:
            self.exit()
            return

        def chosen(choice: str) -> None:
            if choice == "cancel":
                return
            self.quitting = True
            if choice == "save":
                self.controls.save()
            self.controls.stop()
            self.notify("stopping at the next step…", timeout=5)

        self.push_screen(QuitDialog(), chosen)
