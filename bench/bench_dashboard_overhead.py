"""Headless vs the live dashboard (Textual headless driver), same config, side by side; prints the ratio.

Each run is a fresh process, as a user starts one: torch work done earlier in the same process (its OpenMP
thread pools) would otherwise change the speed of the run measured next. The dashboard runs as `app.run()` does
for a user, with no test pilot polling it. Samples/s is the mean over epochs after the first, in both modes: the
first holds torch's warm-up and the app's start-up (about 0.4 s of UI-thread CPU).
Usage: python3 bench/bench_dashboard_overhead.py [epochs] [rounds]
"""

import json
import statistics
import subprocess
import sys
import tempfile

EPOCHS = max(2, int(sys.argv[1])) if len(sys.argv) > 1 else 4
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
MODES = ("headless", "dashboard")


def options(logs):
    from engine.commands.trainer_setup import RunOptions

    return RunOptions(epochs=EPOCHS, overrides=[f"log_dir={logs}", "training.early_stopping.enabled=false"])


def steady(rates):
    """Mean samples/s of the epochs after the first."""
    return sum(rates[1:]) / len(rates[1:])


def headless(logs):
    from engine.commands.trainer_setup import build_trainer

    rates = []
    trainer = build_trainer(options(logs), sinks=[lambda e: rates.append(e.samples_per_s) if e.kind == "epoch" else None])
    trainer.run()
    return steady(rates)


def dashboard(logs):
    from tui.launch import live_app

    app = live_app(options(logs))
    app.dashboard.mode.quitting = True  # leave when the run ends, as after answering the quit dialog
    app.run(headless=True, size=(120, 40))
    return steady([r.samples_per_s for r in app.dashboard.history.rows()])


def measure(mode):
    """Mean training samples/s of one run in a fresh interpreter."""
    child = subprocess.run([sys.executable, __file__, str(EPOCHS), "1", mode], capture_output=True, text=True, check=True)
    return json.loads(child.stdout)


def main():
    if len(sys.argv) > 3:  # child: one run, result on stdout
        with tempfile.TemporaryDirectory() as logs:
            rate = headless(logs) if sys.argv[3] == "headless" else dashboard(logs)
        print(json.dumps(rate))
        return
    results = {mode: [] for mode in MODES}
    for _ in range(ROUNDS):  # interleaved, so drift hits both
        for mode in MODES:
            results[mode].append(measure(mode))
    median = {k: statistics.median(v) for k, v in results.items()}
    for key, values in results.items():
        print(f"{key:9}: median {median[key]:,.0f} samples/s (rounds: {', '.join(f'{v:,.0f}' for v in values)})")
    # Rounds are paired: the ratio within a round cancels the machine's slow drift; its median is the figure.
    ratios = [d / h for d, h in zip(results["dashboard"], results["headless"])]
    print(f"dashboard / headless per round: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(f"dashboard / headless = {statistics.median(ratios):.3f} (median of rounds; ratio of medians "
          f"{median['dashboard'] / median['headless']:.3f})")


if __name__ == "__main__":
    main()
