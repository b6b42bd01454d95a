"""The device panel: figures from a fake provider, dashes without NVML, this process's CPU and RSS."""

import os
import sys

from engine.commands.device_stats import DeviceStats, NvmlStats, ProcessStats, provider_for
from tui.app import DashboardApp
from tui.widgets.device_panel import DevicePanel, device_text

GPU = DeviceStats("gpu", 87.0, 10.5 * 2 ** 30, 80 * 2 ** 30, 65.0, 250.4, 143.0, 512 * 2 ** 20)


class FakeProvider:
    def __init__(self, stats):
        self.stats = stats
        self.reads = 0

    def read(self):
        self.reads += 1
        return self.stats


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


class WithDevice(DashboardApp):
    def stats_provider(self):
        return self.fake


async def test_panel_shows_the_providers_reading():
    app = WithDevice()
    app.fake = FakeProvider(GPU)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.query_one(DevicePanel)
        assert panel.display and app.fake.reads >= 1
        assert "gpu 87% · 10.5 GiB/80.0 GiB · 65°C · 250 W" in str(panel.render())
    plain = DashboardApp()
    async with plain.run_test(size=(120, 40)):
        assert not plain.query_one(DevicePanel).display  # replay and snapshots: no figures to show
