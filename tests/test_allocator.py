"""keep_freed_memory: big blocks come from the reusable heap instead of fresh mappings."""

import platform
import subprocess
import sys

import pytest

BLOCK_IN_HEAP = """
import ctypes, sys
from engine.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
block = libc.malloc(64 << 20)
heap = next(line for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]"))
start, end = (int(part, 16) for part in heap.split()[0].split("-"))
print(applied, start <= block < end)
libc.free(ctypes.c_void_p(block))
"""


def run(mode: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_IN_HEAP, mode], capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_big_blocks_come_from_the_heap_only_when_kept():
    assert run("default") == ["False", "False"]  # glibc maps a 64 MB block afresh and unmaps it on free
    assert run("keep") == ["True", "True"]
