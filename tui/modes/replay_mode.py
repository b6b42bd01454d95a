"""Replay and follow: a dashboard over a saved (or growing) log, with a time cursor."""

from __future__ import annotations

from typing import Iterator

from textual.binding import Binding
from textual.widget import Widget

from engine.errors import InputError
from engine.events import EpochEvent
from engine.store.history import History, RunState
from tui.dialogs.value_dialog import ValueDialog
from tui.modes.mode import DashboardMode
from tui.widgets.replay_bar import ReplayBar
from tui.widgets.step_progress import StepProgressBar

SPEEDS = [0.5, 1, 2, 5, 10, 25, 50, 100]


class ReplayMode(DashboardMode):
    """A read-only dashboard with a time cursor; findings are recomputed from the data up to the cursor."""

    BINDINGS = [
        Binding("space", "toggle_play", "Play/Stop"),
        Binding("right", "step(1)", "+1 epoch", priority=True),
        Binding("left", "step(-1)", "-1 epoch", priority=True),
        Binding("home", "jump('start')", "Start", priority=True),
        Binding("end", "jump('end')", "End", priority=True),
        Binding("equals_sign,plus", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
        Binding("g", "goto", "Go to…"),
    ]
    def __init__(self, history: History, notices: list[str] | None = None, following: bool = False) -> None:
        self.following = following
        self.badge = "follow" if following else "replay"
        self.notices = notices or []
        self.cursor = max(history.epochs, default=0)
        self.playing = False
        self.speed_index = 2
        self._timer = None

    @property
    def last_epoch(self) -> int:
        """Highest epoch in the log."""
        return max(self.history.epochs, default=0)

    def compose_extra(self) -> Iterator[Widget]:
        yield ReplayBar(id="replay-bar")

    def mounted(self) -> None:
        self.screen.query_one(StepProgressBar).display = self.following  # a saved log has no epoch in progress
        for notice in self.notices:
            self.screen.notify(notice, severity="warning", timeout=10)

    def after_event(self, event) -> None:
        """A followed log grew: a cursor on the last epoch moves on with it."""
        if isinstance(event, EpochEvent) and self.cursor == event.epoch - 1:
            self.cursor = event.epoch

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The cursor keys are priority bindings: leave them to a dialog or screen shown on top of the replay."""
        return not (action in ("step", "jump") and not self.screen.is_current)

    def view(self, history: History) -> History:
        return history if self.cursor >= self.last_epoch else history.upto(self.cursor)

    def redrawn(self) -> None:
        self.screen.query_one(ReplayBar).show(self.cursor, self.last_epoch, self.playing, SPEEDS[self.speed_index], self.following,
                                         self.history.state is RunState.ENDED)

    def move_to(self, epoch: int) -> None:
        """Put the cursor on an epoch (clamped) and redraw."""
        self.cursor = max(min(self.history.epochs, default=0), min(epoch, self.last_epoch))
        self.screen.redraw()  # a key press is answered at once; only streamed events wait for the throttled redraw

    def action_step(self, delta: int) -> None:
        """One epoch forward or back."""
        self.move_to(self.cursor + delta)

    def action_jump(self, where: str) -> None:
        """To the first or the last epoch."""
        self.move_to(0 if where == "start" else self.last_epoch)

    def action_toggle_play(self) -> None:
        """Play the run forward at the current speed, or stop."""
        self.playing = not self.playing
        if self.playing and self.cursor >= self.last_epoch:
            self.move_to(0)
        self._restart_timer()
        self.screen.redraw_soon()

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.playing:
            self._timer = self.screen.set_interval(1 / SPEEDS[self.speed_index], self._tick)

    def _tick(self) -> None:
        if self.cursor >= self.last_epoch:
            self.playing = False
            self._restart_timer()
        else:
            self.move_to(self.cursor + 1)

    def action_speed(self, direction: int) -> None:
        """Faster or slower playback."""
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + direction))
        self._restart_timer()
        self.screen.redraw_soon()

    def action_goto(self) -> None:
        """Type an epoch number."""

        def check(text: str) -> int:
            try:
                epoch = int(text.strip())
            except ValueError:
                raise InputError("epoch", f"{text.strip()!r} is not a whole number") from None
            if not 0 <= epoch <= self.last_epoch:
                raise InputError("epoch", f"must be between 0 and {self.last_epoch}")
            return epoch

        self.screen.app.push_screen(ValueDialog(f"Go to epoch (0–{self.last_epoch})", str(self.cursor), check),
                         lambda epoch: epoch is not None and self.move_to(int(epoch)))
