"""`stockpred-tui train`: headless training that prints one line per epoch (the troubleshooting guide's format), and its notices."""

from __future__ import annotations

import sys

from engine.control.channel import ControlChannel
from engine.errors import EnvironmentProblem
from engine.training.distributed import world_from_env
from engine.events import (FAILED, EndReason, EpochEvent, Event, RunEnded, RunStarted, StartupPhase,
                           StepEvent)
from engine.commands.progress_line import ProgressLine
from engine.health.regularisation import over_regularised
from engine.store.checkpoint import CheckpointWriteError
from engine.store.history import History
from engine.store.log_writer import LogWriteError
from engine.event_text import epoch_line, narrate
from engine.commands.farewell import farewell  # noqa: F401 (importers)
from engine.commands.runs import newest_checkpoint, resume_command
from engine.commands.trainer_setup import RunOptions, build_trainer
from engine.commands.verdict_line import VerdictLine
from engine.control.signals import StopSignals, survive_hangup


class ConsolePrinter:
    """Event sink that writes the headless lines: the event_text lines, a richer run start, step progress, and a
    verdict line whenever the most severe finding changes."""

    def __init__(self, stream=None, progress: ProgressLine | None = None) -> None:
        self.stream = stream or sys.stdout
        self.progress = progress or ProgressLine(self.stream)
        self.verdict = VerdictLine()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepEvent):
            self.progress.step(event)
            return
        if isinstance(event, StartupPhase):
            return  # the dashboard's header says these; a console keeps its first line the run's start
        if isinstance(event, RunEnded):
            self.progress.clear()
            return  # train_headless says how the run ended, with what to do next
        lines = [(said.severity, said.text) for said in narrate(event)]
        if isinstance(event, EpochEvent):
            lines = [("info", epoch_line(event))]
        verdict = self.verdict.after(event)
        if verdict:
            lines.append(("verdict", verdict))  # it names its own severity: no 'warning: ' before it
        if isinstance(event, RunStarted):
            lines[0] = ("info", start_line(event))
            history = History()
            history.apply(event)
            finding = over_regularised(history)
            if finding.severity == "warning":
                lines.append(("warning", finding.message))
        if not lines:
            return
        self.progress.clear()
        for severity, text in lines:
            prefix = f"{severity}: " if severity in ("warning", "error") else ""
            print(prefix + text, file=self.stream, flush=True)


def start_line(event: RunStarted) -> str:
    """'Run X on cpu: bundled (train 8198, val 1700, test 1700 windows); val constant-prediction baseline ...'."""
    splits = event.data.get("splits", {})
    base = event.baselines.get("val", {})
    sizes = ", ".join(f"{name} {split.get('windows')}" for name, split in splits.items())
    count = event.data.get("threads")
    threads = f" ({count} thread{'' if count == 1 else 's'})" if count else ""
    return (f"Run {event.run_id} on {event.device}{threads}: {event.data.get('source')} ({sizes} windows); "
            f"val constant-prediction baseline reg {base.get('reg', float('nan')):.4f} clf {base.get('clf', float('nan')):.4f}")


def what_was_kept(problem: EnvironmentProblem, run_dir) -> str:
    """The machine stopped the run (a full disk): the file that could not be written, and the checkpoint to resume."""
    cause = problem.__context__  # the error the trainer stopped on; these two name the file in their own words
    line = str(cause) if isinstance(cause, (LogWriteError, CheckpointWriteError)) else str(problem)
    checkpoint = newest_checkpoint(run_dir) if run_dir is not None else None
    if checkpoint is None:
        return f"{line}; no checkpoint was kept"
    return f"{line}; kept: {checkpoint} (resume: {resume_command(checkpoint)})"


def train_headless(options: RunOptions, early=None) -> int:
    """Train to the end; Ctrl-C or SIGTERM saves a checkpoint, logs the end of the run and exits 130 / 143.

    `early`: the run a trainer process opened before importing torch (engine/commands/trainer_process.py)."""
    controls = early.controls if early is not None else ControlChannel()
    world = world_from_env()  # under torchrun: rank 0 prints, logs, saves and serves the socket
    trainer = build_trainer(options, sinks=[ConsolePrinter()] if world.is_main else [], controls=controls, world=world,
                            resources=early.resources if early is not None else None,
                            phase=early.phase if early is not None else None)
    if early is not None:
        early.handed_over = True
    survive_hangup(controls, console_log=lambda: trainer.run_dir and trainer.run_dir / "console.log")
    with StopSignals(controls) as signals:
        try:
            ended: RunEnded = trainer.run()
        except EnvironmentProblem as problem:
            raise EnvironmentProblem(what_was_kept(problem, trainer.run_dir)) from None
    if not world.is_main:
        return signals.exit_code if signals.exit_code is not None and ended.reason == EndReason.INTERRUPTED else 0
    best = f"{ended.best_val_loss:.4f}" if ended.best_val_loss is not None else "n/a"
    print(f"Run {trainer.run_id} {ended.reason} after {ended.epoch} epochs; best val loss {best}; "
          f"log {trainer.run_dir / 'events.jsonl'}")
    print(farewell(trainer.run_dir, ended), flush=True)
    if signals.exit_code is not None and ended.reason == EndReason.INTERRUPTED:
        return signals.exit_code
    return 1 if ended.reason in FAILED else 0
