"""The engine on CUDA against three plain loops, bf16 autocast off and on, and the engine's host syncs per step.

- engine: the Trainer as the CLI runs it (log, probes, control socket), samples/s from its epoch events
  (bench_engine_vs_bare.engine_loop; its epoch clock stops after the epoch's sums reach the host, a sync).
- bare: bench_engine_vs_bare.bare_loop, the loop a person would write over the engine's resident data.
- reference: bench/reference_loop.py (shares no code with the engine), run in this process under
  `with torch.device(...)` so every tensor it makes is on the GPU.
- naive: a DataLoader over a TensorDataset of the training windows (shuffle=True), each batch copied host to
  device at every step, then bench_engine_vs_bare.bare_step.

One process, the sides interleaved in every round, each side leading a round in turn (on a GPU the CPU-side
effects the fresh processes of bench_engine_vs_bare.py guard against are small). A side's figure is the median
samples/s of epochs 2..N; a ratio is the median of the per-round ratios. Host syncs are counted with
torch.cuda.set_sync_debug_mode("warn") over one more engine run (each sync is one warning).
Without CUDA it says so and measures nothing; `--cpu` runs every path on the CPU in tiny sizes instead (a check
of this script, not a measurement).
Usage: python3 bench/bench_cuda.py [--cpu] [--epochs N] [--rounds N] [--batches 256,1024]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import runpy
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

import bench_engine_vs_bare as plain

HERE = Path(__file__).resolve().parent
SIDES = ("engine", "bare", "reference", "naive")
PRECISIONS = ("fp32", "bf16")
TINY_ROWS = 300  # per ticker for --cpu: a few hundred windows, so each side trains in about a second


def arguments() -> argparse.Namespace:
    """The command line; sizes default to a GPU run, or to tiny ones with --cpu."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="run every path on the CPU in tiny sizes (checks the script)")
    parser.add_argument("--epochs", type=int, help="epochs per side and round (default 8; 2 with --cpu)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --cpu)")
    parser.add_argument("--batches", help="batch sizes, comma-separated (default 256,1024; 64,128 with --cpu)")
    args = parser.parse_args()
    args.epochs = max(2, args.epochs or (2 if args.cpu else 8))
    args.rounds = args.rounds or (1 if args.cpu else 3)
    args.batches = [int(b) for b in (args.batches or ("64,128" if args.cpu else "256,1024")).split(",")]
    return args


def tiny_prices(directory: Path) -> Path:
    """The last TINY_ROWS days of each ticker of the bundled prices, as a CSV both the engine and the reference read."""
    prices = pd.read_csv(plain.PRICES)
    path = directory / "tiny-prices.csv"
    prices.sort_values(["Ticker", "Date"]).groupby("Ticker").tail(TINY_ROWS).to_csv(path, index=False)
    return path


def precision(device: torch.device, name: str):
    """bf16 autocast on the device, or nothing for fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if name == "bf16" else contextlib.nullcontext()


class HostBatches:
    """What bare_step reads a batch from in the naive loop: a DataLoader's batch, copied to the device at each step."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def batch(self, tensors):
        """The batch's tensors on the device."""
        return tuple(tensor.to(self.device) for tensor in tensors)


def naive_loop(config, data) -> list[float]:
    """A DataLoader loop over materialised windows (shuffle=True), host to device each step; samples/s per epoch."""
    from torch.utils.data import DataLoader, TensorDataset

    from engine.training.model import MultitaskLSTM

    device = data.features.device
    host = data.to(torch.device("cpu"))
    inputs, target, up = host.batch(host.ends["train"])
    loader = DataLoader(TensorDataset(inputs.contiguous(), target, up), batch_size=config.training.batch_size, shuffle=True)
    torch.manual_seed(config.seed)
    model = MultitaskLSTM(data.features.shape[1], config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate, weight_decay=config.training.weight_decay)
    copied, rates = HostBatches(device), []
    for _ in range(config.training.epochs):
        started = time.perf_counter()
        for batch in loader:
            loss = plain.bare_step(model, optimizer, copied, batch)
        loss.item()
        rates.append(len(inputs) / (time.perf_counter() - started))
    return rates


def reference(prices: Path, epochs: int, batch: int, device: torch.device) -> float:
    """bench/reference_loop.py in this process with every tensor it makes on `device`; its median samples/s."""
    argv, printed = sys.argv, io.StringIO()
    sys.argv = [str(HERE / "reference_loop.py"), str(prices), str(epochs), str(batch)]
    try:
        with torch.device(device), contextlib.redirect_stdout(printed):
            runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        sys.argv = argv
    return float(printed.getvalue().split()[1])  # "samples/s 3123.4 windows 8278"


