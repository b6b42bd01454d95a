"""Headless training alone vs with an attached dashboard (another process on its socket), side by side.

Each round trains the bundled default in a fresh headless process; in the "attached" rounds a dashboard attaches
over the control socket (Textual's headless driver, so it renders as it would in a terminal) and stays until the
run ends. Samples/s is the mean over epochs after the first, read from the run's own log. In each attached round
the bench also presses `space` twice once the second epoch is logged, and reports how long after the engine's
step boundary (the Paused event's timestamp) the header showed PAUSED, and how long after the key press, and the
attached dashboard's own CPU time as a share of one core over its stay. Rounds alternate which side runs first.
Usage: python3 bench/bench_attach.py [epochs] [rounds]
"""

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

EPOCHS = max(3, int(sys.argv[1])) if len(sys.argv) > 1 else 4
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def start_training(logs: str) -> tuple[subprocess.Popen, Path]:
    """A headless run in its own process; returns it and its run directory once the log exists."""
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "train", "--epochs", str(EPOCHS), "--set",
                                f"log_dir={logs}", "--set", "training.early_stopping.enabled=false"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not list(Path(logs).glob("*/control.sock")):
        if process.poll() is not None:
            raise SystemExit("training did not start")
        time.sleep(0.05)
    return process, next(Path(logs).glob("*/control.sock")).parent


def epochs_logged(run_dir: Path) -> list[dict]:
    """The run's epoch events, from its log."""
    rows = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [r for r in rows if r["type"] == "epoch"]


def steady(epochs: list[dict]) -> float:
    """Mean samples/s of the epochs after the first."""
    rates = [r["samples_per_s"] for r in epochs[1:]]
    return sum(rates) / len(rates)


async def attach_and_press(logs: str) -> list[float]:
    """Attach, press space twice after epoch 2, stay to the end; returns the two latencies of the first press."""
    from tui.launch import attach_app

    app = attach_app(None, logs)
    latencies = []
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        while len(app.dashboard.history.epochs) < 2:
            await asyncio.sleep(0.25)  # the bench polls seldom: its own wake-ups would be charged to the dashboard
        pressed = time.time()
        await pilot.press("space")
        while "PAUSED" not in str(app.query_one("#header").render()):
            await asyncio.sleep(0.005)
        shown = time.time()
        boundary = next(e.time for e in reversed(app.dashboard.history.events) if e.kind == "paused")
        latencies = [shown - boundary, shown - pressed]
        await pilot.press("space")
        while app.dashboard.history.state != "ended":
            await asyncio.sleep(0.5)
    return latencies


def stream_only(logs: str) -> None:
    """The socket's cost without a screen: a bare client that takes every event until the run ends."""
    from engine.control.client import ControlClient

    client = ControlClient(next(Path(logs).glob("*/control.sock")))
    ended = threading.Event()
    client.start(lambda events: None, on_close=lambda why: ended.set())
    ended.wait()


def child(mode: str) -> dict:
    """One round of one mode, in this (fresh) process."""
    with tempfile.TemporaryDirectory() as logs:
        process, run_dir = start_training(logs)
        started, used = time.monotonic(), cpu_seconds()
        latencies = asyncio.run(attach_and_press(logs)) if mode == "attached" else []
        if mode == "stream":
            stream_only(logs)
        share = (cpu_seconds() - used) / (time.monotonic() - started)
        process.wait()
        epochs = epochs_logged(run_dir)
        return {"rate": steady(epochs), "latencies": latencies, "ui_cpu": share,
                "threads": [r["threads"] for r in epochs], "rates": [round(r["samples_per_s"]) for r in epochs]}


def cpu_seconds() -> float:
    """This process's user and system CPU time so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    if len(sys.argv) > 3:
        print(json.dumps(child(sys.argv[3])))
        return
    results = {"headless": [], "attached": []}
    for index in range(ROUNDS):  # interleaved, the order swapped every round, so the machine's drift hits both alike
        for mode in (("headless", "attached") if index % 2 == 0 else ("attached", "headless")):
            out = subprocess.run([sys.executable, __file__, str(EPOCHS), "1", mode], capture_output=True, text=True,
                                 check=True).stdout
            results[mode].append(json.loads(out))
    for mode, rounds in results.items():
        rates = [r["rate"] for r in rounds]
        print(f"{mode:9}: median {statistics.median(rates):,.0f} samples/s "
              f"(rounds: {', '.join(f'{rate:,.0f}' for rate in rates)})")
    ratios = [a["rate"] / h["rate"] for a, h in zip(results["attached"], results["headless"])]
    print(f"attached / headless per round: {', '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}, "
          f"mean {statistics.mean(ratios):.3f}")
    medians = statistics.median(r["rate"] for r in results["attached"]) / statistics.median(
        r["rate"] for r in results["headless"])
    print(f"median attached / median headless: {medians:.3f}")
    for mode, rounds in results.items():
        print(f"{mode:9}: torch threads per epoch: {' | '.join(' '.join(map(str, r['threads'])) for r in rounds)}")
    shares = ", ".join(f"{r['ui_cpu']:.1%}" for r in results["attached"])
    print(f"the attached dashboard's CPU: {shares} of one core")
    after_boundary = [r["latencies"][0] for r in results["attached"]]
    after_press = [r["latencies"][1] for r in results["attached"]]
    print(f"PAUSED on screen after the step boundary: {', '.join(f'{s * 1000:.0f}' for s in after_boundary)} ms; "
          f"after the key press: {', '.join(f'{s * 1000:.0f}' for s in after_press)} ms")


if __name__ == "__main__":
    main()
