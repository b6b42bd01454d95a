"""Fixed event streams of a parent run and its branches, for the lineage tests of the browser and compare view."""

from __future__ import annotations

from pathlib import Path

from engine.config import load_config
from engine.events import HyperparamChanged, RunEnded, RunStarted
from tests.histories import BASELINES, epoch
from tests.test_compare import write_run
from tests.test_logs import write_log

PARENT = "20261124-090000-p"
FORK = 12


def write_branch(root: Path, run_id: str, parent: str, fork: int, epochs: int = 20, start_time: float = 1_764_000_000.0,
                 slope: float = 0.003, **edits: float) -> Path:
    """A branch of `parent` at epoch `fork`: its config holds the edits, its first step logs them as `--set` hparam
    events, and its epochs go on from fork + 1 (as a resumed checkpoint numbers them)."""
    config = load_config(None, [f"{k.replace('__', '.')}={v}" for k, v in edits.items()]).model_dump()
    training, model = config["training"], config["model"]
    checkpoint = f"{root / parent}/checkpoints/epoch{fork:04d}-step{fork * 32:07d}.pt"
    events = [RunStarted(run_id, config, {"source": "synthetic", "notices": []}, BASELINES, "cpu", 1000,
                         start_epoch=fork, resumed_from=checkpoint, time=start_time,
                         parent={"run_id": parent, "epoch": fork, "checkpoint": checkpoint})]
    defaults = load_config(None, []).model_dump()
    for key, value in edits.items():
        section, name = key.split("__")
        knob = {"learning_rate": "lr"}.get(name, name)
        events.append(HyperparamChanged(knob, defaults[section][name], float(value), fork, fork * 32, source="--set",
                                        time=start_time))
    events += [epoch(n, 1.30 - slope * n, 1.305 - slope * n, total=training["epochs"], lr=training["learning_rate"],
                     dropout=model["dropout"]) for n in range(fork + 1, epochs + 1)]
    events.append(RunEnded("completed", epochs, epochs * 32, 1.305 - slope * epochs, time=start_time + epochs))
    path = root / run_id
    path.mkdir(parents=True)
    write_log(path / "events.jsonl", events)
    return path


def write_family(root: Path, start_time: float = 1_764_000_000.0) -> list[Path]:
    """A root run of 20 epochs (lr 0.001), an unrelated run, and two branches of the root at epoch 12 (one with its
    own branch at 16), written in start order so that the branches sit apart from their parent by id."""
    return [write_run(root, PARENT, start_time=start_time, slope=0.003),
            write_run(root, "20261124-093000-q", start_time=start_time + 1800, slope=0.002, model__dropout=0.35),
            write_branch(root, "20261124-100000-b1", PARENT, FORK, start_time=start_time + 3600, slope=0.004,
                         training__learning_rate=0.0005),
            write_branch(root, "20261124-110000-b2", PARENT, FORK, start_time=start_time + 7200, slope=0.001,
                         model__dropout=0.1),
            write_branch(root, "20261124-120000-b3", "20261124-100000-b1", 16, start_time=start_time + 10800,
                         slope=0.005, training__clf_weight=1.0)]
