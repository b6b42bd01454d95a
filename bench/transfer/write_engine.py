"""Our engine as a person runs it: `python3 -m tui.cli train --set ...`, steered over its control socket at given
epochs, killed with SIGKILL and continued with `--resume` of the newest checkpoint (the same log goes on)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from bench.transfer.spec import RunSpec
from engine.commands.runs import newest_checkpoint
from engine.control.client import ControlClient
from engine.data.prices import BUNDLED_PRICES
from engine.errors import InputError
from engine.events import CheckpointSaved, EpochEvent

ROOT = Path(__file__).resolve().parents[2]
CLF_WEIGHT = 0.5
RUN_TIMEOUT_S = 600


def _prices_csv(spec: RunSpec, folder: Path) -> str:
    """The bundled prices cut to the drawn tickers and dates (tickers with too few rows left out); with the leak,
    Open is replaced by the next day's close."""
    frame = pd.read_csv(BUNDLED_PRICES)
    frame = frame[frame["Ticker"].isin(spec.tickers) & (frame["Date"] >= spec.start) & (frame["Date"] < spec.end)]
    counts = frame.groupby("Ticker").size()
    spec.tickers = sorted(counts[counts >= 400].index) or [counts.idxmax()]
    frame = frame[frame["Ticker"].isin(spec.tickers)]
    if spec.plan.get("leak"):
        parts = []
        for _, group in frame.groupby("Ticker", sort=True):
            group = group.sort_values("Date").copy()
            group["Open"] = group["Close"].shift(-1)
            group["High"], group["Low"] = group[["High", "Open"]].max(axis=1), group[["Low", "Open"]].min(axis=1)
            parts.append(group.iloc[:-1])
        frame = pd.concat(parts)
    name = f"prices_{'_'.join(spec.tickers)}_{spec.start[:7]}_{spec.end[:7]}{'_leak' if spec.plan.get('leak') else ''}.csv"
    frame.to_csv(folder / name, index=False)
    return name


def overrides(spec: RunSpec, source: str) -> list[str]:
    """The `--set` keys of this run."""
    sets = [f"data.source={source}", f"data.window={spec.window}", f"data.volatility_window={min(spec.window, 10)}",
            f"data.scale_target={'true' if spec.target != 'raw' else 'false'}", f"model.hidden_size={spec.hidden}",
            f"model.num_layers={spec.layers}", f"model.dropout={spec.dropout}", f"training.learning_rate={spec.lr}",
            f"training.weight_decay={spec.weight_decay}", f"training.optimizer={spec.optimizer}", f"training.batch_size={spec.batch}",
            f"training.epochs={spec.epochs}", f"training.grad_clip={spec.grad_clip}", "training.early_stopping.enabled=false",
            "step_event_interval_s=1", f"checkpoint.every_epochs={1 if 'kill_at' in spec.plan else 0}", f"seed={spec.seed}"]
    if source == "synthetic":
        sets += [f"data.synthetic.signal={spec.signal}", f"data.synthetic.days={spec.days}", f"data.synthetic.tickers={spec.syn_tickers}"]
    else:
        sets.append(f"data.tickers=[{', '.join(spec.tickers)}]")
    if spec.schedule == "warmup":
        sets += ["training.warmup.enabled=true", f"training.warmup.epochs={spec.plan['warmup_epochs']}"]
    return sets


class Steerer:
    """Watches a run's events over its socket; sends the planned controls after their epochs and kills on cue."""

    def __init__(self, spec: RunSpec, done: set) -> None:
        self.spec, self.done = spec, done
        self.process: subprocess.Popen | None = None
        self.killed = threading.Event()

    def attach(self, run_dir: Path, process: subprocess.Popen) -> ControlClient | None:
        """Connect once the socket is there (None if the run ended first)."""
        self.process = process
        while process.poll() is None:
            try:
                client = ControlClient(run_dir, client_name="suite", timeout=30)
            except InputError:
                time.sleep(0.05)
                continue
            client.start(lambda events: self._on_events(client, events))
            return client
        return None

    def _on_events(self, client: ControlClient, events) -> None:
        for event in events:
            if isinstance(event, EpochEvent):
                for index, action in enumerate(self.spec.plan.get("steer", {}).get(str(event.epoch), [])):
                    if (event.epoch, index) not in self.done:
                        self.done.add((event.epoch, index))
                        getattr(client, action[0])(*action[1:])
            # The backlog of a resumed run replays the first process's events: "kill" in `done` keeps it to one kill.
            if (isinstance(event, CheckpointSaved) and event.reason == "periodic" and event.epoch == self.spec.plan.get("kill_at")
                    and "kill" not in self.done):
                self.done.add("kill")
                self.killed.set()
                os.kill(self.process.pid, signal.SIGKILL)


def _run_dir(logs: Path, process: subprocess.Popen) -> Path | None:
    while process.poll() is None or logs.exists():
        found = [p for p in logs.glob("*") if (p / "events.jsonl").exists()] if logs.exists() else []
        if found:
            return found[0]
        if process.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def _train(args: list[str], folder: Path, steerer: Steerer, run_dir: Path | None) -> Path:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(folder / "console.txt", "ab") as console:
        process = subprocess.Popen([sys.executable, "-m", "tui.cli", "train", "--threads", "1", *args], cwd=folder, env=env,
                                   stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_dir = run_dir or _run_dir(folder / "logs", process)
    client = steerer.attach(run_dir, process) if run_dir else None
    try:
        process.wait(RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
        if client is not None:
            client.close()
    if run_dir is None:
        raise RuntimeError(f"the engine run made no log: {(folder / 'console.txt').read_text()[-400:]}")
    return run_dir


def engine_run(spec: RunSpec, out: Path) -> tuple[list[dict], dict]:
    """Train (and maybe kill and resume), copy the log to `out`; the epoch table and the constant levels."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = "synthetic" if spec.source == "synthetic" else _prices_csv(spec, folder)
        done: set = set()
        steerer = Steerer(spec, done)
        run_dir = _train([f"--set={o}" for o in overrides(spec, source)], folder, steerer, None)
        if steerer.killed.is_set():
            checkpoint = newest_checkpoint(run_dir)
            _train(["--resume", str(checkpoint)], folder, Steerer(spec, done), run_dir)
        text = thinned((run_dir / "events.jsonl").read_text())
    out.write_text(text)
    return epoch_table(text)


def thinned(text: str) -> str:
    """The log without the per-epoch automatic checkpoint lines (best.pt, last.pt): no rule reads them, and they are
    a sixth of a log's size."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not (line.startswith('{"type": "checkpoint"') and ('"reason": "best"' in line or '"reason": "periodic"' in line)))


def epoch_table(text: str) -> tuple[list[dict], dict]:
    """Epoch rows (a resumed epoch's later row wins) and the val/train constant levels from the log's run start."""
    rows, levels = {}, {}
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the line a SIGKILL cut short
        if event.get("type") == "run_start" and not levels:
            base = event.get("baselines", {})
            levels = {"constant_val": base["val"]["reg"] + CLF_WEIGHT * base["val"]["clf"],
                      "constant_train": base["train"]["reg"] + CLF_WEIGHT * base["train"]["clf"],
                      "majority_acc": base["val"].get("majority_acc")}
        elif event.get("type") == "epoch":
            rows[event["epoch"]] = {k: event.get(k) for k in ("epoch", "train_loss", "val_loss", "val_acc", "lr", "dropout")}
    return [rows[e] for e in sorted(rows)], levels
