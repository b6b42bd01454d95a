"""The trainer's own figures for its stats events: CPU% and RSS of this process from os.times and /proc, the GPU's
through NVML (optional extra). Cheap reads with no torch call, so no host sync."""

from __future__ import annotations

import os
import time
from typing import Protocol

from engine.events import DeviceStats


class StatsProvider(Protocol):
    """Something that can be read every few seconds."""

    def read(self) -> DeviceStats: ...


class ProcessStats:
    """This process's CPU% (all threads, so up to 100 × cores) between reads, and its resident memory."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._last = (clock(), _cpu_seconds())

    def read(self) -> DeviceStats:
        """CPU% since the previous read and RSS now."""
        now, cpu = self.clock(), _cpu_seconds()
        (then, cpu_then), self._last = self._last, (now, cpu)
        percent = 100 * (cpu - cpu_then) / (now - then) if now > then else None
        return DeviceStats("cpu", cpu_percent=percent, rss=_rss_bytes())


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _rss_bytes() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        return None


class NvmlStats:
    """A CUDA device through nvidia-ml-py (`pip install -e .[gpu]`); every figure '–' when it cannot be read."""

    def __init__(self, index: int = 0, host: ProcessStats | None = None) -> None:
        self.host = host or ProcessStats()
        self.nvml = None
        self.handle = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.nvml = pynvml
        except Exception:  # no package, no driver, no such GPU: the panel shows dashes, training is unaffected
            self.nvml = None

    def read(self) -> DeviceStats:
        """Utilisation, memory, temperature and power of the GPU, beside this process's CPU and RSS."""
        host = self.host.read()
        if self.nvml is None:
            return DeviceStats("gpu", cpu_percent=host.cpu_percent, rss=host.rss)
        nvml, handle = self.nvml, self.handle
        return DeviceStats("gpu", _try(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                           _try(lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used),
                           _try(lambda: nvml.nvmlDeviceGetMemoryInfo(handle).total),
                           _try(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
                           _try(lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000),
                           host.cpu_percent, host.rss)


def _try(read) -> float | None:
    try:
        return float(read())
    except Exception:  # one figure a GPU does not report (power on some boards) leaves the others
        return None


def provider_for(device: str) -> StatsProvider:
    """NVML for 'cuda' / 'cuda:N', this process's CPU and memory otherwise."""
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device and device.split(":")[1].isdigit() else 0
        return NvmlStats(index)
    return ProcessStats()
