"""The dashboard's drawing cost per redraw tick, by widget, from a real run's log.

A saved run's events are cut into the dashboard's redraw ticks (REDRAW_INTERVAL_S of the log's clock each) and fed to a live
dashboard (Textual's headless driver, 120x40) as fast as it draws them, its clock set to the log's (the epoch
redraws keep their pace: EPOCH_REDRAW_S of the log's time apart). Each variant turns one widget's `show` into
a no-op; "nothing drawn" turns off all of them, leaving the intake (the history) and Textual's own work per tick.
Variants interleave round by round in one process. Printed: CPU ms per tick (median of rounds), what each widget
costs (the variant's saving), and the share of one core that makes at the log's own pace.
Usage: python3 bench/bench_dashboard_ticks.py RUN_DIR_OR_EVENTS_JSONL [rounds] [WxH] [variant,variant,...]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.store.log_reader import events_path, parse_event  # noqa: E402
from tui.launch import dashboard_app  # noqa: E402
from tui.messages import EventsArrived  # noqa: E402
from tui.screens import dashboard_screen  # noqa: E402
from tui.screens.dashboard_screen import REDRAW_INTERVAL_S  # noqa: E402
from tui.widgets.device_panel import DevicePanel  # noqa: E402
from tui.widgets.event_log import EventLogPane  # noqa: E402
from tui.widgets.hparam_panel import HparamPanel  # noqa: E402
from tui.widgets.loss_chart import LossChart  # noqa: E402
from tui.widgets.loss_sparklines import LossSparklines  # noqa: E402
from tui.widgets.run_header import RunHeader  # noqa: E402
from tui.widgets.status_panel import StatusPanel  # noqa: E402
from tui.widgets.step_progress import StepProgressBar  # noqa: E402

WIDGETS = {"chart": LossChart, "status": StatusPanel, "sparklines": LossSparklines, "progress": StepProgressBar,
           "header": RunHeader, "device": DevicePanel, "hparams": HparamPanel, "event log": EventLogPane}
VARIANTS = ["everything", *WIDGETS, "nothing drawn"]


class LogClock:
    """The log's own time, in place of the dashboard screen's `time` module."""

    now = 0.0

    def monotonic(self) -> float:
        """Seconds into the log at the tick being drawn."""
        return self.now


def ticks_of(path: Path) -> tuple[list[list], float]:
    """The log's events grouped into redraw ticks by their time, and the log's length in seconds."""
    events = [parse_event(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    start = events[0].time
    ticks: list[list] = [[] for _ in range(int((events[-1].time - start) / REDRAW_INTERVAL_S) + 1)]
    for event in events:
        ticks[int((event.time - start) / REDRAW_INTERVAL_S)].append(event)
    return ticks, events[-1].time - start


async def one_round(ticks: list[list], off: list[type], size: tuple[int, int]) -> float:
    """CPU seconds to draw every tick with the widgets in `off` drawing nothing."""
    saved = {cls: cls.show for cls in off}
    for cls in off:
        cls.show = lambda self, *args, **kwargs: None
    clock = dashboard_screen.time = LogClock()
    try:
        app = dashboard_app()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = app.screen
            started = time.process_time()
            for index, events in enumerate(ticks):
                clock.now = index * REDRAW_INTERVAL_S
                if events:
                    screen.post_message(EventsArrived(events))
                    await pilot.pause()
                screen.redraw_if_dirty()
                await pilot.pause()
            return time.process_time() - started
    finally:
        dashboard_screen.time = time
        for cls, show in saved.items():
            cls.show = show


async def main() -> None:
    path = events_path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    size = tuple(int(n) for n in (sys.argv[3] if len(sys.argv) > 3 else "120x40").split("x"))
    variants = sys.argv[4].split(",") if len(sys.argv) > 4 else VARIANTS
    if unknown := set(variants) - set(VARIANTS):
        sys.exit(f"unknown variant(s) {', '.join(sorted(unknown))}; known: {', '.join(VARIANTS)}")
    ticks, seconds = ticks_of(path)
    epochs = sum(type(e).__name__ == "EpochEvent" for tick in ticks for e in tick)
    print(f"{path}: {len(ticks)} ticks of {REDRAW_INTERVAL_S} s ({seconds:.0f} s, {epochs} epochs), {size[0]}x{size[1]},"
          f" {rounds} rounds")
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name in variants:
            off = list(WIDGETS.values()) if name == "nothing drawn" else [WIDGETS[name]] if name in WIDGETS else []
            cpu[name].append(await one_round(ticks, off, size))
    everything = statistics.median(cpu[variants[0]])
    print(f"{'variant':<16} {'ms/tick':>8} {'saves':>8} {'% core at pace':>15}  (saves: against {variants[0]})")
    for name in variants:
        median = statistics.median(cpu[name])
        print(f"{name:<16} {1000 * median / len(ticks):8.2f} {1000 * (everything - median) / len(ticks):8.2f} "
              f"{100 * median / seconds:15.2f}")
    if "everything" not in cpu or "nothing drawn" not in cpu:
        return
    everything, nothing = (statistics.median(cpu[name]) for name in ("everything", "nothing drawn"))
    print(f"the widgets' drawing: {1000 * (everything - nothing) / len(ticks):.2f} ms/tick, "
          f"{100 * (everything - nothing) / seconds:.2f}% of a core at the log's pace (the rest is the intake, "
          f"Textual's own work and this bench's pauses)")


if __name__ == "__main__":
    asyncio.run(main())
