"""The branch dialog's way into `stockpred-tui branch`: its choice as a command line, run as a process."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InputError
from engine.knobs import KNOBS

BRANCH_TIMEOUT_S = 180.0  # a live parent saves at its next step boundary, then the branch's trainer starts and answers
STARTED = re.compile(r"^Run (\S+) is training in the background", re.MULTILINE)


@dataclass
class BranchChoice:
    """What the person chose: the fork point, the knobs they edited (name -> value) and whether the parent pauses."""

    start: str = "now"
    edits: dict[str, float] = field(default_factory=dict)
    pause_parent: bool = False

    def overrides(self) -> list[str]:
        """The edits as `--set` arguments of `stockpred-tui branch` (key=value at each knob's config path)."""
        return [f"{KNOBS[name].config_path}={value!r}" for name, value in self.edits.items()]


def branch_command(choice: BranchChoice, run_dir: str | Path) -> list[str]:
    """`stockpred-tui branch RUN_DIR --from … --set … [--pause-parent] --detach` for this interpreter."""
    command = [sys.executable, "-m", "tui.cli", "branch", str(run_dir), "--from", choice.start]
    for override in choice.overrides():
        command += ["--set", override]
    return command + (["--pause-parent"] if choice.pause_parent else []) + ["--detach"]


def start_branch_from_dialog(choice: BranchChoice, run_dir: str | Path) -> str:
    """Start the branch in its own background process and return its run id; the command's one-line error as an
    InputError. It blocks until the parent saved and the branch answers: call it from a worker thread."""
    try:
        done = subprocess.run(branch_command(choice, run_dir), capture_output=True, text=True, timeout=BRANCH_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InputError(str(run_dir), f"the branch did not start within {BRANCH_TIMEOUT_S:g} s") from None
    started = STARTED.search(done.stdout)
    if done.returncode != 0 or started is None:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise InputError(str(run_dir), (lines[-1] if lines else f"branch exited with {done.returncode}")
                         .removeprefix("error: "))
    return started.group(1)
