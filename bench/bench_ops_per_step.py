"""Operators per training step: the engine against the bare loop (torch.profiler on CPU, top-level aten ops).

On CUDA each such operator is (at most) a kernel launch, so this is how the issue's "no more than one small kernel
per step beyond the bare loop" is checked on a machine without a GPU. Epoch-level work (validation, probes, the
permutation) is spread over the steps; the table lists every operator whose count per step differs by 0.5 or more.
Usage: python3 bench/bench_ops_per_step.py
"""

import tempfile
from collections import Counter

import torch
from torch.profiler import ProfilerActivity, profile

from bench_engine_vs_bare import bare_step  # beside this file: the same step the throughput bench times
from engine.config import load_config
from engine.data.dataset import prepare_data
from engine.training.model import MultitaskLSTM
from engine.training.trainer import Trainer

SETTINGS = ["data.source=synthetic", "data.synthetic.days=3000", "data.window=8", "data.volatility_window=5",
            "model.hidden_size=8", "training.batch_size=64", "training.epochs=1", "training.probes_per_epoch=1",
            "control_socket=false", "checkpoint.every_epochs=0"]


def top_level_ops(prof) -> Counter:
    """Operators called directly from Python (not those nested inside another operator)."""
    return Counter(e.name for e in prof.events() if e.cpu_parent is None and e.name.startswith("aten::"))


def bare(config, data, steps: int) -> None:
    """The bare loop's steps (one shuffle, then slices)."""
    torch.manual_seed(config.seed)
    model = MultitaskLSTM(data.features.shape[1], config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    ends, batch = data.ends["train"], config.training.batch_size
    order = ends[torch.randperm(len(ends))]
    for step in range(steps):
        bare_step(model, optimizer, data, order[step * batch:(step + 1) * batch])


def main() -> None:
    with tempfile.TemporaryDirectory() as logs:
        config = load_config(None, [*SETTINGS, f"log_dir={logs}"])
        data = prepare_data(config)
        trainer = Trainer(config, data)
        steps = trainer.batches_per_epoch
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            bare(config, data, steps)
        bare_ops = top_level_ops(prof)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            trainer.run()
        engine_ops = top_level_ops(prof)
    print(f"{steps} steps: bare {sum(bare_ops.values()) / steps:.1f} ops/step, engine {sum(engine_ops.values()) / steps:.1f} "
          f"ops/step (the engine's include one validation pass and one probe step per epoch)")
    for name in sorted(set(bare_ops) | set(engine_ops)):
        if abs(engine_ops[name] - bare_ops[name]) / steps >= 0.5:
            print(f"  {name:28} engine {engine_ops[name] / steps:5.2f}/step   bare {bare_ops[name] / steps:5.2f}/step")


if __name__ == "__main__":
    main()
