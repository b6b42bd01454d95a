"""20 runs of 1,000 epochs: open them in the runs browser, mark all, draw the compare view; then the cost of a redraw.

Usage: python3 bench/bench_compare.py [RUNS] [EPOCHS] [STEPS_PER_EPOCH]

Prints, in wall and CPU time, how long the browser takes to show its table and to fill in every run's finding, how
long the compare view of all runs takes to draw after `c`, and the median and worst of 40 redraws (metric, EMA,
log-y and x-axis switches, each built by plotext); with the min-max downsampling and, side by side, without it.
CPU time is this process's own, which other work on a shared machine does not inflate.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* builds the events

from engine.events import StepEvent
from tests.test_compare import run_events
from tui.runs_app import runs_app
from tui.screens.compare_screen import CompareScreen
from tui.screens.runs_browser import RunsBrowser
from tui.widgets import compare_chart
from tui.widgets.compare_chart import CompareChart

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
STEPS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
KEYS = ["m", "e", "y", "x"] * 10


def write_runs(root: Path) -> None:
    """RUNS runs differing in lr and dropout, STEPS step lines per epoch, as the engine writes them."""
    for i in range(RUNS):
        events = run_events(f"run-{i:02d}", epochs=EPOCHS, slope=0.3 / EPOCHS * (1 + i / RUNS),
                            training__learning_rate=0.001 * (1 + i % 5), model__dropout=0.1 + 0.05 * (i // 5),
                            training__epochs=EPOCHS)
        path = root / f"run-{i:02d}"
        path.mkdir(parents=True)
        with open(path / "events.jsonl", "w") as out:
            out.write(events[0].to_json() + "\n")
            for event in events[1:]:
                if hasattr(event, "val_loss"):
                    first = (event.epoch - 1) * STEPS
                    out.writelines(StepEvent(event.epoch, b, STEPS, first + b, event.train_loss, time=1.7e9).to_json() + "\n"
                                   for b in range(STEPS))
                out.write(event.to_json() + "\n")


async def wait_for(pilot, predicate) -> None:
    while not predicate():
        await pilot.pause(0.01)


class Clock:
    """Wall and CPU time since it was made (CPU time is what this process itself used: other load does not count)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


async def measure(root: Path, size: tuple[int, int]) -> dict:
    """Times of one session: browser table shown, findings filled, compare drawn after `c`, and redraws."""
    figures = {}
    clock = Clock()
    app = runs_app(str(root))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsBrowser) and app.screen.loaded)
        figures["table"] = clock.read()
        await wait_for(pilot, lambda: app.screen.judged)
        figures["findings"] = clock.read()
        assert len(app.screen.runs) == RUNS
        await pilot.press(*["space"] * RUNS)  # a person's key presses: not timed
        clock = Clock()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and not app.screen._dirty)
        screen = app.screen
        chart = screen.query_one(CompareChart)
        chart.render()  # plotext builds the figure when Textual asks for the widget's content
        figures["compare"] = clock.read()
        assert len(screen.runs) == RUNS
        redraws = []
        for key in KEYS:
            await pilot.press(key)  # the key's own handler redraws; timed again below, away from Textual's queue
            clock = Clock()
            screen.redraw()
            chart.render()
            redraws.append(clock.read())
        figures["redraw"] = redraws
    return figures


def _pair(figure: tuple[float, float]) -> str:
    return f"{figure[0]:.2f} s (CPU {figure[1]:.2f} s)"


def _ms(redraws: list[tuple[float, float]]) -> str:
    wall, cpu = [w * 1000 for w, _ in redraws], [c * 1000 for _, c in redraws]
    return (f"median {statistics.median(wall):.0f} ms (CPU {statistics.median(cpu):.0f} ms), "
            f"worst {max(wall):.0f} ms (CPU {max(cpu):.0f} ms)")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "logs"
        write_runs(root)
        size_mb = sum(p.stat().st_size for p in root.rglob("events.jsonl")) / 1e6
        print(f"{RUNS} runs x {EPOCHS} epochs x {STEPS} step lines per epoch ({size_mb:.1f} MB of logs); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for size in ((120, 40), (200, 60)):
            shown = asyncio.run(measure(root, size))
            original = compare_chart.minmax_downsample
            compare_chart.minmax_downsample = lambda x, y, buckets: (x, y)  # every point to plotext
            try:
                raw = asyncio.run(measure(root, size))
            finally:
                compare_chart.minmax_downsample = original
            total = tuple(a + b for a, b in zip(shown["findings"], shown["compare"]))
            print(f"{size[0]}x{size[1]}: browser table {_pair(shown['table'])}, findings {_pair(shown['findings'])}; "
                  f"compare of all {RUNS} drawn {_pair(shown['compare'])} after c (without downsampling "
                  f"{_pair(raw['compare'])}); open + compare {_pair(total)}")
            print(f"  redraw (curves, plotext build): {_ms(shown['redraw'])}; without downsampling {_ms(raw['redraw'])}")


if __name__ == "__main__":
    main()
