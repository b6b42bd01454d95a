"""Say an event once: the event log pane and the headless printer both take their lines from here."""

from __future__ import annotations

from dataclasses import dataclass

from engine.events import (CheckpointSaved, EarlyStopped, EpochEvent, ErrorEvent, Event, HyperparamChanged, Paused,
                           Resumed, RunEnded, RunStarted, SessionNote, TestEvaluation)
from engine.held_out_text import held_out_summary

AUTOMATIC_SAVES = ("best", "periodic")


@dataclass(frozen=True)
class Said:
    """One line about an event; `severity` is info, change, warning or error; `routine` lines stay out of the pane."""

    severity: str
    text: str
    routine: bool = False


def by(source: str) -> str:
    """' by attach pid 42' for a control from elsewhere; nothing for the local user."""
    return f" by {source}" if source and source != "user" else ""


def epoch_line(event: EpochEvent) -> str:
    """'Epoch [  1/100] - Loss: 0.4200/0.4300 | Acc: 51.2% | lr 1.0e-03 | 2,115 samples/s | 3.1s'."""
    width = len(str(event.epochs))
    return (f"Epoch [{event.epoch:>{width}}/{event.epochs}] - Loss: {event.train_loss:.4f}/{event.val_loss:.4f} | "
            f"Acc: {event.val_acc:.1%} | lr {event.lr:.1e} | {event.samples_per_s:,.0f} samples/s | {event.seconds:.1f}s")


def narrate(event: Event) -> list[Said]:
    """The lines an event is told in (none for steps and epochs: the chart shows those; headless uses epoch_line)."""
    if isinstance(event, RunStarted):
        what = f"resumed from {event.resumed_from}" if event.resumed_from else "started"
        return [Said("info", f"run {event.run_id} {what} on {event.device}"),
                *(Said("warning", notice) for notice in event.data.get("notices", []))]
    if isinstance(event, HyperparamChanged):
        # `epoch` counts completed epochs: the new value acts from the next step, which belongs to the next epoch.
        return [Said("change", f"{event.name}: {event.old:g} -> {event.new:g} ({event.source}) from epoch {event.epoch + 1}")]
    if isinstance(event, Paused):
        return [Said("warning" if event.reason != "user" else "info", f"paused ({event.reason}){by(event.source)}")]
    if isinstance(event, Resumed):
        return [Said("info", f"resumed{by(event.source)}")]
    if isinstance(event, CheckpointSaved):
        return [Said("info", f"checkpoint ({event.reason}): {event.path}", routine=event.reason in AUTOMATIC_SAVES)]
    if isinstance(event, EarlyStopped):
        return [Said("info", f"early stop at epoch {event.epoch}; best epoch {event.best_epoch} "
                             f"(val {event.best_val_loss:.4f}) restored")]
    if isinstance(event, ErrorEvent):
        return [Said("error", event.message)]
    if isinstance(event, RunEnded):
        saved = f"; checkpoint {event.checkpoint}" if event.checkpoint else ""
        return [Said("info", f"run ended: {event.reason}{by(event.source)}{saved}")]
    if isinstance(event, TestEvaluation):
        return [Said("info", line) for line in held_out_summary(event)]
    if isinstance(event, SessionNote):
        return [Said("info", f"{event.what} ({event.source})")]
    return []
