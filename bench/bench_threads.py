"""Throughput quiet and beside one busy neighbour, with torch's default thread count and with `threads: auto`.

Each run is a fresh `stockpred-tui train` process on the bundled default (early stopping off); its figure is the
median samples/s of the epochs after the first. The neighbour is one process spinning a Python loop (one core).
Rounds interleave the cases so the machine's drift hits all of them. Ratios are against the quiet default.
Usage: python3 bench/bench_threads.py [epochs] [rounds]
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

EPOCHS = max(2, int(sys.argv[1])) if len(sys.argv) > 1 else 3
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
CORES = len(os.sched_getaffinity(0))
# torch's own default: one thread per core of the machine (what the trainer did before `threads` existed).
# One thread quiet is the ceiling beside a neighbour that holds one of two cores.
CASES = [("quiet", "default", str(CORES)), ("quiet", "auto", "auto"), ("quiet", "1", "1"),
         ("neighbour", "default", str(CORES)), ("neighbour", "auto", "auto")]
RATE = re.compile(r"\| ([\d,]+) samples/s \|")
THREADS = re.compile(r"\((\d+) threads?\)")


def train(threads: str, logs: str) -> tuple[float, int]:
    """Median samples/s after the first epoch, and the thread count the run chose."""
    out = subprocess.run([sys.executable, "-m", "tui.cli", "train", "--epochs", str(EPOCHS), "--threads", threads,
                          "--set", f"log_dir={logs}", "--set", "training.early_stopping.enabled=false",
                          "--set", "control_socket=false"], capture_output=True, text=True, check=True).stdout
    rates = [float(m.group(1).replace(",", "")) for m in RATE.finditer(out)]
    return statistics.median(rates[1:]), int(THREADS.search(out).group(1))


def main() -> None:
    """Run the rounds and print one line per case with its ratio to the quiet default."""
    figures: dict[tuple[str, str], list[float]] = {case[:2]: [] for case in CASES}
    chosen: dict[tuple[str, str], set[int]] = {case[:2]: set() for case in CASES}
    with tempfile.TemporaryDirectory() as logs:
        for _ in range(ROUNDS):
            for load, name, threads in CASES:
                spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "neighbour" else None
                try:
                    rate, used = train(threads, logs)
                finally:
                    if spinner is not None:
                        spinner.kill()
                        spinner.wait()
                figures[(load, name)].append(rate)
                chosen[(load, name)].add(used)
    quiet = statistics.median(figures[("quiet", "default")])
    print(f"{CORES} cores in the affinity mask, {EPOCHS} epochs per run, {ROUNDS} rounds")
    for (load, name), rates in figures.items():
        rate = statistics.median(rates)
        print(f"{load:9} threads {name:7} ({'/'.join(map(str, sorted(chosen[(load, name)])))} used): "
              f"{rate:7,.0f} samples/s  {rate / quiet:.2f}x quiet default")


if __name__ == "__main__":
    main()
