"""One process vs two data-parallel processes (torchrun, gloo on CPU) on the bundled default, and the cost of the
per-step control broadcast measured in a 2-rank group on its own.

On a 2-core machine no speed-up is expected: two ranks share the same two cores. Throughput is the median of the
epochs after the first, from rank 0's log (global samples/s).
Usage: python3 bench/bench_distributed.py [epochs] [broadcasts]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EPOCHS = max(2, int(sys.argv[1])) if len(sys.argv) > 1 else 3
BROADCASTS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000


def throughput(nproc: int) -> float:
    """Global samples/s of one training job with `nproc` processes."""
    with tempfile.TemporaryDirectory() as logs:
        subprocess.run([sys.executable, "-m", "tui.cli", "train", "--nproc", str(nproc), "--epochs", str(EPOCHS),
                        "--set", f"log_dir={logs}", "--set", "training.early_stopping.enabled=false"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = next(Path(logs).glob("*/events.jsonl"))
        rates = [e["samples_per_s"] for e in map(json.loads, log.read_text().splitlines()) if e["type"] == "epoch"]
    return statistics.median(rates[1:])


def broadcast_rank() -> None:
    """Run inside torchrun: time ControlBroadcast.exchange with nothing to send (the per-step case)."""
    import time

    import torch
    import torch.distributed as dist

    from engine.control.channel import ControlChannel
    from engine.training.distributed import ControlBroadcast, world_from_env

    world = world_from_env()
    dist.init_process_group("gloo")
    channel = ControlBroadcast(world, ControlChannel(), torch.device("cpu"))
    for _ in range(100):
        channel.exchange(False, [])
    started = time.perf_counter()
    for _ in range(BROADCASTS):
        channel.exchange(False, [])
    per_step = (time.perf_counter() - started) / BROADCASTS
    if world.is_main:
        print(json.dumps(per_step))
    dist.destroy_process_group()


def main():
    if os.environ.get("WORLD_SIZE"):
        broadcast_rank()
        return
    one, two = throughput(1), throughput(2)
    print(f"1 process : {one:,.0f} samples/s\n2 processes: {two:,.0f} samples/s (global); 2 / 1 = {two / one:.3f}")
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", __file__,
                          str(EPOCHS), str(BROADCASTS)], capture_output=True, text=True, check=True).stdout
    per_step = json.loads(out.strip().splitlines()[-1])
    step_s = 256 / one
    print(f"control broadcast: {per_step * 1e6:.0f} µs per step (2 ranks, gloo), "
          f"{per_step / step_s:.2%} of a 1-process step of {step_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
