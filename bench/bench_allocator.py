"""Headless training with glibc's default allocation vs engine.training.allocator.keep_freed_memory, side by side.

Each run is a fresh process (the setting is process-wide); prints samples/s, kernel CPU time, page faults, peak RSS.
Usage: python3 bench/bench_allocator.py [epochs] [rounds]
"""

import json
import resource
import statistics
import subprocess
import sys
import tempfile

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
MODES = ("glibc default", "keep freed memory")


def child(keep: bool) -> dict:
    """One headless run; the allocator setting is applied before any tensor exists."""
    from engine.training.allocator import keep_freed_memory
    from engine.config import load_config
    from engine.data.dataset import prepare_data
    from engine.training.distributed import resolve_device
    from engine.training.trainer import Trainer

    applied = keep_freed_memory() if keep else False
    rates = []
    with tempfile.TemporaryDirectory() as logs:
        config = load_config(None, [f"training.epochs={EPOCHS}", f"log_dir={logs}", "training.early_stopping.enabled=false"])
        data = prepare_data(config, resolve_device(config.device))
        before = resource.getrusage(resource.RUSAGE_SELF)
        Trainer(config, data, sinks=[lambda e: rates.append(e.samples_per_s) if e.kind == "epoch" else None]).run()
        after = resource.getrusage(resource.RUSAGE_SELF)
    return {"applied": applied, "samples_per_s": sum(rates) / len(rates), "kernel_s": after.ru_stime - before.ru_stime,
            "page_faults": after.ru_minflt - before.ru_minflt, "peak_rss_mb": after.ru_maxrss / 1024}


def main():
    if len(sys.argv) > 3:
        print(json.dumps(child(sys.argv[3] == "keep")))
        return
    results = {mode: [] for mode in MODES}
    for _ in range(ROUNDS):  # interleaved, so drift hits both
        for mode, arg in zip(MODES, ("default", "keep")):
            run = subprocess.run([sys.executable, __file__, str(EPOCHS), "1", arg], capture_output=True, text=True, check=True)
            results[mode].append(json.loads(run.stdout))
    for mode, runs in results.items():
        median = {k: statistics.median(r[k] for r in runs) for k in ("samples_per_s", "kernel_s", "page_faults", "peak_rss_mb")}
        rounds = ", ".join(f"{r['samples_per_s']:,.0f}" for r in runs)
        print(f"{mode:17}: {median['samples_per_s']:,.0f} samples/s, kernel {median['kernel_s']:.2f} s, "
              f"{median['page_faults']:,.0f} page faults, peak RSS {median['peak_rss_mb']:,.0f} MB "
              f"(rounds: {rounds}; applied={runs[0]['applied']})")
    ratios = [k["samples_per_s"] / d["samples_per_s"] for k, d in zip(results[MODES[1]], results[MODES[0]])]
    print(f"keep / default per round: {', '.join(f'{r:.3f}' for r in ratios)} -> median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
