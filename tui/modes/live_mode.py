"""A live run, steered over its control socket: the trainer process this dashboard started, or one it attached to.

(An in-process trainer run by a thread worker remains for the Pilot tests that read the trainer's own modules.)"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState

from engine.commands.branch_start import BranchChoice, start_branch_from_dialog
from engine.control.channel import Controller
from engine.knobs import KNOBS, validate_knob
from engine.errors import InputError
from engine.events import CheckpointSaved, EndReason, ErrorEvent, RunEnded
from engine.health import top_suggestion
from engine.store.history import RunState
from tui.client_exit import SIGTERM_EXIT
from tui.dialogs.attach_quit_dialog import AttachQuitDialog
from tui.dialogs.branch_dialog import BranchDialog
from tui.dialogs.quit_dialog import QuitDialog
from tui.dialogs.value_dialog import ValueDialog
from tui.messages import SourceClosed, TrainerConnected, TrainerFailed
from tui.modes.mode import DashboardMode
from tui.widgets.footer_state import pause_key_label, relabel, remedy_key_state


class LiveMode(DashboardMode):
    """A run in progress: pause, save, knobs and remedies go to its controller; quitting asks first."""

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
        Binding("b", "branch", show=False, tooltip="Branch: fork this run into a new run with other knobs"),
    ]
    can_apply_remedy = True

    def __init__(self, controls: Controller | None = None, attached: bool = False, trainer=None,
                 hparams: dict[str, float] | None = None) -> None:
        self.trainer = trainer
        self.controls = controls
        self.attached = attached
        self.badge = "attached" if attached else None
        self.requested: dict[str, float] = dict(trainer.hparams) if trainer else dict(hparams or {})
        self.quitting = False
        self.detached = False
        self.startup_error = ""
        self.exit_code = 0
        self._remedy_key: bool | None = None

    @property
    def in_process(self) -> bool:
        """True only for the tests' in-process trainer: leaving it stops it (it cannot outlive this process)."""
        return self.trainer is not None

    def unmounted(self) -> None:
        """Leaving ends only an in-process run (its log closes with run_end); a trainer process trains on."""
        if self.in_process and self.controls is not None and self.history.state is not RunState.ENDED:
            self.controls.stop()

    def sigterm(self) -> None:
        """SIGTERM to a client detaches it (exit 143); the trainer process trains on. In-process: save and end."""
        self.exit_code = SIGTERM_EXIT
        if not self.in_process or not self.live:
            self.detached = True
            self.screen.app.exit(SIGTERM_EXIT)
            return
        self.quitting = True
        self.controls.interrupt(source="SIGTERM")

    def redrawn(self) -> None:
        """The footer says Resume while paused, and dims the remedy key while there is nothing to apply."""
        remedy = remedy_key_state(self.screen.findings)
        if relabel(self.screen, "toggle_pause", pause_key_label(self.history)) or remedy != self._remedy_key:
            self._remedy_key = remedy
            self.screen.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The remedy key works (and shows) only when the status panel suggests one."""
        return remedy_key_state(self.screen.findings) if action == "apply_remedy" else True

    def source_said(self, message: Message) -> None:
        """What the event source says besides events: the trainer answered or failed, the socket closed, a worker ended."""
        if isinstance(message, TrainerConnected):
            self.trainer_connected(message)
        elif isinstance(message, TrainerFailed):
            self.trainer_failed(message)
        elif isinstance(message, SourceClosed):
            self.source_closed(message)
        elif isinstance(message, Worker.StateChanged):
            self.worker_changed(message)

    def trainer_connected(self, message: TrainerConnected) -> None:
        """The trainer process answered: steer it from now on, and show what its log holds."""
        self.controls = message.controls
        self.screen.history = message.history
        self.requested = dict(self.history.hparams)
        self.screen.redraw()

    def trainer_failed(self, message: TrainerFailed) -> None:
        """The trainer process ended (or hung) before it answered: the CLI prints its line."""
        self.startup_error = message.line
        self.screen.app.exit(2)

    def source_closed(self, message: SourceClosed) -> None:
        """The run's socket closed: after a stop we asked for, leave; otherwise say so and keep the last view."""
        if self.quitting:
            self.screen.app.exit()
        elif self.history.state is not RunState.ENDED:
            self.screen.notify(f"connection to the run lost: {message.reason}", severity="error", timeout=30)

    def worker_changed(self, event: Worker.StateChanged) -> None:
        """Failures of the training worker are shown, never swallowed."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            if self.history.ended is None or self.history.ended.reason != EndReason.ERROR:  # else the engine's error event said it
                self.screen.notify(f"training failed: {type(error).__name__}: {error}", severity="error", timeout=30)
            if self.quitting:
                self.screen.app.exit()

    def after_event(self, event) -> None:
        if isinstance(event, RunEnded) and self.failed_before_training:
            self.screen.app.exit(2)  # a data error found by the trainer process: the CLI prints the one line
        if isinstance(event, CheckpointSaved) and event.reason == "manual":
            self.screen.notify(f"checkpoint saved: {event.path}", timeout=6)
        elif isinstance(event, ErrorEvent):
            self.screen.notify(event.message, severity="error", timeout=15)
        elif isinstance(event, RunEnded) and self.quitting:
            self.screen.app.exit()

    @property
    def failed_before_training(self) -> bool:
        """The run ended in an error before its first epoch of this start (a bad CSV, a checkpoint of another model)."""
        ended, run = self.history.ended, self.history.run
        return (ended is not None and ended.reason == EndReason.ERROR and not self.in_process
                and ended.epoch == (run.start_epoch if run is not None else 0) and bool(self.history.fatal_error))

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
            self.screen.notify(str(error), severity="error")
            return False

    def _send(self, name: str, value: float, source: str = "user") -> None:
        if not self.live:
            self.screen.notify("the run has ended; nothing to change", severity="warning")
            return
        if self._control(self.controls.set, name, value, source):
            self.requested[name] = value

    def knob(self, name: str) -> float | None:
        """The value last asked for, else the one in force; None (and a notice) while the trainer is still starting."""
        value = self.requested.get(name, self.history.hparams.get(name))
        if value is None:
            self.screen.notify("the trainer is still starting; try again in a moment", severity="warning", timeout=3)
        return value

    def _step(self, name: str, direction: int) -> None:
        value = self.knob(name)
        if value is not None:
            self._send(name, KNOBS[name].stepped(value, direction))

    def action_toggle_pause(self) -> None:
        """Pause at the next step, or resume."""
        if not self.live:
            return
        self._control(self.controls.resume if self.history.state is RunState.PAUSED else self.controls.pause)

    def action_lr_up(self) -> None:
        """Raise the learning rate by the knob's key step."""
        self._step("lr", 1)

    def action_lr_down(self) -> None:
        """Lower the learning rate by the knob's key step."""
        self._step("lr", -1)

    def action_dropout_step(self, direction: int) -> None:
        """Dropout one key step up or down, kept inside the knob's range."""
        self._step("dropout", direction)

    def action_set_value(self, name: str) -> None:
        """Ask for an exact value in a dialog that validates it."""
        if not self.live:
            return

        def done(value: float | None) -> None:
            if value is not None:
                self._send(name, value)

        if self.knob(name) is None:
            return
        current = f"{self.knob(name):g}"
        self.screen.app.push_screen(ValueDialog(f"New {KNOBS[name].label} (now {current})", current, lambda t: validate_knob(name, t)), done)

    def action_apply_remedy(self) -> None:
        """Apply the status panel's suggested remedy."""
        chosen = top_suggestion(self.screen.findings)
        if chosen is None:
            self.screen.notify("no remedy suggested right now", timeout=3)
            return
        finding, suggestion = chosen
        self._send(suggestion.name, suggestion.value, source="remedy")
        self.screen.notify(f"{finding.rule}: {suggestion.label}", timeout=4)

    def action_save(self) -> None:
        """Save a checkpoint at the next step boundary."""
        if self.live:
            self._control(self.controls.save)

    def quit(self) -> None:
        """Ask whether to save (attached: or to detach); the engine then ends the log with a run-end event."""
        app = self.screen.app
        if not self.live or isinstance(app.screen, (QuitDialog, AttachQuitDialog)):
            self.detached = self.detached or not self.in_process and self.history.state is not RunState.ENDED
            app.exit()
            return

        def chosen(choice: str) -> None:
            if choice == "cancel":
                return
            if choice == "detach":
                self.detached = True
                app.exit()
                return
            self.quitting = True
            if choice == "save" and not self._control(self.controls.save):
                return
            if self._control(self.controls.stop):
                self.screen.notify("stopping at the next step…", timeout=5)

        self.screen.app.push_screen(QuitDialog() if self.in_process else AttachQuitDialog(), chosen)

    def action_branch(self) -> None:
        """Fork this run: the branch dialog, then `stockpred-tui branch … --detach` off the UI thread."""
        run = self.history.run
        if run is None:
            self.screen.notify("the trainer is still starting; try again in a moment", severity="warning", timeout=3)
            return
        run_dir = Path(self.history.config.get("log_dir", "logs")) / run.run_id
        if not run_dir.is_dir():
            self.screen.notify(f"{run_dir}: not found from here; use `stockpred-tui branch {run.run_id} --log-dir DIR`",
                               severity="error")
            return

        def chosen(choice: BranchChoice | None) -> None:
            if choice is not None:
                self.screen.run_worker(lambda: self._start_branch(choice, run_dir), thread=True, exit_on_error=False,
                                       group="branch")

        self.screen.app.push_screen(BranchDialog(run.run_id, dict(self.history.hparams), live=self.live), chosen)

    def _start_branch(self, choice: BranchChoice, run_dir: Path) -> None:
        app = self.screen.app
        try:
            new_id = start_branch_from_dialog(choice, run_dir)
        except InputError as error:
            app.call_from_thread(self.screen.notify, str(error), severity="error", timeout=15)
            return
        app.call_from_thread(self.screen.notify, f"branch {new_id} started: stockpred-tui attach {new_id}", timeout=15)
