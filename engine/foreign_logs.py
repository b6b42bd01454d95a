"""Keras CSVLogger and Lightning CSVLogger files turned into the same History as our own runs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from engine.errors import InputError
from engine.events import EpochEvent, RunStarted
from engine.history import History

# Our epoch field -> candidate column names, first match wins.
KERAS_COLUMNS = {"train_loss": ["loss"], "val_loss": ["val_loss"], "val_acc": ["val_accuracy", "val_acc"],
                 "lr": ["lr", "learning_rate"]}
LIGHTNING_COLUMNS = {"train_loss": ["train_loss_epoch", "train_loss", "loss"], "val_loss": ["val_loss_epoch", "val_loss"],
                     "val_acc": ["val_acc", "val_accuracy"], "lr": ["lr", "learning_rate", "lr-Adam", "lr-AdamW"]}
EPOCH_FIELDS = [f.name for f in dataclasses.fields(EpochEvent) if f.name != "time"]


def _number(value) -> float | None:
    """A float, or None for a missing cell (never a guessed value)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _epoch_event(epoch: int, epochs: int, values: dict) -> EpochEvent:
    fields = {name: None for name in EPOCH_FIELDS}
    fields.update(epoch=epoch, epochs=epochs, step=0, update_ratio={}, wd_grad_ratio={}, **values)
    return EpochEvent(**fields, time=0.0)


def read_foreign_csv(path: Path) -> tuple[History, list[str]]:
    """Detect Keras (epoch, loss, val_loss …) or Lightning (epoch, step, sparse rows) and load the epoch table."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputError(str(path), f"not a readable CSV ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    columns = set(frame.columns)
    if "epoch" not in columns:
        raise InputError(str(path), "not a training log: no 'epoch' column (expected Keras CSVLogger or Lightning metrics.csv)")
    if "step" in columns:
        kind, mapping = "lightning", LIGHTNING_COLUMNS
        frame = frame.groupby("epoch", sort=True).last()  # sparse rows: last logged value per column and epoch
        offset = 1
    else:
        kind, mapping = "keras", KERAS_COLUMNS
        frame = frame.set_index("epoch").sort_index()
        offset = 1  # both loggers count epochs from 0
    chosen = {field: next((c for c in names if c in frame.columns), None) for field, names in mapping.items()}
    if chosen["train_loss"] is None and chosen["val_loss"] is None:
        raise InputError(str(path), f"{kind} log without a loss column (has {', '.join(sorted(map(str, columns)))})")
    history = History(source_format=kind)
    history.apply(RunStarted(path.stem, {}, {"source": str(path), "notices": []}, {}, kind, 0, time=0.0))
    epochs = len(frame)
    for epoch, row in frame.iterrows():
        values = {field: _number(row[column]) for field, column in chosen.items() if column is not None}
        history.apply(_epoch_event(int(epoch) + offset, epochs, values))
    missing = [f for f, c in chosen.items() if c is None]
    notices = [f"{path}: {kind} log; no column for {', '.join(missing)}"] if missing else []
    return history, notices
