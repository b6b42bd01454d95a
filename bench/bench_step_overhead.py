"""The engine's steps against bare steps in one process, step by step: what the loop's bookkeeping costs.

bench_engine_vs_bare.py compares whole processes, whose speed differs by several percent from one process to the
next on a shared machine (where the heap lands, a neighbour's burst). Here one process alternates an engine epoch
(Trainer.run_epoch, step events at every step) with a bare epoch (bench_engine_vs_bare.bare_step over the same
data), and times every step: an engine step is the time between two step events (controls, the step, probes,
running sums, the event itself), a bare step the time around bare_step. Medians over steps shrug off bursts.
Steps that cross an epoch boundary (validation, checkpoints) are left out; probe steps are reported apart.
Usage: python3 bench/bench_step_overhead.py [epochs per side] [threads]
"""

import statistics
import sys
import tempfile
import time

import torch

from bench_engine_vs_bare import bare_step  # beside this file: the same step the throughput bench times
from engine.config import load_config
from engine.data.dataset import prepare_data
from engine.training.allocator import keep_freed_memory
from engine.training.model import MultitaskLSTM
from engine.training.trainer import Trainer

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 6
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()


def main() -> None:
    keep_freed_memory()
    torch.set_num_threads(THREADS)
    with tempfile.TemporaryDirectory() as logs:
        config = load_config(None, [f"log_dir={logs}", "training.early_stopping.enabled=false", "step_event_interval_s=0",
                                    f"threads={THREADS}", f"training.epochs={EPOCHS + 1}"])
        data = prepare_data(config)
        stamps: list[tuple[int, float]] = []
        trainer = Trainer(config, data, sinks=[lambda e: stamps.append((e.batch, time.perf_counter())) if e.kind == "step" else None])
        torch.manual_seed(config.seed)
        model = MultitaskLSTM(data.features.shape[1], config.model)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.training.learning_rate, weight_decay=config.training.weight_decay)
        ends, batch = data.ends["train"], config.training.batch_size
        bare: list[float] = []
        engine_steps: list[tuple[int, float]] = []  # (batch number, seconds) of each engine step
        with trainer.resources:
            for epoch in range(EPOCHS + 1):  # the first epoch of each side warms up
                stamps.clear()
                trainer.run_epoch()
                if epoch:
                    engine_steps += [(b, t - s) for (_, s), (b, t) in zip(stamps, stamps[1:])]
                order = ends[torch.randperm(len(ends))]
                for start in range(0, len(order) - batch + 1, batch):  # full batches only, as the engine's median
                    started = time.perf_counter()
                    bare_step(model, optimizer, data, order[start:start + batch])
                    if epoch:
                        bare.append(time.perf_counter() - started)
    every = max(1, trainer.batches_per_epoch // config.training.probes_per_epoch)
    full = len(ends) // batch  # the last, short batch is no full step
    plain = [s for b, s in engine_steps if b % every != 0 and b <= full]
    probing = [s for b, s in engine_steps if b % every == 0 and b <= full]
    median_bare, median_engine, median_probe = (statistics.median(v) * 1000 for v in (bare, plain, probing))
    probe_share = (median_probe - median_engine) * len(probing) / (len(plain) + len(probing))
    print(f"torch {torch.__version__} · {THREADS} threads · {EPOCHS} epochs per side, alternated in one process")
    print(f"bare step   median {median_bare:.2f} ms ({len(bare)} steps)")
    print(f"engine step median {median_engine:.2f} ms ({len(plain)} steps without a probe): "
          f"engine / bare speed {median_bare / median_engine:.3f}")
    print(f"probe step  median {median_probe:.2f} ms ({len(probing)} steps): {probe_share:+.3f} ms a step on average "
          f"({probe_share / median_engine:+.2%})")


if __name__ == "__main__":
    main()
