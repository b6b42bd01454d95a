"""Open a log of 1,000,000 step events and 1,000 epochs: time to parse and to draw the first screen, and peak memory.

Also from the command: `stockpred-tui replay LOG` on a pseudo-terminal, timed from the process start until the
screen shows the last epoch (interpreter start-up and imports included, as a person waits for them).
"""

import asyncio
import os
import pty
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.histories builds the events

from engine.events import StepEvent
from tests.histories import epoch, start
from tui.launch import replay_app

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
EPOCHS = 1000


def write_big_log(path: Path) -> None:
    per_epoch = STEPS // EPOCHS
    with open(path, "w") as out:
        out.write(start().to_json() + "\n")
        for n in range(1, EPOCHS + 1):
            lines = [StepEvent(n, b, per_epoch, (n - 1) * per_epoch + b, 1.3 - n * 1e-4, time=1.7e9).to_json() for b in range(per_epoch)]
            out.write("\n".join(lines) + "\n")
            out.write(epoch(n, 1.3 - n * 1e-4, 1.31 - n * 1e-4, total=EPOCHS).to_json() + "\n")


async def open_and_draw(path: Path) -> tuple[float, float]:
    began = time.perf_counter()
    app = replay_app(str(path))
    parsed = time.perf_counter() - began
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        drawn = time.perf_counter() - began
        assert len(app.dashboard.history.step_loss) == STEPS and len(app.dashboard.history.epochs) == EPOCHS
    return parsed, drawn


def from_the_command(path: Path) -> float:
    """Seconds from spawning the real CLI until its screen shows `epoch 1000/1000`."""
    began = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:
        os.environ.update(COLUMNS="120", LINES="40")
        os.execv(sys.executable, [sys.executable, "-m", "tui.cli", "replay", str(path)])
    screen = b""
    try:
        while f"epoch {EPOCHS}/{EPOCHS}".encode() not in screen:
            screen = screen[-4096:] + os.read(master, 65536)
        return time.perf_counter() - began
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(master)


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        write_big_log(path)
        print(f"from the command (pty): last epoch on screen at {from_the_command(path):.2f} s")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        parsed, drawn = asyncio.run(open_and_draw(path))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"log {path.stat().st_size / 1e6:.0f} MB: {STEPS:,} steps, {EPOCHS} epochs")
        print(f"parsed in {parsed:.2f} s; first screen drawn at {drawn:.2f} s; peak RSS {peak / 1024:.0f} MB (writer phase {before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
