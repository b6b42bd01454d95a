"""Where a dashboard's events come from: an in-process trainer, a log being written, or a live run's socket.

Each source delivers batches of typed events to its dashboard screen as EventsArrived messages, from its own thread;
the screen folds them into one History and never asks which source it has.
"""

from __future__ import annotations

import threading
from typing import Protocol

from textual.widget import Widget

from engine.store.log_follower import LogFollower
from tui.bridge import UiBridge
from tui.messages import EventsArrived, Notice, SourceClosed

FOLLOW_POLL_S = 0.5


class EventSource(Protocol):
    """Something that posts EventsArrived to a dashboard screen until stopped."""

    def start(self, screen: Widget) -> None:
        """Begin delivering events to `screen`."""

    def stop(self) -> None:
        """Stop delivering (the run itself may go on)."""


class TrainerSource:
    """An in-process trainer run in the screen's thread worker; its events come through a throttled bridge."""

    def __init__(self, trainer, interval_s: float) -> None:
        self.trainer = trainer
        self.interval_s = interval_s

    def start(self, screen: Widget) -> None:
        """Hook the bridge into the trainer's sinks and run it in one thread worker."""
        self.trainer.sinks.append(UiBridge(screen, self.interval_s))
        screen.run_worker(self.trainer.run, thread=True, exclusive=True, exit_on_error=False, group="training",
                       description="training")

    def stop(self) -> None:
        """Nothing to do: the screen's mode decides whether leaving stops the run."""


class FollowSource:
    """Tails an events.jsonl another process writes, reading and parsing on its own thread."""

    def __init__(self, follower: LogFollower, interval_s: float = FOLLOW_POLL_S) -> None:
        self.follower = follower
        self.interval_s = interval_s
        self._stopped = threading.Event()

    def start(self, screen: Widget) -> None:
        """Poll the file in a daemon thread and post what it adds."""
        threading.Thread(target=self._loop, args=(screen,), name="follow", daemon=True).start()

    def _loop(self, screen: Widget) -> None:
        seen = len(self.follower.notices)
        while not self._stopped.wait(self.interval_s):
            events = self.follower.poll_events()
            if events:
                screen.post_message(EventsArrived(events))
            for notice in self.follower.notices[seen:]:
                screen.post_message(Notice(notice))
            seen = len(self.follower.notices)

    def stop(self) -> None:
        """End the polling thread."""
        self._stopped.set()


class SocketSource:
    """Live events of a run in another process, from its control socket."""

    def __init__(self, client) -> None:
        self.client = client

    def start(self, screen: Widget) -> None:
        """Start the client's reader thread; replies that refuse a control, or note it changed nothing, become notices."""

        def replied(reply: dict) -> None:
            if not reply.get("ok", True):
                screen.post_message(Notice(f"refused: {reply.get('error', 'unknown problem')}", "error"))
            elif isinstance(reply.get("note"), str):
                screen.post_message(Notice(reply["note"], "information"))

        self.client.start(lambda events: screen.post_message(EventsArrived(events)), replied,
                          lambda why: screen.post_message(SourceClosed(why)))

    def stop(self) -> None:
        """Detach: close the connection; the run goes on."""
        self.client.close()
