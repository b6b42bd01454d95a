"""Two top lines: what must always show (state badge, run id, epoch/total and ETA) first, then the throughput, threads,
device, data source and the tickers trained on the second."""

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
# Past this many tickers the header counts them instead of naming them.
TICKERS_NAMED = 6


def data_text(data: dict) -> str:
    """'bundled Quandl WIKI · AAPL GOOG IBM MSFT': the source and the tickers this run trains on. Older logs named
    every ticker of the bundled file in the source (FB among them, though the default config leaves it out)."""
    source = str(data.get("source", "?"))
    tickers = [str(t) for t in data.get("tickers") or []]
    if not tickers:
        return source
    if source.startswith("bundled ") and source.endswith(")") and " (" in source:
        source = source[:source.index(" (")]
    named = " ".join(tickers) if len(tickers) <= TICKERS_NAMED else f"{len(tickers)} tickers"
    return f"{source} · {named}"


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
    """Run summary: state, run id and progress on the first line; speed, device and data on the second."""

    DEFAULT_CSS = "RunHeader { height: 2; background: $panel; }"
    _shown: Text | None = None

    def show(self, history: History, mode_badge: str | None = None) -> None:
        """Redraw from the history."""
        text = self.first_line(history, mode_badge)
        text.append("\n")
        text.append_text(self.second_line(history, mode_badge))
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # two fixed lines: no need to lay the screen out again

    @staticmethod
    def first_line(history: History, mode_badge: str | None) -> Text:
        """Badge, pause reason, run id, epoch (of the total) and ETA: what 80 columns must never cut."""
        # Replay and follow replace the state badge; an attached view keeps it (PAUSED must show) and tags line two.
        # A followed log that has ended is a finished run, not one still being written.
        following_ended = mode_badge == "follow" and history.state is RunState.ENDED
        state = mode_badge if mode_badge in ("replay", "follow") and not following_ended else history.state
        label, style = BADGES.get(state, (state.upper(), "bold"))
        if state is RunState.ENDED and history.ended is not None and history.ended.reason == EndReason.ERROR:
            label, style = FAILED
        rows = history.rows()
        if state is RunState.WAITING and rows:  # a resumed run starting again: not FINISHED, not a new run
            label = "RESUMING"
        text = Text()
        text.append(f" {label} ", style=style)
        if history.state is RunState.WAITING and history.phase:
            text.append(f" {history.phase}…", style="bold yellow")
        if history.state is RunState.PAUSED and history.pause_reason not in ("", "user"):
            text.append(f" ({history.pause_reason})", style="bold red")
        if history.run is not None:
            text.append(f" {history.run.run_id}", style="bold")
        if rows:
            last = rows[-1]
            if mode_badge in ("replay", "follow"):
                # A log's planned total and ETA describe the run as it was then; the replay bar says where the log ends.
                text.append(f" · epoch {last.epoch}", style="bold")
            else:
                text.append(f" · epoch {last.epoch}/{last.epochs}", style="bold")
                if history.state is not RunState.WAITING:  # starting: no pace yet, and 80 columns hold the phase
                    text.append(f" · ETA {eta_text(history)}")
        return text

    @staticmethod
    def second_line(history: History, mode_badge: str | None) -> Text:
        """'attached', samples/s, threads, device, data source and tickers (dim: the details)."""
        run, rows = history.run, history.rows()
        threads = run.data.get("threads") if run is not None else None
        if rows and rows[-1].threads:  # `threads: auto` may change at an epoch end
            threads = rows[-1].threads
        parts = []
        if rows and rows[-1].samples_per_s:
            parts.append(f"{rows[-1].samples_per_s:,.0f} samples/s")
        if threads and rows:
            parts.append(f"{threads} thr")  # beside the throughput it explains
        if run is not None:
            count = f" ×{threads} thread{'s' if threads != 1 else ''}" if threads and not rows else ""
            parts += [f"{run.device}{count}", data_text(run.data)]
        text = Text(" ")
        if mode_badge == "attached":
            text.append("attached ", style="bold magenta")
        text.append(" · ".join(parts), style="dim")
        return text