def measure(side: str, batch: int, name: str, args, overrides: list[str], prices: Path) -> float:
    """One side's median samples/s at one batch size and precision."""
    with tempfile.TemporaryDirectory() as logs:
        config, data = plain.setup(logs, args.epochs, [*overrides, f"training.batch_size={batch}"])
        with precision(data.features.device, name):
            if side == "reference":
                return reference(prices, args.epochs, batch, data.features.device)
            loop = {"engine": plain.engine_loop, "bare": plain.bare_loop, "naive": naive_loop}[side]
            return statistics.median(loop(config, data)[1:])


def count_syncs(args, overrides: list[str], batch: int) -> tuple[int, int, int, int]:
    """Host syncs over one engine run (fp32): syncs, training steps, step events (one .item() each), epochs."""
    from engine.training.trainer import Trainer

    kinds: list[str] = []
    with tempfile.TemporaryDirectory() as logs:
        config, data = plain.setup(logs, args.epochs, [*overrides, f"training.batch_size={batch}"])
        trainer = Trainer(config, data, sinks=[lambda event: kinds.append(event.kind)])
        on_cuda = trainer.device.type == "cuda"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if on_cuda:
                torch.cuda.set_sync_debug_mode("warn")
            try:
                trainer.run()
            finally:
                if on_cuda:
                    torch.cuda.set_sync_debug_mode("default")
    syncs = sum("synchroniz" in str(warning.message) for warning in caught)
    return syncs, trainer.step, kinds.count("step"), kinds.count("epoch")


def rotated(number: int) -> tuple[str, ...]:
    """The sides in the order of round `number`: each leads a round in turn."""
    shift = number % len(SIDES)
    return SIDES[shift:] + SIDES[:shift]


def report(results: dict, args) -> None:
    """Each configuration's medians and ratios, side by side."""
    for (batch, name), rates in results.items():
        medians = {side: statistics.median(values) for side, values in rates.items()}
        print(f"batch {batch:5} {name}: " + ", ".join(f"{side} {medians[side]:,.0f}" for side in SIDES) + " samples/s")
        for base in ("reference", "naive", "bare"):
            ratios = [e / b for e, b in zip(rates["engine"], rates[base])]
            print(f"    engine / {base:9} median {statistics.median(ratios):.3f} (rounds: "
                  f"{', '.join(f'{r:.3f}' for r in ratios)})")
    for batch in args.batches:
        ratios = [b / f for b, f in zip(results[(batch, "bf16")]["engine"], results[(batch, "fp32")]["engine"])]
        print(f"engine bf16 / fp32 at batch {batch}: median {statistics.median(ratios):.3f}")


def main() -> int:
    """Measure every side, batch size and precision in interleaved rounds, then the host syncs."""
    args = arguments()
    if not args.cpu and not torch.cuda.is_available():
        print("no CUDA device: nothing measured (bench/bench_cuda.py --cpu checks this script on the CPU)")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        prices = tiny_prices(Path(scratch)) if args.cpu else plain.PRICES
        if args.cpu:
            torch.set_num_threads(1)  # a check, not a measurement: no fight with the neighbours over the cores
        overrides = ["device=cpu", f"data.source={prices}"] if args.cpu else ["device=cuda"]
        card = "CPU (--cpu: tiny sizes, a check of the script)" if args.cpu else torch.cuda.get_device_name(0)
        print(f"{card} · torch {torch.__version__} · {args.epochs} epochs x {args.rounds} rounds, one process, interleaved")
        results = {(batch, name): {side: [] for side in SIDES} for batch in args.batches for name in PRECISIONS}
        for number in range(args.rounds):
            for (batch, name), rates in results.items():
                for side in rotated(number):
                    rates[side].append(measure(side, batch, name, args, overrides, prices))
                print(f"round {number + 1} batch {batch} {name}: " + ", ".join(f"{s} {rates[s][-1]:,.0f}" for s in SIDES),
                      flush=True)
        report(results, args)
        syncs, steps, step_events, epochs = count_syncs(args, overrides, args.batches[0])
    where = "" if not args.cpu else " (none are reported on the CPU)"
    print(f"engine host syncs at batch {args.batches[0]}: {syncs} over {steps} steps = {syncs / max(1, steps):.2f} per step"
          f"{where}; the run emitted {step_events} step events (one .item() each) and {epochs} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
