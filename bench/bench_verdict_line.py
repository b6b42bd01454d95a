"""What the headless verdict line costs the training thread: `VerdictLine.after` (fold the epoch, run every health
rule, compare with the last verdict) at each epoch of a 500-epoch run, whose last epochs are the dearest.

The run is a noisy descent that starts to overfit at epoch 300, on the engine's own event types; the figures are
per epoch, against the 2.39 s epoch of the bundled default (bench_checkpoint_cost.py).
Usage: python3 bench/bench_verdict_line.py [epochs] [rounds]
"""

import math
import statistics
import sys
import time

from engine.commands.verdict_line import VerdictLine
from engine.config import Config
from engine.events import EpochEvent, RunStarted

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 500
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
BASELINES = {split: {"reg": 1.0, "clf": 0.6931, "up_rate": 0.5, "majority_acc": 0.5, "windows": 8000}
             for split in ("train", "val")}
GROUPS = ("lstm.l0", "lstm.l1", "reg_head", "clf_head")
DEFAULT_EPOCH_S = 2.39


def epoch(n: int) -> EpochEvent:
    """Epoch n of the run: train keeps falling, val falls until 300 and then rises slowly, with some noise."""
    train = 1.30 - 0.0008 * n
    val = 1.305 - 0.0008 * min(n, 300) + 0.002 * max(0, n - 300) + 0.002 * math.sin(n * 2.1)
    return EpochEvent(n, EPOCHS, n * 32, train, val, train * 0.7, train * 0.6, val * 0.7, val * 0.6, 0.53, 0.001,
                      0.0001, 0.3, 0.5, 0.5, {g: 1e-3 for g in GROUPS}, {g: 0.01 for g in GROUPS}, 20.0, 0.3, 0.05,
                      2500.0, 3.2)


def one_round() -> tuple[list[float], list[str]]:
    """Seconds `after` took at each epoch, and the lines it said."""
    verdict = VerdictLine()
    verdict.after(RunStarted("bench", Config().model_dump(), {"source": "synthetic"}, BASELINES, "cpu", 210_000))
    seconds, said = [], []
    for n in range(1, EPOCHS + 1):
        event = epoch(n)
        started = time.perf_counter()
        line = verdict.after(event)
        seconds.append(time.perf_counter() - started)
        said += [line] if line else []
    return seconds, said


def main() -> None:
    rounds = [one_round() for _ in range(ROUNDS)]
    last = [statistics.median(seconds[-50:]) * 1000 for seconds, _ in rounds]
    first = [statistics.median(seconds[:50]) * 1000 for seconds, _ in rounds]
    total = [sum(seconds) for seconds, _ in rounds]
    print(f"{EPOCHS} epochs, {ROUNDS} rounds; verdict lines said: {len(rounds[0][1])}")
    for line in rounds[0][1]:
        print(f"  {line[:110]}")
    print(f"per epoch, median of epochs 1-50:   {statistics.median(first):.2f} ms")
    print(f"per epoch, median of the last 50:   {statistics.median(last):.2f} ms "
          f"({statistics.median(last) / 1000 / DEFAULT_EPOCH_S:.3%} of a {DEFAULT_EPOCH_S} s epoch)")
    print(f"whole run: {statistics.median(total):.2f} s over {EPOCHS} epochs")


if __name__ == "__main__":
    main()
