"""The same search four ways, side by side: no pruning, Optuna's MedianPruner alone, MedianPruner + health pruning, and
MedianPruner + only the health rules' critical findings.

Each way runs the same N-trial study (the same sampler seed, so the same first draws) over a space wide enough that
some trials explode, freeze or stall, and reports trial-epochs trained, wall time and the best val loss found, for
several sampler seeds. Every trial is a real run (its own process) on tiny synthetic data.

    python bench/bench_sweep_pruning.py [--trials 24] [--epochs 30] [--seeds 3] [--jobs 2] [--ways none,median,...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.commands.sweep import Sweep, SweepRequest, plan_sweep  # noqa: E402
from engine.commands.trainer_setup import RunOptions  # noqa: E402

BASE = {"data": {"source": "synthetic", "synthetic": {"days": 400}, "window": 8, "volatility_window": 5},
        "model": {"hidden_size": 16, "num_layers": 2},
        "training": {"batch_size": 64, "grad_clip": 0.0, "early_stopping": {"enabled": False}},
        "checkpoint": {"every_epochs": 0}, "step_event_interval_s": 1.0, "threads": 1}
# lr from frozen (1e-6) to exploding (3), weight decay up to over-regularised, dropout up to heavy.
SPACE = {"training.learning_rate": {"log_uniform": [1e-6, 3.0]}, "training.weight_decay": {"log_uniform": [1e-6, 0.3]},
         "model.dropout": {"uniform": [0.0, 0.6]}}
WAYS = {"none": {"median": {"enabled": False}, "health": []},
        "median": {"median": {"enabled": True}, "health": []},
        "median+health": {"median": {"enabled": True}},
        # The same rules, but only their critical findings prune (a warning would have to hold 1000 epochs).
        "median+critical": {"median": {"enabled": True}, "warning_epochs": 1000}}


def one_way(root: Path, way: str, seed: int, trials: int, epochs: int, jobs: int) -> dict:
    """Run one study; its trial-epochs, wall seconds and best val."""
    config = {**BASE, "training": {**BASE["training"], "epochs": epochs}, "log_dir": str(root / f"{way}-{seed}"),
              "sweep": {"params": SPACE, "sampler_seed": seed, "prune": WAYS[way]}}
    path = root / f"{way}-{seed}.yaml"
    path.write_text(yaml.safe_dump(config))
    plan = plan_sweep(SweepRequest(RunOptions(config=str(path)), trials, jobs, f"{way}-{seed}"))
    started = time.perf_counter()
    rows = Sweep(plan).run()
    seconds = time.perf_counter() - started
    complete = [row.best_val for row in rows if row.state == "complete" and row.best_val is not None]
    return {"epochs": sum(row.epochs for row in rows), "seconds": seconds, "best": min(complete, default=float("nan")),
            "pruned": sum(row.state == "pruned" for row in rows), "failed": sum(row.state == "failed" for row in rows)}


def main() -> None:
    """Print one line per way and seed, then the means and the epochs health pruning saves over the median alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ways", default=",".join(WAYS), help=f"which of {', '.join(WAYS)} (comma-separated)")
    args = parser.parse_args()
    ways = args.ways.split(",")
    if unknown := set(ways) - set(WAYS):
        parser.error(f"--ways: no way called {', '.join(sorted(unknown))}")
    results: dict[str, list[dict]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.seeds):
            for way in ways:
                result = one_way(Path(folder), way, seed, args.trials, args.epochs, args.jobs)
                results[way].append(result)
                print(f"seed {seed} {way:14s} trial-epochs {result['epochs']:5d}  wall {result['seconds']:6.1f} s  "
                      f"best val {result['best']:.4f}  pruned {result['pruned']:2d}  failed {result['failed']}", flush=True)
    print(f"\n{args.trials} trials x {args.epochs} epochs, {args.seeds} sampler seeds, {args.jobs} at a time")
    for way, runs in results.items():
        bests = [run["best"] for run in runs]
        spread = f"{min(bests):.4f}-{max(bests):.4f}"
        print(f"{way:14s} trial-epochs {statistics.mean(r['epochs'] for r in runs):7.1f}  "
              f"wall {statistics.mean(r['seconds'] for r in runs):6.1f} s  best val mean {statistics.mean(bests):.4f} "
              f"(seeds {spread})")
    for way in (way for way in ("median+health", "median+critical") if way in results and "median" in results):
        saved = 1 - statistics.mean(r["epochs"] for r in results[way]) / statistics.mean(
            r["epochs"] for r in results["median"])
        print(f"{way} trains {saved:.0%} fewer trial-epochs than MedianPruner alone")


if __name__ == "__main__":
    main()
