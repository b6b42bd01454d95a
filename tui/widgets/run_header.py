"""Top line: a state badge (PAUSED stands out), epoch/total, ETA, samples/s, run id, device and data."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.events import EndReason
from engine.store.history import History, RunState

# The run's state, or the mode badge that stands in for it (a replayed or followed log).
BADGES = {RunState.RUNNING: ("RUNNING", "bold black on green"), RunState.PAUSED: ("PAUSED", "bold white on red"),
          RunState.ENDED: ("FINISHED", "bold black on cyan"), RunState.WAITING: ("STARTING", "bold black on yellow"),
          "replay": ("REPLAY", "bold black on magenta"), "follow": ("FOLLOW", "bold black on magenta")}
FAILED = ("FAILED", "bold white on red")


def eta_text(history: History) -> str:
    """Remaining epochs times the recent seconds per epoch."""
    rows = history.rows()
    if not rows or history.state is RunState.ENDED:
        return "-"
    recent = [r.seconds for r in rows[-5:] if r.seconds]
    if not recent:
        return "-"
    seconds = (rows[-1].epochs - rows[-1].epoch) * sum(recent) / len(recent)
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class RunHeader(Static):
    """One-line run summary."""

    DEFAULT_CSS = "RunHeader { height: 1; background: $panel; }"
    _shown: Text | None = None

    def show(self, history: History, mode_badge: str | None = None) -> None:
        """Redraw from the history."""
        run = history.run
        rows = history.rows()
        # Replay and follow replace the state badge; an attached view keeps it (PAUSED must show) and adds a tag.
        # A followed log that has ended is a finished run, not one still being written.
        following_ended = mode_badge == "follow" and history.state is RunState.ENDED
        state = mode_badge if mode_badge in ("replay", "follow") and not following_ended else history.state
        label, style = BADGES.get(state, (state.upper(), "bold"))
        if state is RunState.ENDED and history.ended is not None and history.ended.reason == EndReason.ERROR:
            label, style = FAILED
        if state is RunState.WAITING and rows:  # a resumed run starting again: not FINISHED, not a new run
            label = "RESUMING"
        threads = run.data.get("threads") if run is not None else None
        if rows and rows[-1].threads:  # `threads: auto` may change at an epoch end
            threads = rows[-1].threads
        text = Text()
        text.append(f" {label} ", style=style)
        if mode_badge == "attached":
            text.append(" attached", style="bold magenta")
        if history.state is RunState.WAITING and history.phase:
            text.append(f" {history.phase}…", style="bold yellow")
        if history.state is RunState.PAUSED and history.pause_reason not in ("", "user"):
            text.append(f" ({history.pause_reason})", style="bold red")
        # Progress first: at 80 columns the long data description is what gets cut, not the epoch or ETA.
        if rows:
            last = rows[-1]
            if mode_badge in ("replay", "follow"):
                # A log's planned total and ETA describe the run as it was then; the replay bar says where the log ends.
                text.append(f" epoch {last.epoch}", style="bold")
            else:
                text.append(f" epoch {last.epoch}/{last.epochs}", style="bold")
                text.append(f" · ETA {eta_text(history)}")
            if last.samples_per_s:
                text.append(f" · {last.samples_per_s:,.0f} samples/s")
            if threads:  # beside the throughput it explains, before the long run id that 80 columns cut
                text.append(f" · {threads} thr")
            text.append(" ·")
        if run is not None:
            text.append(f" {run.run_id} ", style="bold")
            count = f" ×{threads} thread{'s' if threads != 1 else ''}" if threads and not rows else ""
            text.append(f"{run.device}{count} · {run.data.get('source', '?')}")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one fixed line: no need to lay the screen out again
