"""An attached dashboard's cost measured inside one run: a dashboard attaches and leaves in turns.

One headless training of the bundled default; phases of EPOCHS epochs alternate "alone" and "attached" (a dashboard
on the control socket, Textual's headless driver, in this process). Each epoch's samples/s comes from the run's own
log. The first epoch of every phase is left out (a client came or went during it), and each attached phase is
compared with the mean of the alone phases on either side of it: the same process, data, threads and memory, so
the drift between processes that bench_attach.py's rounds see does not enter the ratio.
With `stream` as a third argument the attached phases hold a bare client instead (every event taken, nothing
drawn): what the socket costs the training, apart from what a screen costs.
Usage: python3 bench/bench_attach_phases.py [phases] [epochs-per-phase] [dashboard|stream]
"""

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_attach import cpu_seconds, epochs_logged  # noqa: E402

PHASES = int(sys.argv[1]) if len(sys.argv) > 1 else 9
EPOCHS = max(2, int(sys.argv[2])) if len(sys.argv) > 2 else 3
CLIENT = sys.argv[3] if len(sys.argv) > 3 else "dashboard"
POLL_S = 0.5  # both kinds of phase poll alike, so the bench's own wake-ups cancel out


def start(logs: str):
    """The training, with enough epochs for every phase and a first one to warm up."""
    import bench.bench_attach as single

    single.EPOCHS = PHASES * EPOCHS + 2
    return single.start_training(logs)


async def alone(run_dir: Path, until: int) -> None:
    """Nobody attached until the log holds `until` epochs."""
    while len(epochs_logged(run_dir)) < until:
        await asyncio.sleep(POLL_S)


async def attached(logs: str, until: int) -> None:
    """A dashboard attached until its history holds `until` epochs; then it quits (detaches)."""
    from tui.launch import attach_app

    app = attach_app(None, logs)
    async with app.run_test(headless=True, size=(120, 40)):
        while len(app.dashboard.history.epochs) < until:
            await asyncio.sleep(POLL_S)
        app.exit()


async def streamed(logs: str, run_dir: Path, until: int) -> None:
    """A bare client takes every event until the log holds `until` epochs; then it detaches."""
    from engine.control.client import ControlClient

    client = ControlClient(next(Path(logs).glob("*/control.sock")))
    client.start(lambda events: None)
    await alone(run_dir, until)
    client.close()


async def run_phases(logs: str, run_dir: Path) -> list[dict]:
    """Every phase: its kind, the epochs it counts, and this process's CPU share over it."""
    phases = []
    import tui.launch  # noqa: F401  (imported while the first epoch warms up: a dashboard's start is not its cost)

    await alone(run_dir, 1)  # the first epoch warms up and is never counted
    for index in range(PHASES):
        kind = "attached" if index % 2 else "alone"
        first = len(epochs_logged(run_dir)) + 1
        until = first + EPOCHS - 1
        used, began = cpu_seconds(), time.monotonic()
        if kind == "alone":
            await alone(run_dir, until)
        elif CLIENT == "stream":
            await streamed(logs, run_dir, until)
        else:
            await attached(logs, until)
        share = (cpu_seconds() - used) / (time.monotonic() - began)
        phases.append({"kind": kind, "epochs": list(range(first + 1, until + 1)), "cpu": share})
    return phases


def main() -> None:
    with tempfile.TemporaryDirectory() as logs:
        process, run_dir = start(logs)
        phases = asyncio.run(run_phases(logs, run_dir))
        process.terminate()
        process.wait()
        rates = {e["epoch"]: e["samples_per_s"] for e in epochs_logged(run_dir)}
    for phase in phases:
        phase["rate"] = statistics.mean(rates[n] for n in phase["epochs"])
    ratios = []
    for i, phase in enumerate(phases):
        if phase["kind"] == "attached":
            neighbours = [p["rate"] for p in phases[max(0, i - 1):i + 2] if p["kind"] == "alone"]
            ratios.append(phase["rate"] / statistics.mean(neighbours))
    print("phases: " + ", ".join(f"{p['kind']} {p['rate']:,.0f}" for p in phases) + " samples/s")
    print(f"attached / alone beside it, per attached phase: {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.3f}, mean {statistics.mean(ratios):.3f}")
    by_kind = {kind: [p["rate"] for p in phases if p["kind"] == kind] for kind in ("alone", "attached")}
    print(f"mean attached / mean alone: {statistics.mean(by_kind['attached']) / statistics.mean(by_kind['alone']):.3f}")
    cpu = {kind: statistics.mean(p["cpu"] for p in phases if p["kind"] == kind) for kind in ("alone", "attached")}
    print(f"this process's CPU: {cpu['attached']:.1%} of one core attached, {cpu['alone']:.1%} alone "
          "(the attached share includes each dashboard's start)")
    print(json.dumps({"client": CLIENT, "epochs_per_phase": EPOCHS, "phases": PHASES}))


if __name__ == "__main__":
    main()
