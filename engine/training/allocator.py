"""Keep glibc from handing freed tensor memory back to the kernel after every training step."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
NEVER_TRIM = 2**31 - 1
HEAP_UP_TO = 1 << 30


def keep_freed_memory() -> bool:
    """On glibc, serve tensors up to 1 GiB from one never-trimmed heap shared by all threads; True if applied.

    By default glibc maps each big tensor freshly and unmaps it when freed, so every step page-faults its
    activations in again: on a 2-core CPU that was a quarter of the CPU time, all in the kernel. Keeping freed
    memory costs about 100 MB of resident memory and gave 1.3-1.45x the samples/s (bench/bench_allocator.py).
    One arena, because a thread other than the main one gets its own arena of 64 MB heaps, and glibc unmaps an
    emptied heap whatever the trim threshold: the dashboard's training worker page-faulted 20x more than with one
    arena, and the dashboard ran at 0.89 of headless speed instead of 0.97. Call it before other threads
    allocate, since a thread keeps the arena it first got.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        settings = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, HEAP_UP_TO), (M_TRIM_THRESHOLD, NEVER_TRIM))
        return all([bool(libc.mallopt(option, value)) for option, value in settings])
    except (OSError, AttributeError):
        return False
