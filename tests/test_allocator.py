"""keep_freed_memory: big blocks, from any thread, come from the reusable heap instead of fresh mappings."""

import platform
import subprocess
import sys

import pytest

BLOCK_IN_HEAP = """
import ctypes, sys, threading
from engine.training.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
blocks = []
allocate = lambda: blocks.append(libc.malloc(16 << 20))  # about one LSTM gate buffer of the default config
if sys.argv[2] == "thread":  # as the dashboard's training worker allocates
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
else:
    allocate()
heap = next(line for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]"))
start, end = (int(part, 16) for part in heap.split()[0].split("-"))
print(applied, start <= blocks[0] < end)
"""


def block_in_heap(mode: str, thread: str) -> list[str]:
    """[settings applied, a 16 MB block lies in the main heap] from a fresh interpreter."""
    command = [sys.executable, "-c", BLOCK_IN_HEAP, mode, thread]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="a glibc setting")
@pytest.mark.parametrize("thread", ["main", "thread"])
def test_big_blocks_come_from_the_heap_only_when_kept(thread):
    # By default glibc maps the block afresh (main thread) or carves it from a per-thread arena whose emptied
    # heaps it unmaps (other threads); either way freed memory goes back to the kernel.
    assert block_in_heap("default", thread) == ["False", "False"]
    assert block_in_heap("keep", thread) == ["True", "True"]
