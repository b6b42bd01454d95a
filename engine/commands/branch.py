"""`stockpred-tui branch RUN`: fork a run at a checkpoint into a new run (its own directory and process) whose edited
knobs are in force from its first step; its run_start names the parent, and the parent goes on (or pauses)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import Override, load_config
from engine.config_file import read_config_file
from engine.control.client import ControlClient
from engine.errors import InputError
from engine.events import CheckpointSaved, Event
from engine.store.log_reader import read_jsonl
from engine.store.log_writer import CONFIG_FILE, new_run_dir
from engine.commands.runs import is_live, newest_checkpoint
from engine.commands.trainer_setup import RunOptions, resolve_config

SAVE_TIMEOUT_S = 120.0  # the parent saves at its next step boundary; a slow evaluation can hold that back
# What a branch may not change: it goes on from its parent's weights, data and random state.
FIXED_ON_A_BRANCH = ("data", "model.hidden_size", "model.num_layers", "seed", "log_dir", "sweep", "trial")


@dataclass
class BranchRequest:
    """What `stockpred-tui branch` was asked."""

    run: str
    log_dir: str
    start: str | None = None  # now, last, best or an epoch number; None: now for a live parent, else last
    overrides: list[str] = field(default_factory=list)
    pause_parent: bool = False
    detach: bool = False


def parent_dir(run: str, log_dir: str | Path) -> Path:
    """The parent's run directory: RUN as a directory, else a run id under log_dir."""
    path = Path(run)
    candidate = path if path.is_dir() else Path(log_dir) / run
    if not (candidate / "events.jsonl").is_file():
        raise InputError(run, f"no such run (neither a run directory nor a run id in {log_dir})")
    return candidate


def check_overrides(run_dir: Path, overrides: list[str]) -> list[Override]:
    """The --set values over the parent's config, validated before the parent is asked for anything."""
    labelled = [Override.parse(text) for text in overrides]
    for override in labelled:
        key = ".".join(override.path)
        if any(key == fixed or key.startswith(fixed + ".") for fixed in FIXED_ON_A_BRANCH):
            raise InputError(override.label, f"{key}: a branch goes on from its parent's weights, data and random "
                                             f"state; this applies to new runs only")
    load_config(None, labelled, base=read_config_file(run_dir / CONFIG_FILE), base_label=str(run_dir / CONFIG_FILE))
    return labelled


def saved_checkpoint(run_dir: Path, start: str) -> Path:
    """The parent's checkpoint for --from last, best or EPOCH (an InputError naming --from when there is none)."""
    if start == "last":
        newest = newest_checkpoint(run_dir)
        if newest is None:
            raise InputError("--from", f"last: {run_dir.name} has no checkpoint yet")
        return newest
    if start == "best":
        best = run_dir / "checkpoints" / "best.pt"
        if not best.is_file():
            raise InputError("--from", f"best: {run_dir.name} has no best.pt yet")
        return best
    if not start.isdigit():
        raise InputError("--from", f"expected now, last, best or an epoch number; got {start[:20]!r}")
    found = checkpoints_by_epoch(run_dir)
    if int(start) not in found:
        have = ", ".join(str(epoch) for epoch in sorted(found)) or "none"
        raise InputError("--from", f"{start}: no checkpoint of {run_dir.name} holds that epoch (epochs saved: {have})")
    return found[int(start)]


def checkpoints_by_epoch(run_dir: Path) -> dict[int, Path]:
    """The epoch each checkpoint on disk holds now, where it was saved at an epoch's end: the log's last save to each
    file (a save in mid-epoch does not count), and the numbered copies."""
    history, _ = read_jsonl(run_dir)
    holds: dict[Path, int] = {}
    for event in history.events:
        if isinstance(event, CheckpointSaved) and event.step == (history.step_at(event.epoch) or 0):
            holds[run_dir / "checkpoints" / Path(event.path).name] = event.epoch  # logged relative to its cwd
    for copy in (run_dir / "checkpoints").glob("epoch[0-9][0-9][0-9][0-9].pt"):
        holds[copy] = int(copy.stem[5:])
    return {epoch: path for path, epoch in sorted(holds.items(), key=lambda item: item[1]) if path.is_file()}


