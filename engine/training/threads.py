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


def own_cpu_seconds() -> float:
    """CPU time this process (all its threads) has used."""
    times = os.times()
    return times.user + times.system


def own_share(cpu_seconds: float, elapsed: float, cpus: list[int]) -> float:
    """Cores this process kept busy over `elapsed` seconds (0 over a span too short for os.times' 10 ms ticks)."""
    return 0.0 if elapsed < 0.05 else min(len(cpus), cpu_seconds / elapsed)


def threads_for(cpus: list[int], free: float, own_cores: float = 0.0) -> int:
    """Cores left after other processes: the idle ones plus those this process itself kept busy, at least one."""
    return max(1, min(len(cpus), math.floor(free + own_cores + HEADROOM)))


def auto_threads(sample_s: float = SAMPLE_S, reader=read_cpu_times, cpus: list[int] | None = None) -> int:
    """Threads for `threads: auto`: the allowed cores that other processes leave idle, at least one.

    This process's own use during the sample (a dashboard drawing its first frame) is not a neighbour's.
    """
    cpus = cpus if cpus is not None else allowed_cpus()
    before, own_before, started = reader(), own_cpu_seconds(), time.monotonic()
    time.sleep(sample_s)
    after, own = reader(), own_cpu_seconds() - own_before
    elapsed = max(time.monotonic() - started, 1e-3)
    return threads_for(cpus, free_cores(cpus, before, after), own_share(own, elapsed, cpus) if after else 0.0)


class ThreadGovernor:
    """`threads: auto` decided again at every epoch end, from what other processes used of the cores meanwhile.

    A start-up sample sees only a moment: an `attach` loading next to a new run, a neighbour that finishes later.
    """

    def __init__(self, setting: int | str, reader=read_cpu_times) -> None:
        self.auto = setting == "auto" and not os.environ.get("STOCKPRED_THREADS", "").isdigit()
        self.reader = reader
        self._mark()

    def _mark(self) -> None:
        self._cpu, self._own, self._clock = self.reader(), own_cpu_seconds(), time.monotonic()

    def review(self) -> int | None:
        """The thread count for the next epoch when `auto` (None for a fixed setting)."""
        if not self.auto:
            return None
        before, own_before, started = self._cpu, self._own, self._clock
        self._mark()
        if not before or not self._cpu:
            return None
        elapsed = max(self._clock - started, 1e-3)
        cpus = allowed_cpus()
        return threads_for(cpus, free_cores(cpus, before, self._cpu), own_share(self._own - own_before, elapsed, cpus))

    def retune(self) -> str | None:
        """Apply review()'s count to torch in the calling thread; says what changed ('threads 2 -> 1 (...)'), if anything."""
        import torch

        count, old = self.review(), torch.get_num_threads()
        if count is None or count == old:
            return None
        torch.set_num_threads(count)
        return f"threads {old} -> {count} (what other processes left free over the last epoch)"


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
