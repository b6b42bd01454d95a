"""A live run: in this process (the engine in a thread worker) or attached over its socket; keys steer either way."""

from __future__ import annotations

import asyncio
import signal

from textual.binding import Binding
from textual.worker import Worker, WorkerState

from engine.control.channel import Control, Controller
from engine.knobs import KNOBS, validate_knob
from engine.errors import InputError
from engine.events import CheckpointSaved, EndReason, ErrorEvent, RunEnded
from engine.health import top_suggestion
from engine.store.history import History, RunState
from engine.control.signals import EXIT_CODES, detach_from_terminal
from tui.app import REDRAW_INTERVAL_S, DashboardApp
from tui.dialogs.attach_quit_dialog import AttachQuitDialog
from tui.dialogs.quit_dialog import QuitDialog
from tui.dialogs.value_dialog import ValueDialog
from tui.messages import SourceClosed
from tui.sources import EventSource, TrainerSource

class LiveDashboard(DashboardApp):
    """Dashboard of a run in progress."""

    # The footer shows the keys that matter at 80 columns; the knob steps are in `?` and the palette.
    BINDINGS = [
        Binding("space,p", "toggle_pause", "Pause", tooltip="Pause ⇄ resume training"),
        Binding("a", "apply_remedy", "Remedy", tooltip="Apply the status panel's remedy"),
        Binding("s", "save", "Save", tooltip="Save a checkpoint now"),
        Binding("l", "set_value('lr')", "lr…", tooltip="Learning rate: type an exact value"),
        Binding("equals_sign,plus", "lr_up", show=False, tooltip=f"Learning rate {KNOBS['lr'].step_label(1)} (lr up)"),
        Binding("minus", "lr_down", show=False, tooltip=f"Learning rate {KNOBS['lr'].step_label(-1)} (lr down)"),
        Binding("right_square_bracket", "dropout_step(1)", show=False, tooltip=f"Dropout {KNOBS['dropout'].step_label(1)}"),
        Binding("left_square_bracket", "dropout_step(-1)", show=False, tooltip=f"Dropout {KNOBS['dropout'].step_label(-1)}"),
        Binding("d", "set_value('dropout')", show=False, tooltip="Dropout: type an exact value"),
        Binding("w", "set_value('weight_decay')", show=False, tooltip="Weight decay: type an exact value"),
    ]
    can_apply_remedy = True

    def __init__(self, trainer=None, controls: Controller | None = None, history: History | None = None,
                 source: EventSource | None = None, attached: bool = False) -> None:
        if source is None and trainer is not None:
            source = TrainerSource(trainer, max(REDRAW_INTERVAL_S, trainer.config.step_event_interval_s))
        super().__init__(history, source)
        self.trainer = trainer
        self.controls = controls
        self.attached = attached
        if attached:
            self.badge = "attached"
        self.requested: dict[str, float] = dict(trainer.hparams) if trainer else dict(self.history.hparams)
        self.quitting = False
        self.hung_up = False
        self.detached = False
        self.exit_code = 0

    def on_mount(self) -> None:
        # Textual calls DashboardApp.on_mount / on_unmount itself (handlers run for each class in the MRO).
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._terminal_hung_up)
            for signum in EXIT_CODES:
                loop.add_signal_handler(signum, self._stop_signal, signum)
        except (RuntimeError, ValueError):  # not the main thread (an embedding host): keep the default handlers
            pass

    def on_unmount(self) -> None:
        """Leaving ends an in-process run cleanly (its log closes with run_end), unless the terminal hung up."""
        if self.controls is not None and not self.attached and not self.hung_up and self.history.state is not RunState.ENDED:
            self.controls.stop()

    def _terminal_hung_up(self) -> None:
        """SIGHUP: the terminal is gone. Draw nothing more; an in-process run trains on and stays attachable."""
        self.hung_up = True
        detach_from_terminal(self.trainer.run_dir / "console.log" if self.trainer and self.trainer.run_dir else None)
        if self.controls is not None and not self.attached:
            self.controls.put(Control("note", "terminal hung up; training goes on (stockpred-tui attach)", source="SIGHUP"))
        self.exit()

    def _stop_signal(self, signum: int) -> None:
        """SIGTERM or SIGINT: like headless Ctrl-C, save interrupt.pt and end (an attached view just detaches)."""
        if self.attached or not self.live:
            self.exit()
            return
        self.quitting = True
        self.exit_code = EXIT_CODES[signum]
        self.controls.interrupt(source=signal.Signals(signum).name)

    def on_source_closed(self, message: SourceClosed) -> None:
        """The run's socket closed: after a stop we asked for, leave; otherwise say so and keep the last view."""
        if self.quitting:
            self.exit()
        elif self.history.state is not RunState.ENDED:
            self.notify(f"connection to the run lost: {message.reason}", severity="error", timeout=30)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Failures of the training worker are shown, never swallowed."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            if self.history.ended is None or self.history.ended.reason != EndReason.ERROR:  # else the engine's error event said it
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
        return self.controls is not None and self.history.state is not RunState.ENDED

    def _control(self, send, *args) -> bool:
        """Send one control; a refusal (a closed socket, a bad value) becomes a notification."""
        try:
            send(*args)
            return True
        except (InputError, OSError) as error:
            self.notify(str(error), severity="error")
            return False

    def _send(self, name: str, value: float, source: str = "user") -> None:
        if not self.live:
            self.notify("the run has ended; nothing to change", severity="warning")
            return
        if self._control(self.controls.set, name, value, source):
            self.requested[name] = value

    def action_toggle_pause(self) -> None:
        """Pause at the next step, or resume."""
        if not self.live:
            return
        self._control(self.controls.resume if self.history.state is RunState.PAUSED else self.controls.pause)

    def action_lr_up(self) -> None:
        """Raise the learning rate by the knob's key step."""
        self._send("lr", KNOBS["lr"].stepped(self.requested["lr"], 1))

    def action_lr_down(self) -> None:
        """Lower the learning rate by the knob's key step."""
        self._send("lr", KNOBS["lr"].stepped(self.requested["lr"], -1))

    def action_dropout_step(self, direction: int) -> None:
        """Dropout one key step up or down, kept inside the knob's range."""
        self._send("dropout", KNOBS["dropout"].stepped(self.requested["dropout"], direction))

    def action_set_value(self, name: str) -> None:
        """Ask for an exact value in a dialog that validates it."""
        if not self.live:
            return

        def done(value: float | None) -> None:
            if value is not None:
                self._send(name, value)

        current = f"{self.requested[name]:g}"
        self.push_screen(ValueDialog(f"New {KNOBS[name].label} (now {current})", current, lambda t: validate_knob(name, t)), done)

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
            self._control(self.controls.save)

    def action_quit_app(self) -> None:
        """Ask whether to save (attached: or to detach); the engine then ends the log with a run-end event."""
        if not self.live or isinstance(self.screen, (QuitDialog, AttachQuitDialog)):
            self.exit()
            return

        def chosen(choice: str) -> None:
            if choice == "cancel":
                return
            if choice == "detach":
                self.detached = True
                self.exit()
                return
            self.quitting = True
            if choice == "save" and not self._control(self.controls.save):
                return
            if self._control(self.controls.stop):
                self.notify("stopping at the next step…", timeout=5)

        self.push_screen(AttachQuitDialog() if self.attached else QuitDialog(), chosen)
