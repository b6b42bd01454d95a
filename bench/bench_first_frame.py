"""Time to the first frame and `train --detach`'s return time, on a pty.

First frame: from exec of `stockpred-tui` to the first screen that shows the run's state (the STARTING header with
its phase); median of 5. Detach: from exec to the return of `train --detach` (the trainer's socket answers); median of 5.
Usage: python3 bench/bench_first_frame.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import TINY  # noqa: E402
from tests.pty_harness import PtyProcess  # noqa: E402
from tests.run_helpers import only_run_dir, set_args, stop_run, trainer_pid, wait_for, kill_quietly  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def first_frame(root: Path) -> float:
    """Seconds from exec to a screen that says STARTING or RUNNING."""
    logs = root / "logs"
    started = time.monotonic()
    ui = PtyProcess(set_args([*TINY, "training.epochs=100000", f"log_dir={logs}"]))
    try:
        wait_for(lambda: "STARTING" in ui.text() or "RUNNING" in ui.text(), "the first frame", 60)
        seconds = time.monotonic() - started
        run_dir = wait_for(lambda: only_run_dir(logs), "the run", 60)
        pid = trainer_pid(run_dir)
        stop_run(run_dir)
        ui.wait(30)
        kill_quietly(pid)
    finally:
        ui.kill()
    return seconds


def detach_return(root: Path) -> float:
    """Seconds from exec to the return of `train --detach`."""
    logs = root / "logs"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "tui.cli", "train", "--detach", *set_args([*TINY, "training.epochs=2",
                    f"log_dir={logs}"])], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    for name, measure in (("first frame", first_frame), ("train --detach return", detach_return)):
        times = []
        for _ in range(ROUNDS):
            with tempfile.TemporaryDirectory() as root:
                os.chdir(root)
                times.append(measure(Path(root)))
        print(f"{name}: median {statistics.median(times):.2f} s over {ROUNDS} "
              f"(min {min(times):.2f}, max {max(times):.2f})", flush=True)


if __name__ == "__main__":
    main()
