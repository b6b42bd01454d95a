"""Headless vs the live dashboard (Textual headless driver), same config, side by side; prints the ratio."""

import asyncio
import statistics
import sys
import tempfile

from engine.session import RunOptions, build_trainer
from tui.launch import live_app

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def options(logs):
    return RunOptions(epochs=EPOCHS, overrides=[f"log_dir={logs}", "training.early_stopping.enabled=false"])


def headless(logs):
    rates = []
    trainer = build_trainer(options(logs), sinks=[lambda e: rates.append(e.samples_per_s) if e.kind == "epoch" else None])
    trainer.run()
    return sum(rates) / len(rates)


async def dashboard(logs):
    app = live_app(options(logs))
    async with app.run_test(size=(120, 40)) as pilot:
        while app.history.state != "ended":
            await pilot.pause(0.2)
    rates = [r["samples_per_s"] for r in app.history.rows()]
    return sum(rates) / len(rates)


def main():
    with tempfile.TemporaryDirectory() as logs:
        results = {"headless": [], "dashboard": []}
        for _ in range(ROUNDS):  # interleaved, so drift hits both
            results["headless"].append(headless(logs))
            results["dashboard"].append(asyncio.run(dashboard(logs)))
    best = {k: statistics.median(v) for k, v in results.items()}
    for key, values in results.items():
        print(f"{key:9}: median {best[key]:,.0f} samples/s (rounds: {', '.join(f'{v:,.0f}' for v in values)})")
    print(f"dashboard / headless = {best['dashboard'] / best['headless']:.3f}")


if __name__ == "__main__":
    main()
