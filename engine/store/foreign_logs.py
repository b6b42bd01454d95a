"""Keras CSVLogger and Lightning CSVLogger files turned into the same History as our own runs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from engine.errors import InputError
from engine.events import EpochEvent, RunStarted
from engine.store.history import History

# Our epoch field -> candidate column names, first match wins.
KERAS_COLUMNS = {"train_loss": ["loss"], "val_loss": ["val_loss"], "val_acc": ["val_accuracy", "val_acc", "val_binary_accuracy"],
                 "lr": ["lr", "learning_rate"]}
LIGHTNING_COLUMNS = {"train_loss": ["train_loss_epoch", "train_loss", "train_loss_step", "train/loss_epoch", "train/loss",
                                    "train/loss_step", "loss"],
                     "val_loss": ["val_loss_epoch", "val_loss", "val/loss_epoch", "val/loss", "valid_loss", "validation_loss"],
                     "val_acc": ["val_acc", "val_accuracy", "val/acc"],
                     "lr": ["lr", "learning_rate", "lr-Adam", "lr-AdamW", "lr-SGD"]}
# Lightning columns logged per step: an epoch's value is the mean of its step rows, not the last batch.
STEP_LEVEL = {"train_loss", "train_loss_step", "train/loss", "train/loss_step", "loss"}
EPOCH_FIELDS = [f.name for f in dataclasses.fields(EpochEvent) if f.name != "time"]


def _number(value) -> float | None:
    """A float; None only for an empty cell. 'nan', 'inf' and '-inf' are values (a blown-up loss), not gaps."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None  # an empty cell (read as NaN because only "" is declared missing)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _epoch_event(epoch: int, epochs: int, values: dict) -> EpochEvent:
    fields = {name: None for name in EPOCH_FIELDS}
    fields.update(epoch=epoch, epochs=epochs, step=0, update_ratio={}, wd_grad_ratio={}, **values)
    return EpochEvent(**fields, time=0.0)


def _read(path: Path) -> pd.DataFrame:
    """Cells as text; only empty cells are missing, so 'nan' and 'inf' survive to be read as numbers."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputError(str(path), f"not a readable CSV ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None


def _epoch_number(path: Path, value) -> int:
    number = _number(value)
    if number is None or not math.isfinite(number) or number != int(number):
        raise InputError(str(path), f"epoch column holds {value!r}, not a whole number")
    return int(number)


def _lightning_values(rows: list[dict], column: str | None) -> float | None:
    """One epoch's value of a column: the mean of step rows for per-step losses, else the last logged value."""
    if column is None:
        return None
    values = [v for v in (_number(r.get(column)) for r in rows) if v is not None]
    if not values:
        return None
    if column in STEP_LEVEL and len(values) > 1:
        return math.fsum(values) / len(values)  # a NaN or inf step makes the epoch non-finite, as it should
    return values[-1]


def read_foreign_csv(path: Path) -> tuple[History, list[str]]:
    """Detect Keras (epoch, loss, val_loss …) or Lightning (epoch, step, sparse rows) and load the epoch table."""
    frame = _read(path)
    columns = set(frame.columns)
    if "epoch" not in columns:
        raise InputError(str(path), "not a training log: no 'epoch' column (expected Keras CSVLogger or Lightning metrics.csv)")
    kind, mapping = ("lightning", LIGHTNING_COLUMNS) if "step" in columns else ("keras", KERAS_COLUMNS)
    chosen = {field: next((c for c in names if c in columns), None) for field, names in mapping.items()}
    if chosen["train_loss"] is None and chosen["val_loss"] is None:
        raise InputError(str(path), f"{kind} log without a loss column (has {', '.join(sorted(map(str, columns)))})")
    by_epoch: dict[int, list[dict]] = {}
    for record in frame.to_dict("records"):
        by_epoch.setdefault(_epoch_number(path, record["epoch"]), []).append(record)
    history = History(source_format=kind)
    history.apply(RunStarted(path.stem, {}, {"source": str(path), "notices": []}, {}, kind, 0, time=0.0))
    # Sorted: a resumed Keras run may append epochs out of order, and replay cuts the event stream at an epoch.
    for epoch in sorted(by_epoch):
        rows = by_epoch[epoch]
        if kind == "keras":  # a resumed run that appended the same epoch again: the later row wins
            values = {field: _number(rows[-1].get(column)) for field, column in chosen.items() if column is not None}
        else:
            values = {field: _lightning_values(rows, column) for field, column in chosen.items()}
        history.apply(_epoch_event(epoch + 1, len(by_epoch), values))  # both loggers count epochs from 0
    missing = [f for f, c in chosen.items() if c is None]
    notices = [f"{path}: {kind} log; no column for {', '.join(missing)}"] if missing else []
    return history, notices
