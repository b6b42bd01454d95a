"""Engine vs a bare PyTorch loop: same model, data and batches; prints samples/s of each and the ratio."""

import sys
import tempfile
import time

import torch
import torch.nn.functional as F

from engine.allocator import keep_freed_memory
from engine.config import load_config
from engine.dataset import prepare_data
from engine.model import MultitaskLSTM
from engine.trainer import Trainer, resolve_device

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def bare_loop(config, data, epochs):
    """The 30-line loop a person would write: resident data, index shuffling, no logging."""
    torch.manual_seed(config.seed)
    model = MultitaskLSTM(data.features.shape[1], config.model).to(data.features.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate, weight_decay=config.training.weight_decay)
    ends, batch = data.ends["train"], config.training.batch_size
    started = time.perf_counter()
    for _ in range(epochs):
        order = ends[torch.randperm(len(ends), device=ends.device)]
        for start in range(0, len(order), batch):
            inputs, target, up = data.batch(order[start:start + batch])
            prediction, logit = model(inputs)
            loss = F.mse_loss(prediction, target) + 0.5 * F.binary_cross_entropy_with_logits(logit, up)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        loss.item()
    return epochs * len(ends) / (time.perf_counter() - started)


def engine_loop(config, data):
    """The engine with its log, probes and validation; throughput from its own epoch events."""
    rates = []
    trainer = Trainer(config, data, sinks=[lambda e: rates.append(e.samples_per_s) if e.kind == "epoch" else None])
    trainer.run()
    return sum(rates) / len(rates)


def main():
    keep_freed_memory()  # as the CLI does; process-wide, so both loops run with it
    with tempfile.TemporaryDirectory() as logs:
        config = load_config(None, [f"training.epochs={EPOCHS}", f"log_dir={logs}", "training.early_stopping.enabled=false"])
        data = prepare_data(config).to(resolve_device(config.device))
        bare_loop(config, data, 1)  # warm-up
        results = {"bare": [], "engine": []}
        for _ in range(2):  # interleaved, so drift hits both
            results["bare"].append(bare_loop(config, data, EPOCHS))
            results["engine"].append(engine_loop(config, data))
    bare, engine = max(results["bare"]), max(results["engine"])
    print(f"device {data.features.device} · torch {torch.__version__} · {len(data.ends['train'])} train windows · {EPOCHS} epochs x 2 rounds")
    print(f"bare loop : {bare:,.0f} samples/s   (rounds: {', '.join(f'{r:,.0f}' for r in results['bare'])})")
    print(f"engine    : {engine:,.0f} samples/s   (rounds: {', '.join(f'{r:,.0f}' for r in results['engine'])})")
    print(f"engine / bare = {engine / bare:.3f}")


if __name__ == "__main__":
    main()
