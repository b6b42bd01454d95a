"""What the control server knows of whether the run is paused, to answer a repeated pause "already paused".

The trainer alone decides (it applies every control and logs only a change), and the server passes every control
on, so this view only words the reply. It is the log's last word, with the pauses and resumes the server has passed
on since then laid over it: each of those is taken off when a line of its kind is read (the trainer logged it, or
someone else made the same change first), so a view a moment behind the log still answers a quick pause, resume,
resume with "already running" for the last.
"""

from __future__ import annotations

from collections import deque

from engine.events import Paused, Resumed

CHANGE_OF = {"pause": Paused.kind, "resume": Resumed.kind}


class PauseView:
    """The log's paused state and the pause/resume controls passed on but not yet seen in it."""

    def __init__(self) -> None:
        self.logged_paused = False
        self.pending: deque[str] = deque()  # "pause" / "resume", oldest first

    @property
    def paused(self) -> bool:
        """Whether the run is (or is about to be) paused, as far as the log and the controls passed on tell."""
        return self.pending[-1] == "pause" if self.pending else self.logged_paused

    def note_for(self, action: str) -> str:
        """'already paused' / 'already running' for a pause or resume that changes nothing; else ''."""
        if action == "pause" and self.paused:
            return "already paused"
        if action == "resume" and not self.paused:
            return "already running"
        return ""

    def passed_on(self, action: str) -> None:
        """A pause or resume that changes the state was handed to the trainer."""
        if action in CHANGE_OF and not self.note_for(action):
            self.pending.append(action)

    def read(self, kinds: list[str]) -> None:
        """Lines the log gained that pause, resume, start or end the run, in order."""
        for kind in kinds:
            if kind not in CHANGE_OF.values():  # a run start or end: not paused, nothing outstanding
                self.logged_paused = False
                self.pending.clear()
                continue
            self.logged_paused = kind == Paused.kind
            if self.pending and CHANGE_OF[self.pending[0]] == kind:
                self.pending.popleft()
