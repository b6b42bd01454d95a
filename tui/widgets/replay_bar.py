"""Replay cursor position, play state and speed."""

from __future__ import annotations

from textual.widgets import Static


class ReplayBar(Static):
    """One line telling where the replay cursor is."""

    DEFAULT_CSS = "ReplayBar { height: 1; background: $boost; }"

    def show(self, cursor: int, total: int, playing: bool, speed: float, follow: bool) -> None:
        """Redraw."""
        state = "following" if follow else ("playing" if playing else "stopped")
        self.update(f" epoch {cursor}/{total} · {state} · {speed:g} epochs/s · "
                    "←/→ step  home/end  space play  +/- speed  g go to")
