"""`stockpred-tui train --detach`: headless training in its own session, outliving the terminal that started it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from engine.errors import InputError
from engine.commands.multiproc import train_args
from engine.store.log_writer import EVENTS_FILE
from engine.commands.trainer_setup import RunOptions, resolve_config
from engine.store.log_writer import run_dir_for

CONSOLE_FILE = "console.log"
START_TIMEOUT_S = 300.0


def child_argv(options: RunOptions, run_dir: Path) -> list[str]:
    """The headless command line that the background process runs."""
    return [sys.executable, "-m", "tui.cli", "train", *train_args(replace(options, run_dir=str(run_dir)))]


def _started(run_dir: Path, size_before: int) -> bool:
    log = run_dir / EVENTS_FILE
    return log.exists() and log.stat().st_size > size_before


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def start_detached(options: RunOptions) -> int:
    """Validate in the foreground, start the run in the background, print how to reach it, return at once."""
    config, _ = resolve_config(options)  # bad config or checkpoint: one line, exit 2, nothing started
    run_dir = Path(options.run_dir) if options.run_dir else run_dir_for(config.log_dir, options.resume)
    console = run_dir / CONSOLE_FILE
    log = run_dir / EVENTS_FILE
    size_before = log.stat().st_size if log.exists() else 0
    with open(console, "ab") as output:
        os.chmod(console, 0o600)
        process = subprocess.Popen(child_argv(options, run_dir), stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    # Data preparation happens in the child; wait for its first event so data errors still reach this terminal.
    while not _started(run_dir, size_before) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is not None and not _started(run_dir, size_before):
        raise InputError(str(console), f"training did not start: {_last_line(console)}")
    print(f"Run {run_dir.name} is training in the background (pid {process.pid}); output in {console}")
    print(f"  watch and steer: stockpred-tui attach {run_dir.name}")
    print("  list runs:       stockpred-tui runs")
    return 0
