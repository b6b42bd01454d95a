"""`stockpred-tui train`: headless training that prints one line per epoch in the note's format."""

from __future__ import annotations

import sys

from engine.controls import ControlChannel
from engine.distributed import world_from_env
from engine.events import CheckpointSaved, EarlyStopped, EpochEvent, ErrorEvent, Event, HyperparamChanged, RunEnded, RunStarted
from engine.health.note_rules import over_regularised
from engine.history import History
from engine.runs import newest_checkpoint, resume_command
from engine.session import RunOptions, build_trainer
from engine.signals import StopSignals, survive_hangup


def epoch_line(event: EpochEvent) -> str:
    """'Epoch [  1/100] - Loss: 0.4200/0.4300 | Acc: 51.2% | lr 1.0e-03 | 2,115 samples/s'."""
    width = len(str(event.epochs))
    return (f"Epoch [{event.epoch:>{width}}/{event.epochs}] - Loss: {event.train_loss:.4f}/{event.val_loss:.4f} | "
            f"Acc: {event.val_acc:.1%} | lr {event.lr:.1e} | {event.samples_per_s:,.0f} samples/s | {event.seconds:.1f}s")


class ConsolePrinter:
    """Event sink that writes the headless progress lines."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        line = None
        if isinstance(event, RunStarted):
            splits = event.data.get("splits", {})
            base = event.baselines.get("val", {})
            sizes = ", ".join(f"{name} {split.get('windows')}" for name, split in splits.items())
            line = (f"Run {event.run_id} on {event.device}: {event.data.get('source')} "
                    f"({sizes} windows); "
                    f"val constant-prediction baseline reg {base.get('reg', float('nan')):.4f} clf {base.get('clf', float('nan')):.4f}")
            history = History()
            history.apply(event)
            finding = over_regularised(history)
            if finding.severity == "warning":
                line += f"\nwarning: {finding.message}"
        elif isinstance(event, EpochEvent):
            line = epoch_line(event)
        elif isinstance(event, HyperparamChanged):
            line = f"{event.name}: {event.old:g} -> {event.new:g}"
        elif isinstance(event, CheckpointSaved):
            line = f"checkpoint ({event.reason}): {event.path}"
        elif isinstance(event, EarlyStopped):
            line = f"early stop at epoch {event.epoch}: best epoch {event.best_epoch}, val {event.best_val_loss:.4f} (weights restored)"
        elif isinstance(event, ErrorEvent):
            line = f"error: {event.message}"
        if line:
            print(line, file=self.stream, flush=True)


def farewell(run_dir, ended: RunEnded, headless: bool = True) -> str:
    """What a person needs after a run stops: where it lives, what was saved, how to continue."""
    lines = [f"run directory: {run_dir}", f"checkpoint: {ended.checkpoint or 'none written'}"]
    if ended.reason not in ("completed", "early_stop"):
        checkpoint = ended.checkpoint or newest_checkpoint(run_dir)
        if checkpoint:
            lines.append(f"resume: {resume_command(checkpoint, headless)}")
    return "\n".join(lines)


def train_headless(options: RunOptions) -> int:
    """Train to the end; Ctrl-C or SIGTERM saves a checkpoint, logs the end of the run and exits 130 / 143."""
    controls = ControlChannel()
    world = world_from_env()  # under torchrun: rank 0 prints, logs, saves and serves the socket
    trainer = build_trainer(options, sinks=[ConsolePrinter()] if world.is_main else [], controls=controls, world=world)
    survive_hangup(controls, console_log=lambda: trainer.run_dir and trainer.run_dir / "console.log")
    with StopSignals(controls) as signals:
        ended: RunEnded = trainer.run()
    if not world.is_main:
        return signals.exit_code if signals.exit_code is not None and ended.reason == "interrupted" else 0
    best = f"{ended.best_val_loss:.4f}" if ended.best_val_loss is not None else "n/a"
    print(f"Run {trainer.run_id} {ended.reason} after {ended.epoch} epochs; best val loss {best}; "
          f"log {trainer.run_dir / 'events.jsonl'}")
    print(farewell(trainer.run_dir, ended), flush=True)
    if signals.exit_code is not None and ended.reason == "interrupted":
        return signals.exit_code
    return 1 if ended.reason in ("diverged", "error") else 0
