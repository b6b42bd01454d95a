"""One line under the header: the current epoch's steps as a progress bar, steps/s and the epoch's ETA; where the
step samples carry no position (a followed log's), the run's progress in epochs instead."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from engine.store.history import History, RunState
from engine.step_meter import StepMeter


class StepProgressBar(Horizontal):
    """Moves during an epoch, so the first minute of a slow run is not a still screen."""

    DEFAULT_CSS = """
    StepProgressBar { height: 1; }
    StepProgressBar ProgressBar { width: 22; }
    StepProgressBar Bar { width: 16; }
    StepProgressBar Label { width: 1fr; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.meter = StepMeter()
        self._seen = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, show_percentage=True, id="step-bar")
        yield Label("waiting for the first step…", id="step-text")

    def show(self, history: History) -> None:
        """Follow the newest step sample; between epochs and after the end say so."""
        step = history.last_step
        label = self.query_one("#step-text", Label)
        bar = self.query_one("#step-bar", ProgressBar)
        if history.state is RunState.ENDED:
            bar.update(total=1, progress=1)
            label.update("run ended", layout=False)
            return
        if step is None:
            rows = history.rows()
            done, total = (rows[-1].epoch, rows[-1].epochs) if rows else (0, 0)
            if done:  # between epochs (or before a resumed run's first step): the run's progress, not an empty bar
                bar.update(total=max(1, total or done), progress=done)
            of_total = f"/{total}" if total else ""
            waiting = f"epoch {done}{of_total} done, next starting" if done else "waiting for the first step"
            label.update("paused" if history.state is RunState.PAUSED else waiting + "…", layout=False)
            return
        if step.batches <= 0:  # no position in the sample: its epoch rows move this bar, so look at them every time
            self._show_epochs(history, bar, label)
            return
        if step is self._seen:
            return
        self._seen = step
        progress = self.meter.add(step)
        bar.update(total=max(1, step.batches), progress=step.batch)
        label.update(progress.text() + (" · paused" if history.state is RunState.PAUSED else ""), layout=False)

    @staticmethod
    def _show_epochs(history: History, bar: ProgressBar, label: Label) -> None:
        """Epochs done of the planned total: a followed log's step samples keep only the step and the loss."""
        rows = history.rows()
        done = rows[-1].epoch if rows else 0
        total = rows[-1].epochs if rows else 0
        bar.update(total=max(1, total or done), progress=done)
        if not done:
            label.update("following the log · waiting for the first epoch", layout=False)
            return
        paused = " · paused" if history.state is RunState.PAUSED else ""
        label.update(f"epoch {done}/{total} done · epoch {done + 1} in progress{paused}" if total and done < total
                     else f"epoch {done} done{paused}", layout=False)