class SaveWaiter:
    """Asks a live run over its socket to save now, and waits for the checkpoint event that answers it."""

    def __init__(self, run_dir: Path) -> None:
        self.client = ControlClient(run_dir, client_name="branch", backlog=False)
        self.marker = f"pid {os.getpid()}"
        self.done = threading.Event()
        self.path: str | None = None
        self.problem = ""

    def _events(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, CheckpointSaved) and event.reason == "manual" and self.marker in event.source:
                self.path = event.path
                self.done.set()

    def _reply(self, reply: dict) -> None:
        if not reply.get("ok", True) or reply.get("type") == "error":
            self.problem = str(reply.get("error") or "refused")
            self.done.set()

    def _closed(self, reason: str) -> None:
        self.problem = self.problem or reason
        self.done.set()

    def save_now(self, pause: bool) -> Path:
        """The path of the checkpoint the run wrote for us; the run pauses after it when `pause`."""
        path = self.client.path
        self.client.start(self._events, self._reply, self._closed)
        try:
            self.client.save(source="branch")
            if not self.done.wait(SAVE_TIMEOUT_S):
                raise InputError(str(path), f"the run did not save within {SAVE_TIMEOUT_S:g} s")
            if self.path is None:
                raise InputError(str(path), f"the run did not save: {self.problem}")
            if pause:
                self.client.pause(source="branch")
        finally:
            self.client.close()
        return self.client.path.parent / "checkpoints" / Path(self.path).name  # the event's path is relative to its cwd


def fork_point(request: BranchRequest, run_dir: Path) -> Path:
    """The checkpoint the branch starts from: saved now by a live parent, or one on disk."""
    live = is_live(run_dir)
    start = request.start or ("now" if live else "last")
    if start == "now" and not live:
        raise InputError("--from", f"now: {run_dir.name} is not live; branch from last, best or an epoch number")
    checkpoint = SaveWaiter(run_dir).save_now(request.pause_parent) if start == "now" else saved_checkpoint(run_dir, start)
    if request.pause_parent and start != "now":
        if not live:
            raise InputError("--pause-parent", f"{run_dir.name} is not live: there is nothing to pause")
        client = ControlClient(run_dir, client_name="branch", backlog=False)
        try:
            client.pause(source="branch")
        finally:
            client.close()
    return checkpoint


def branch_options(request: BranchRequest, run_dir: Path, checkpoint: Path) -> RunOptions:
    """The run options of the branch: resume from the fork point into a new directory, with the edits as --set."""
    return RunOptions(resume=str(checkpoint), overrides=list(request.overrides), parent=run_dir.name)


def start_branch(request: BranchRequest) -> int:
    """Fork RUN: validate, get the checkpoint, start the branch (in the background with --detach)."""
    run_dir = parent_dir(request.run, request.log_dir)
    if request.start is not None and request.start not in ("now", "last", "best") and not request.start.isdigit():
        raise InputError("--from", f"expected now, last, best or an epoch number; got {request.start[:20]!r}")
    check_overrides(run_dir, request.overrides)
    checkpoint = fork_point(request, run_dir)
    options = branch_options(request, run_dir, checkpoint)
    resolve_config(options)  # the checkpoint and the edits together: one line, before a directory is made
    options.run_dir = str(new_run_dir(run_dir.parent))
    print(f"Branching {run_dir.name} from {checkpoint} into {Path(options.run_dir).name}", flush=True)
    if request.detach:
        from engine.commands.detach import start_detached

        return start_detached(options)
    from engine.commands.headless import train_headless

    return train_headless(options)
