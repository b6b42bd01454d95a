"""TensorBoard event files (torch's SummaryWriter, Keras's TensorBoard callback, Lightning's TensorBoardLogger) turned
into the same History as the CSV logs, read with tbparse (the `tensorboard` extra); tags mapped by TENSORBOARD_TAGS.

A run directory holds its event files directly or in one level of subfolders (Keras writes train/ and validation/);
a subfolder's name prefixes its tags. The epoch of a step is Lightning's `epoch` tag where the log has one; else each
step at which a loss tag that is not per step was logged is an epoch, numbered from 1 in step order."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.store.foreign_logs import TENSORBOARD_TAGS, Cells, foreign_history, group_epochs
from engine.store.history import History

EVENT_FILE_PREFIX = "events.out.tfevents."
EXTRA_HINT = "reading TensorBoard event files needs the tensorboard extra: pip install 'stockpred-tui[tensorboard]'"


def event_files(path: Path) -> list[Path]:
    """The event files of a run: the file itself, or those in the directory and its direct subfolders."""
    if path.is_file():
        return [path] if path.name.startswith(EVENT_FILE_PREFIX) else []
    if not path.is_dir():
        return []
    found = [p for p in path.glob(f"{EVENT_FILE_PREFIX}*") if p.is_file()]
    found += [p for p in path.glob(f"*/{EVENT_FILE_PREFIX}*") if p.is_file()]
    return sorted(found)


def is_tensorboard(path: Path) -> bool:
    """Whether `path` is an event file or a run directory holding some."""
    return bool(event_files(path))


def _as_written(value: float) -> float:
    """A float32 scalar as the decimal it was written as (0.001, not 0.0010000000474974513); a double stays as it is."""
    single = np.float32(value)
    return float(str(single)) if float(single) == value or value != value else value


def _scalars(path: Path) -> dict[str, dict[int, float]]:
    """Every scalar as tag -> {step: value}; TF2's tensor scalars (Keras) and TF1's simple values (torch) alike."""
    try:
        from tbparse import SummaryReader
    except ImportError:
        raise InputError(str(path), EXTRA_HINT) from None
    try:
        with warnings.catch_warnings():  # tbparse's own deprecation warnings are not the person's concern
            warnings.simplefilter("ignore")
            reader = SummaryReader(str(path), extra_columns={"dir_name"})
            frames = [reader.scalars, reader.tensors]
    except Exception as error:  # tbparse and the protobuf parser raise many kinds for a damaged file
        raise InputError(str(path), f"not a readable TensorBoard event file ({type(error).__name__})") from None
    series: dict[str, dict[int, float]] = {}
    for frame in frames:
        if frame.empty:
            continue
        for step, tag, value, folder in frame[["step", "tag", "value", "dir_name"]].itertuples(index=False):
            try:
                number = _as_written(float(value))
            except (TypeError, ValueError):
                continue  # a histogram, an image or text: not a scalar
            name = f"{folder}/{tag}" if folder and path.is_dir() else tag
            series.setdefault(name, {})[int(step)] = number  # a step written again (a resumed run): the later wins
    return series


def _per_step_tag(tag: str) -> bool:
    """A tag logged every few steps rather than once an epoch (`loss_step`, `batch_loss`)."""
    return "step" in tag or "batch" in tag


def _records(series: dict[str, dict[int, float]], chosen: dict[str, str | None]) -> list[dict]:
    """One row per step in step order, with its epoch where the step ends one (or Lightning's `epoch` says which)."""
    steps = sorted({step for column in chosen.values() if column for step in series[column]})
    if "epoch" in series:
        epochs = series["epoch"]
    else:
        losses = [c for c in (chosen["train_loss"], chosen["val_loss"]) if c]
        marks = sorted({step for c in [c for c in losses if not _per_step_tag(c)] or losses for step in series[c]})
        epochs = {step: rank for rank, step in enumerate(marks)}
    return [{"epoch": epochs.get(step), **{column: series[column].get(step) for column in chosen.values() if column}}
            for step in steps]


def read_tensorboard(path: Path) -> tuple[History, list[str]]:
    """A TensorBoard run (directory or event file) as an epoch table; InputError when it holds no loss."""
    series = _scalars(path)
    chosen = {field: next((t for t in names if t in series), None) for field, names in TENSORBOARD_TAGS.items()}
    if chosen["train_loss"] is None and chosen["val_loss"] is None:
        tags = ", ".join(sorted(series)[:12]) or "no scalars"
        raise InputError(str(path), f"tensorboard log without a loss tag (has {tags})")
    cells = Cells(path)
    records = _records(series, chosen)
    by_epoch, dropped = group_epochs(records, cells, chosen, last_row_wins=False)
    missing = [f for f, c in chosen.items() if c is None]
    numbering = "the log's epoch 0 is epoch 1" if "epoch" in series else "epoch n is the n-th step at which a loss was logged"
    said = f"{path}: tensorboard log, epochs shown from 1 ({numbering}); tags " + ", ".join(
        f"{c} as {f}" for f, c in chosen.items() if c)
    notices = [said + (f"; no tag for {', '.join(missing)}" if missing else "")]
    if dropped:
        notices.append(f"{path}: {dropped} step(s) after the last epoch's step; ignored")
    return foreign_history(path, "tensorboard", by_epoch, notices)
