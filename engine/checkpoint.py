"""Atomic checkpoint files: write to a temporary file, fsync, rename; load with weights_only=True."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import torch

from engine.errors import InputError

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "model", "optimizer", "epoch", "step", "config", "scaler", "hparams", "rng")


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` so that `path` holds either the old file or the complete new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"format": FORMAT_VERSION, **state}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint safely, or raise a one-line InputError saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise InputError(str(path), f"not a readable checkpoint ({reason})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise InputError(str(path), "not a stockpred-tui checkpoint (missing or unknown format version)")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise InputError(str(path), f"checkpoint lacks {', '.join(missing)}")
    return state


def keep_numbered_copy(latest: Path, keep: int, epoch: int) -> None:
    """Hard-link `latest` as epochNNNN.pt (no second write) and delete numbered copies beyond the newest `keep`."""
    numbered = latest.with_name(f"epoch{epoch:04d}.pt")
    numbered.unlink(missing_ok=True)
    os.link(latest, numbered)
    for old in sorted(latest.parent.glob("epoch[0-9][0-9][0-9][0-9].pt"))[:-keep]:
        old.unlink(missing_ok=True)
