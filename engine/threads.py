"""How many CPU threads torch should use: the cores this process may run on, less those others keep busy."""

from __future__ import annotations

import math
import os
import time

SAMPLE_S = 0.2
# A core counts as free when at least this much of it was idle over the sample (a neighbour spinning takes ~100%).
HEADROOM = 0.3


def allowed_cpus() -> list[int]:
    """CPUs in this process's affinity mask (all CPUs where the platform has no mask)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:
        return list(range(os.cpu_count() or 1))


def read_cpu_times(path: str = "/proc/stat") -> dict[int, tuple[int, int]]:
    """Per CPU: (idle + iowait jiffies, total jiffies) since boot; empty where /proc is missing."""
    times: dict[int, tuple[int, int]] = {}
    try:
        with open(path) as stat:
            for line in stat:
                name, *fields = line.split()
                if name.startswith("cpu") and name[3:].isdigit():
                    numbers = [int(f) for f in fields[:8]]
                    times[int(name[3:])] = (numbers[3] + numbers[4], sum(numbers))
    except OSError:
        pass
    return times


def free_cores(cpus: list[int], before: dict, after: dict) -> float:
    """Sum of the idle fractions of `cpus` between two readings (len(cpus) when nothing could be read)."""
    idle = 0.0
    measured = 0
    for cpu in cpus:
        if cpu in before and cpu in after:
            total = after[cpu][1] - before[cpu][1]
            if total > 0:
                idle += (after[cpu][0] - before[cpu][0]) / total
                measured += 1
    return idle + (len(cpus) - measured)


def auto_threads(sample_s: float = SAMPLE_S, reader=read_cpu_times, cpus: list[int] | None = None) -> int:
    """Threads for `threads: auto`: the allowed cores that are actually idle, at least one."""
    cpus = cpus if cpus is not None else allowed_cpus()
    before = reader()
    time.sleep(sample_s)
    free = free_cores(cpus, before, reader())
    return max(1, min(len(cpus), math.floor(free + HEADROOM)))


def resolve_threads(setting: int | str) -> int:
    """The thread count a setting means ('auto' or a number; STOCKPRED_THREADS=N overrides 'auto')."""
    if setting == "auto":
        override = os.environ.get("STOCKPRED_THREADS", "")
        return int(override) if override.isdigit() and int(override) > 0 else auto_threads()
    return int(setting)


def apply_threads(setting: int | str) -> int:
    """Set torch's intra-op threads for the calling thread (OpenMP settings are per thread); returns the count."""
    import torch

    count = resolve_threads(setting)
    torch.set_num_threads(count)
    return count
