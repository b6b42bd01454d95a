"""Keras CSVLogger and Lightning CSVLogger files turned into the same History as our own runs; the name tables of
every foreign format (TensorBoard's too) and the epoch grouping they share.

Epochs are shown from 1 in every format: Keras and Lightning count from 0, so the file's epoch 0 is epoch 1 here
(each read says so in a notice)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from engine.errors import InputError
from engine.events import EpochEvent, RunStarted
from engine.store.history import History

# Our epoch field -> candidate column (or tag) names, first match wins.
KERAS_COLUMNS = {"train_loss": ["loss"], "val_loss": ["val_loss"], "val_acc": ["val_accuracy", "val_acc", "val_binary_accuracy"],
                 "lr": ["lr", "learning_rate"]}
LIGHTNING_COLUMNS = {"train_loss": ["train_loss_epoch", "train_loss", "train_loss_step", "train/loss_epoch", "train/loss",
                                    "train/loss_step", "loss"],
                     "val_loss": ["val_loss_epoch", "val_loss", "val/loss_epoch", "val/loss", "valid_loss", "validation_loss"],
                     "val_acc": ["val_acc", "val_accuracy", "val/acc"],
                     "lr": ["lr", "learning_rate", "lr-Adam", "lr-AdamW", "lr-SGD"]}
# TensorBoard tags: Keras's TensorBoard callback (`epoch_*` in its train/ and validation/ runs), Lightning's
# TensorBoardLogger, and what torch SummaryWriter users usually call them. Tags naming a step or batch are per step.
TENSORBOARD_TAGS = {"train_loss": ["train/epoch_loss", "train_loss_epoch", "train/loss_epoch", "epoch_loss", "train/loss",
                                   "train_loss", "loss/train", "Loss/train", "loss", "train_loss_step", "train/loss_step",
                                   "loss_step", "train/batch_loss", "batch_loss"],
                    "val_loss": ["validation/epoch_loss", "val_loss_epoch", "val/loss_epoch", "val/loss", "val_loss",
                                 "validation/loss", "valid/loss", "loss/val", "Loss/val", "loss/validation", "validation_loss"],
                    "val_acc": ["validation/epoch_accuracy", "validation/epoch_binary_accuracy", "validation/epoch_acc",
                                "val/acc", "val_acc", "val/accuracy", "val_accuracy", "accuracy/val", "Accuracy/val"],
                    "lr": ["train/epoch_learning_rate", "train/epoch_lr", "lr", "learning_rate", "train/lr",
                           "train/learning_rate", "lr-Adam", "lr-AdamW", "lr-SGD"]}
EPOCH_FIELDS = [f.name for f in dataclasses.fields(EpochEvent) if f.name != "time"]
MAX_CELL_NOTICES = 5  # non-numeric cells named one by one; the rest are counted


def per_step(name: str) -> bool:
    """A train-loss column logged per step (Lightning's `train_loss`, `*_step`, a batch loss): its epoch value is the
    mean of the epoch's rows, not the last batch."""
    return "epoch" not in name


class Cells:
    """Reads cells as numbers and remembers, as notices, the ones that are not (only an empty cell is missing)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.bad: list[str] = []

    def number(self, value, row: int, column: str) -> float | None:
        """A float; None for an empty cell, and for text that is no number (noted). 'nan' and 'inf' are values."""
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            self.bad.append(f"{self.source}: row {row}: column {column!r} is not a number ({text[:20]!r}); read as missing")
            return None

    def notices(self) -> list[str]:
        """The non-numeric cells, the first few by row and column."""
        extra = len(self.bad) - MAX_CELL_NOTICES
        return self.bad[:MAX_CELL_NOTICES] + ([f"{self.source}: {extra} more non-numeric cells read as missing"] if extra > 0 else [])


def _epoch_event(epoch: int, epochs: int, values: dict) -> EpochEvent:
    fields = {name: None for name in EPOCH_FIELDS}
    fields.update(epoch=epoch, epochs=epochs, step=0, update_ratio={}, wd_grad_ratio={}, **values)
    return EpochEvent(**fields, time=0.0)


def _read(path: Path) -> tuple[list[dict], set[str]]:
    """Rows of cells as text, an empty cell None; so 'nan' and 'inf' survive to be read as numbers."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        return frame.astype(object).where(frame.notna(), None).to_dict("records"), set(frame.columns)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputError(str(path), f"not a readable CSV ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None


def _epoch_value(field: str, column: str | None, values: list[float]) -> float | None:
    """One epoch's value of a column: the mean of its rows for a per-step train loss, else the last logged value."""
    if column is None or not values:
        return None
    if field == "train_loss" and per_step(column) and len(values) > 1:
        return math.fsum(values) / len(values)  # a NaN or inf step makes the epoch non-finite, as it should
    return values[-1]


def group_epochs(records: list[dict], cells: Cells, chosen: dict[str, str | None], last_row_wins: bool) -> tuple[dict[int, dict], int]:
    """Each epoch's values from rows that carry an `epoch` (or None): a row without one belongs to the epoch of the next
    row that has one (Lightning's LearningRateMonitor and step-only loggers); rows after the last are dropped and counted.
    With `last_row_wins` (Keras) an epoch written again replaces the earlier row, else its rows are pooled."""
    by_epoch: dict[int, dict[str, list[float]]] = {}
    pending: list[tuple[int, dict]] = []
    for row, record in enumerate(records, start=2):  # row 1 is the header: rows are numbered as the file's lines
        pending.append((row, record))
        epoch = cells.number(record.get("epoch"), row, "epoch")
        if epoch is None:
            continue
        if not math.isfinite(epoch) or epoch != int(epoch) or epoch < 0:
            cells.bad.append(f"{cells.source}: row {row}: column 'epoch' is not a whole number ({record.get('epoch')!r}); row skipped")
            pending.pop()
            continue
        if last_row_wins or int(epoch) not in by_epoch:
            by_epoch[int(epoch)] = {field: [] for field in chosen}
        for at, pooled in pending:
            for field, column in chosen.items():
                value = cells.number(pooled.get(column), at, column) if column is not None else None
                if value is not None:
                    by_epoch[int(epoch)][field].append(value)
        pending = []
    values = {epoch: {field: _epoch_value(field, chosen[field], logged) for field, logged in fields.items()}
              for epoch, fields in by_epoch.items()}
    return values, len(pending)


def foreign_history(source: Path, kind: str, by_epoch: dict[int, dict], notices: list[str]) -> tuple[History, list[str]]:
    """The History of a foreign log's epoch table (0-based epochs, shown from 1); InputError when it holds no epoch."""
    if not by_epoch:
        raise InputError("", f"no epochs in {source}")
    history = History(source_format=kind)
    history.apply(RunStarted(source.stem, {}, {"source": str(source), "notices": []}, {}, kind, 0, time=0.0))
    # Sorted: a resumed Keras run may append epochs out of order, and replay cuts the event stream at an epoch.
    for epoch in sorted(by_epoch):
        history.apply(_epoch_event(epoch + 1, len(by_epoch), by_epoch[epoch]))
    return history, notices


def read_foreign_csv(path: Path) -> tuple[History, list[str]]:
    """Detect Keras (epoch, loss, val_loss …) or Lightning (epoch, step, sparse rows) and load the epoch table."""
    records, columns = _read(path)
    if "epoch" not in columns:
        raise InputError(str(path), "not a training log: no 'epoch' column (expected Keras CSVLogger or Lightning metrics.csv)")
    kind, mapping = ("lightning", LIGHTNING_COLUMNS) if "step" in columns else ("keras", KERAS_COLUMNS)
    chosen = {field: next((c for c in names if c in columns), None) for field, names in mapping.items()}
    if chosen["train_loss"] is None and chosen["val_loss"] is None:
        raise InputError(str(path), f"{kind} log without a loss column (has {', '.join(sorted(map(str, columns)))})")
    cells = Cells(path)
    by_epoch, dropped = group_epochs(records, cells, chosen, last_row_wins=kind == "keras")
    missing = [f for f, c in chosen.items() if c is None]
    said = f"{path}: {kind} log, epochs shown from 1 (the file counts them from 0)"
    notices = [said + (f"; no column for {', '.join(missing)}" if missing else "")]
    if dropped:
        notices.append(f"{path}: {dropped} row(s) after the last epoch's row carry no epoch; ignored")
    return foreign_history(path, kind, by_epoch, notices + cells.notices())
