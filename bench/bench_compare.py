"""20 runs of 1,000 epochs: open them in the runs browser, mark all, draw the compare view; then the cost of a redraw.

Usage: python3 bench/bench_compare.py [RUNS] [EPOCHS] [STEPS_PER_EPOCH]

Prints the time from building the browser app until its table is filled, until the compare view of every run is
drawn, and the median and worst of 40 redraws (metric, EMA, log-y and x-axis switches, each rendered by plotext),
with the min-max downsampling and, side by side, without it (every point handed to plotext).
"""

import asyncio
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


async def measure(root: Path, size: tuple[int, int]) -> tuple[float, float, list[float]]:
    began = time.perf_counter()
    app = runs_app(str(root))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsBrowser) and app.screen.loaded)
        listed = time.perf_counter() - began
        assert len(app.screen.runs) == RUNS
        await pilot.press(*["space"] * RUNS, "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and not app.screen._dirty)
        screen = app.screen
        chart = screen.query_one(CompareChart)
        chart.render()  # plotext builds the figure when Textual asks for the widget's content
        drawn = time.perf_counter() - began
        assert len(screen.runs) == RUNS
        redraws = []
        for key in KEYS:
            await pilot.press(key)  # the key's own handler redraws; timed below, away from Textual's queue
            tick = time.perf_counter()
            screen.redraw()
            chart.render()
            redraws.append((time.perf_counter() - tick) * 1000)
    return listed, drawn, redraws


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "logs"
        write_runs(root)
        size_mb = sum(p.stat().st_size for p in root.rglob("events.jsonl")) / 1e6
        print(f"{RUNS} runs x {EPOCHS} epochs x {STEPS} step lines per epoch ({size_mb:.1f} MB of logs)")
        for size in ((120, 40), (200, 60)):
            listed, drawn, redraws = asyncio.run(measure(root, size))
            original = compare_chart.minmax_downsample
            compare_chart.minmax_downsample = lambda x, y, buckets: (x, y)  # every point to plotext
            try:
                _, raw_drawn, raw_redraws = asyncio.run(measure(root, size))
            finally:
                compare_chart.minmax_downsample = original
            print(f"{size[0]}x{size[1]}: browser filled {listed:.2f} s · compare of all {RUNS} drawn {drawn:.2f} s "
                  f"(without downsampling {raw_drawn:.2f} s)")
            print(f"  redraw (one key's worth: curves, plotext build, table) median {statistics.median(redraws):.1f} ms, "
                  f"worst {max(redraws):.1f} ms; without downsampling median {statistics.median(raw_redraws):.1f} ms, "
                  f"worst {max(raw_redraws):.1f} ms")


if __name__ == "__main__":
    main()
