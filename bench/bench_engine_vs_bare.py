"""Engine vs a bare PyTorch loop: same model, data, batches and allocator settings, the same clock on both sides.

Each round runs each side in a fresh process (torch's thread pools and the allocator start the same), rounds
interleaved so the machine's drift hits both. Each side times its training steps per epoch with time.perf_counter,
ending with a host sync (the engine's epoch figure covers exactly its steps and their bookkeeping; validation and
checkpoints are outside it, as the bare loop has none). The figure is the median over epochs after the first;
the ratio is the median of the per-round ratios.
Usage: python3 bench/bench_engine_vs_bare.py [epochs] [rounds]
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time

EPOCHS = max(2, int(sys.argv[1])) if len(sys.argv) > 1 else 3
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def setup(logs):
    """The default config and its data on the training device, with the CLI's allocator settings."""
    from engine.training.allocator import keep_freed_memory
    from engine.config import load_config
    from engine.data.dataset import prepare_data
    from engine.training.distributed import resolve_device

    keep_freed_memory()
    config = load_config(None, [f"training.epochs={EPOCHS}", f"log_dir={logs}", "training.early_stopping.enabled=false"])
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
    for _ in range(EPOCHS):
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


def child(side: str) -> float:
    with tempfile.TemporaryDirectory() as logs:
        config, data = setup(logs)
        rates = bare_loop(config, data) if side == "bare" else engine_loop(config, data)
    return statistics.median(rates[1:])


def main():
    if len(sys.argv) > 3:
        print(json.dumps(child(sys.argv[3])))
        return
    results = {"bare": [], "engine": []}
    for _ in range(ROUNDS):
        for side in results:
            out = subprocess.run([sys.executable, __file__, str(EPOCHS), "1", side], capture_output=True, text=True,
                                 check=True).stdout
            results[side].append(json.loads(out))
    import torch

    print(f"torch {torch.__version__} · {EPOCHS} epochs x {ROUNDS} rounds, fresh processes, interleaved")
    for side, rates in results.items():
        print(f"{side:6}: median {statistics.median(rates):,.0f} samples/s (rounds: {', '.join(f'{r:,.0f}' for r in rates)})")
    ratios = [e / b for e, b in zip(results["engine"], results["bare"])]
    print(f"engine / bare per round: {', '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
