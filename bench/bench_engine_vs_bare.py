"""Engine vs two plain loops: our own bare loop (same model, data and batches) and the independent reference loop.

- bare: the loop a person would write over the engine's own data and model (bare_step below), same allocator.
- reference: bench/reference_loop.py, which shares no code with the engine, on the bundled prices, with glibc's
  allocator tuned through GLIBC_TUNABLES (the settings the engine applies itself with mallopt).
- engine: the Trainer as the CLI runs it (log, probes, step events, control socket), on the default config.

Each round runs each side in a fresh process (torch's thread pools and the allocator start the same), the sides
interleaved so the machine's drift hits all of them, each side leading a round in turn. Each side times its
training steps per epoch with time.perf_counter (the engine's epoch figure covers exactly its steps and their
bookkeeping; validation and checkpoints are outside it, as the plain loops have none). A side's figure is the
median over epochs after the first; a ratio is the median of the per-round ratios. Every side gets the same
thread count (torch's default, all the cores), so a busy neighbour cannot make `threads: auto` pick fewer for
the engine alone. The load average is printed before and after: on a shared machine, read the per-round
figures, not only the medians (bench_step_overhead.py compares the steps inside one process instead).
Usage: python3 bench/bench_engine_vs_bare.py [epochs] [rounds]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = __name__ == "__main__"  # imported by bench_cuda.py, the command line is that script's
EPOCHS = max(2, int(sys.argv[1])) if SCRIPT and len(sys.argv) > 1 else 3
ROUNDS = int(sys.argv[2]) if SCRIPT and len(sys.argv) > 2 else 5
HERE = Path(__file__).resolve().parent
PRICES = HERE.parent / "engine" / "data" / "stocks.csv.gz"
TUNED_MALLOC = ("glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967295:"
                "glibc.malloc.arena_max=1")
SIDES = ("reference", "bare", "engine")


def setup(logs, epochs: int = EPOCHS, overrides=()):
    """The default config (with `overrides`) and its data on the training device, with the CLI's allocator settings."""
    import torch

    from engine.config import load_config
    from engine.data.dataset import prepare_data
    from engine.training.allocator import keep_freed_memory
    from engine.training.distributed import resolve_device

    keep_freed_memory()
    config = load_config(None, [f"training.epochs={epochs}", f"log_dir={logs}", "training.early_stopping.enabled=false",
                                f"threads={torch.get_num_threads()}", *overrides])
    return config, prepare_data(config).to(resolve_device(config.device))


def bare_step(model, optimizer, data, ends):
    """One step of the loop a person would write (also counted by bench_ops_per_step.py)."""
    import torch
    import torch.nn.functional as F

    inputs, target, up = data.batch(ends)
    prediction, logit = model(inputs)
    loss = F.mse_loss(prediction, target) + 0.5 * F.binary_cross_entropy_with_logits(logit, up)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss


def bare_loop(config, data) -> list[float]:
    """The loop a person would write: resident data, index shuffling, no logging; samples/s per epoch."""
    import torch

    from engine.training.model import MultitaskLSTM

    torch.manual_seed(config.seed)
    model = MultitaskLSTM(data.features.shape[1], config.model).to(data.features.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate, weight_decay=config.training.weight_decay)
    ends, batch = data.ends["train"], config.training.batch_size
    rates = []
    for _ in range(config.training.epochs):
        started = time.perf_counter()
        order = ends[torch.randperm(len(ends), device=ends.device)]
        for start in range(0, len(order), batch):
            loss = bare_step(model, optimizer, data, order[start:start + batch])
        loss.item()
        rates.append(len(ends) / (time.perf_counter() - started))
    return rates


def engine_loop(config, data) -> list[float]:
    """The engine as the CLI runs it (log, probes, control socket); samples/s from its own epoch events."""
    from engine.training.trainer import Trainer

    rates = []
    Trainer(config, data, sinks=[lambda e: rates.append(e.samples_per_s) if e.kind == "epoch" else None]).run()
    return rates


def reference() -> float:
    """bench/reference_loop.py in its own process, allocator tuned from the environment; its median samples/s."""
    env = {**os.environ, "GLIBC_TUNABLES": TUNED_MALLOC}
    out = subprocess.run([sys.executable, str(HERE / "reference_loop.py"), str(PRICES), str(EPOCHS)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[1])  # "samples/s 3123.4 windows 8278"


def child(side: str) -> float:
    with tempfile.TemporaryDirectory() as logs:
        config, data = setup(logs)
        rates = bare_loop(config, data) if side == "bare" else engine_loop(config, data)
    return statistics.median(rates[1:])


def one_round(side: str) -> float:
    if side == "reference":
        return reference()
    out = subprocess.run([sys.executable, __file__, str(EPOCHS), "1", side], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) > 3:
        print(json.dumps(child(sys.argv[3])))
        return
    import torch

    load_before = os.getloadavg()
    results = {side: [] for side in SIDES}
    for number in range(ROUNDS):
        for side in SIDES[number % len(SIDES):] + SIDES[:number % len(SIDES)]:  # each side leads a round in turn
            results[side].append(one_round(side))
        print(f"round {number + 1}: " + ", ".join(f"{side} {results[side][-1]:,.0f}" for side in SIDES), flush=True)
    load_after = os.getloadavg()
    print(f"torch {torch.__version__} · {torch.get_num_threads()} threads · {EPOCHS} epochs x {ROUNDS} rounds, fresh "
          f"processes, interleaved · load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"(15 min: {load_after[2]:.2f}) on {os.cpu_count()} CPUs")
    for side, rates in results.items():
        print(f"{side:9}: median {statistics.median(rates):,.0f} samples/s (rounds: {', '.join(f'{r:,.0f}' for r in rates)})")
    for base in ("bare", "reference"):
        ratios = [e / b for e, b in zip(results["engine"], results[base])]
        print(f"engine / {base:9} per round: {', '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
