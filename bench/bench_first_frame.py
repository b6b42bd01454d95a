"""Time to the first frame and `train --detach`'s return time, on a pty.

First frame: from exec of `stockpred-tui` to the first screen that shows the run's state (the STARTING header with
its phase), and the CPU time the client had used by then (what a busy machine stretches); medians of 5. Detach: from exec to the return of `train --detach` (the trainer's socket answers); median of 5.
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame(root: Path) -> tuple[float, float]:
    """Seconds from exec to a screen that says STARTING or RUNNING, and the client's CPU seconds by then."""
    logs = root / "logs"
    started = time.monotonic()
    ui = PtyProcess(set_args([*TINY, "training.epochs=100000", f"log_dir={logs}"]))
    try:
        wait_for(lambda: "STARTING" in ui.text() or "RUNNING" in ui.text(), "the first frame", 60)
        seconds, cpu = time.monotonic() - started, cpu_seconds(ui.pid)
        run_dir = wait_for(lambda: only_run_dir(logs), "the run", 60)
        pid = trainer_pid(run_dir)
        stop_run(run_dir)
        ui.wait(30)
        kill_quietly(pid)
    finally:
        ui.kill()
    return seconds, cpu


def detach_return(root: Path) -> float:
    """Seconds from exec to the return of `train --detach`."""
    logs = root / "logs"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "tui.cli", "train", "--detach", *set_args([*TINY, "training.epochs=2",
                    f"log_dir={logs}"])], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def report(name: str, times: list[float]) -> None:
    """One line: median, min and max."""
    print(f"{name}: median {statistics.median(times):.2f} s over {len(times)} "
          f"(min {min(times):.2f}, max {max(times):.2f})", flush=True)


def main() -> None:
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}", flush=True)
    frames, returns = [], []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as root:
            os.chdir(root)
            frames.append(first_frame(Path(root)))
    report("first frame", [seconds for seconds, _ in frames])
    report("client CPU by the first frame", [cpu for _, cpu in frames])
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as root:
            os.chdir(root)
            returns.append(detach_return(Path(root)))
    report("train --detach return", returns)
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
