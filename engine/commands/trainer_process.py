"""The trainer process: open the run and serve its socket first (no torch yet), say each startup phase, then train.

`stockpred-tui train` runs here in a single process (the dashboard and `train --detach` start it in a session of its
own). A client can attach within a fraction of a second and watch the startup phases; torch is imported only after.
A new run whose directory this process made, and that fails before it trains, leaves nothing behind.
"""

from __future__ import annotations

import signal
from pathlib import Path

from engine.commands.run_plan import client_config, remove_new_run
from engine.control.channel import ControlChannel
from engine.events import EndReason, ErrorEvent, RunEnded, StartupPhase
from engine.training.run_resources import RunResources
from engine.training.world import SINGLE, world_from_env


class StartupInterrupted(Exception):
    """SIGTERM or Ctrl-C while the trainer was still starting: nothing to save yet."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{signal.Signals(signum).name} during startup; nothing was trained")
        self.signum = signum


class EarlyRun:
    """A run opened before the trainer exists: its resources, its controls, and the phases it announces."""

    def __init__(self, resources: RunResources, controls: ControlChannel, made_here: bool,
                 made_log_dir: bool = False) -> None:
        self.resources = resources
        self.controls = controls
        self.made_here = made_here
        self.made_log_dir = made_log_dir
        self.handed_over = False  # once the Trainer exists, it closes the run on every path

    def phase(self, text: str) -> None:
        """Log and publish one startup phase."""
        for sink in self.resources.sinks_around([]):
            sink(StartupPhase(text))

    def fail(self, error: BaseException) -> None:
        """The startup failed: log why and the end of the run, close it; a new run made here is removed."""
        interrupted = isinstance(error, StartupInterrupted)
        reason = EndReason.INTERRUPTED if interrupted else EndReason.ERROR
        source = signal.Signals(error.signum).name if interrupted else ""
        try:
            for sink in self.resources.sinks_around([]):
                sink(ErrorEvent(str(error), fatal=True))
                sink(RunEnded(reason, 0, 0, source=source))
        finally:
            run_dir = self.resources.run_dir
            self.resources.close()
            if self.made_here and run_dir is not None:
                remove_new_run(run_dir, self.made_log_dir)


def _raise_interrupted(signum, frame) -> None:
    raise StartupInterrupted(signum)


def open_early(options) -> EarlyRun | None:
    """Open a new single-process run before torch; None where the old order applies (a resume reads its checkpoint
    with torch first, torchrun ranks share the directory, a directory that cannot be made is reported by the trainer)."""
    if options.resume or world_from_env().distributed:
        return None
    config = client_config(options.config, options.labelled_overrides())
    controls = ControlChannel()
    resources = RunResources(config, SINGLE, controls, None, options.run_dir)
    made_log_dir = not Path(config.log_dir).exists()
    try:
        resources.open()
    except OSError:
        return None
    return EarlyRun(resources, controls, made_here=options.run_dir is None, made_log_dir=made_log_dir)


def serve_then_train(options) -> int:
    """`stockpred-tui train` in one process: the run's socket first, then torch, data, the model, the training."""
    early = open_early(options)
    if early is None:
        from engine.commands.headless import train_headless

        return train_headless(options)
    previous = {signum: signal.signal(signum, _raise_interrupted) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        early.phase("importing torch")
        from engine.commands.headless import train_headless

        return train_headless(options, early)
    except BaseException as error:
        if not early.handed_over:
            early.fail(error)
        if isinstance(error, StartupInterrupted):
            return 143 if error.signum == signal.SIGTERM else 130
        raise
    finally:
        for signum, handler in previous.items():
            if signal.getsignal(signum) is _raise_interrupted:
                signal.signal(signum, handler)
