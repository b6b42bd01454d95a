"""`stockpred-tui train --nproc N`: the one-machine case of torchrun, launched through torch.distributed.run."""

from __future__ import annotations

import os
import subprocess
import sys

from engine.commands.run_plan import RunOptions


def train_args(options: RunOptions) -> list[str]:
    """The `train` options that reproduce `options` on another command line."""
    argv = []
    for flag, value in (("--config", options.config), ("--data", options.data), ("--resume", options.resume),
                        ("--run-dir", options.run_dir), ("--parent", options.parent)):
        if value:
            argv += [flag, value]
    if options.epochs is not None:
        argv += ["--epochs", str(options.epochs)]
    for override in options.overrides:
        argv += ["--set", override]
    return argv


def torchrun_argv(options: RunOptions, nproc: int) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc_per_node N -m tui.cli train …`."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "tui.cli", "train", *train_args(options)]


def launch_local(options: RunOptions, nproc: int) -> int:
    """Run N data-parallel processes on this machine and return the job's exit code."""
    env = dict(os.environ)
    # torchrun would otherwise print a notice and pin every rank to one thread; engine.training.distributed.join decides.
    env.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // nproc)))
    return subprocess.call(torchrun_argv(options, nproc), env=env)
