"""The device panel: the figures of the latest stats event (live or replayed), dashes without NVML, the readers of
this process's CPU and RSS."""

import os
import sys

from engine.events import DeviceStats
from engine.training.device_stats import NvmlStats, ProcessStats, provider_for
from tests.conftest import wait_until
from tests.histories import epoch, history_of, start
from tui.launch import dashboard_app
from tui.messages import EventsArrived
from tui.launch import history_replay_app
from tui.widgets.device_panel import DevicePanel, device_text

GPU = DeviceStats("gpu", 87.0, 10.5 * 2 ** 30, 80 * 2 ** 30, 65.0, 250.4, 143.0, 512 * 2 ** 20)


def test_gpu_figures_and_process_figures():
    assert device_text(GPU) == "gpu 87% · 10.5 GiB/80.0 GiB · 65°C · 250 W\nproc cpu 143% · rss 512.0 MiB"
    assert device_text(DeviceStats("cpu", cpu_percent=99.6, rss=None)) == "proc cpu 100% · rss –"


def test_without_the_nvml_package_every_gpu_figure_is_a_dash(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails as if not installed
    stats = NvmlStats(0).read()
    assert stats.name == "gpu" and stats.util_percent is None and stats.power_w is None
    assert device_text(stats).startswith("gpu – · –/– · – · –\nproc cpu ")
    assert isinstance(provider_for("cpu"), ProcessStats) and isinstance(provider_for("cuda:1"), NvmlStats)


def cpu_seconds() -> float:
    """This process's CPU time as os.times() counts it (whole clock ticks), the figure ProcessStats reads."""
    times = os.times()
    return times.user + times.system


def work_until_cpu_time_advances(chunks: int = 10_000) -> None:
    """Compute until os.times() has counted more CPU time; a fixed amount of work can fit inside one clock tick."""
    start = cpu_seconds()
    for _ in range(chunks):  # bounded: one chunk is ~1 ms of CPU, so this gives up only if the clock never moves
        sum(i * i for i in range(10_000))
        if cpu_seconds() > start:
            return


def test_process_stats_measure_cpu_between_reads():
    clock = iter([0.0, 1.0])
    started = cpu_seconds()
    stats = ProcessStats(clock=lambda: next(clock))
    work_until_cpu_time_advances()
    reading = stats.read()
    # The CPU time used between the two reads, over the fake clock's 1 s between them.
    assert 0 < reading.cpu_percent <= 100 * (cpu_seconds() - started) + 1e-9
    assert reading.rss > 10 * 2 ** 20


async def test_panel_shows_the_figures_of_the_latest_stats_event():
    app = dashboard_app()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(DevicePanel)
        assert not panel.display  # no stats event yet: nothing to show
        app.dashboard.post_message(EventsArrived([start(), DeviceStats("cpu", cpu_percent=12.0, rss=2 ** 30, step=3)]))
        await wait_until(pilot, lambda: panel.display and str(panel.render()) == "proc cpu 12% · rss 1.0 GiB")
        app.dashboard.post_message(EventsArrived([GPU]))
        await wait_until(pilot, lambda: str(panel.render()) == "gpu 87% · 10.5 GiB/80.0 GiB · 65°C · 250 W\n"
                                                               "proc cpu 143% · rss 512.0 MiB")
        assert app.dashboard.history.events[-1].kind == "run_start"  # stats are kept apart from the events the rules read


async def test_replay_shows_the_figures_logged_up_to_the_cursor():
    events = [start()]
    for n in range(1, 4):
        events += [DeviceStats("cpu", cpu_percent=10.0 * n, rss=n * 2 ** 20, epoch=n - 1, step=n * 32 - 16),
                   epoch(n, 1.3 - 0.01 * n, 1.31 - 0.01 * n)]
    app = history_replay_app(history_of(events))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(DevicePanel)
        await wait_until(pilot, lambda: str(panel.render()) == "proc cpu 30% · rss 3.0 MiB")
        await pilot.press("left", "left")
        await wait_until(pilot, lambda: str(panel.render()) == "proc cpu 10% · rss 1.0 MiB")
