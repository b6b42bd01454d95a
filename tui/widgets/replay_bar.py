"""Replay cursor position, play state and speed."""

from __future__ import annotations

from textual.widgets import Static


class ReplayBar(Static):
    """One line telling where the replay cursor is."""

    DEFAULT_CSS = "ReplayBar { height: 1; background: $boost; }"

    def show(self, cursor: int, total: int, playing: bool, speed: float, follow: bool, ended: bool = False) -> None:
        """Redraw; a followed log that has ended says so, and the speed shows only while it means something."""
        if follow and not ended:
            state = "following"
        elif follow:
            state = "log ended"
        else:
            state = f"{'playing' if playing else 'stopped'} · {speed:g} epochs/s"
        self.update(f" epoch {cursor}/{total} · {state} · ←/→ step  home/end  space play  +/- speed  g go to")
