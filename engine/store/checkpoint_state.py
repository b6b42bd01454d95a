"""What a checkpoint's counters, shapes and random states may hold, checked as strictly as the config: once on load
(each value that is there: no epoch -5, no perm of floats) and once more against the data and config a resume uses
(everything the trainer restores is there, the saved epoch order fits this data's training windows)."""

from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import Tensor
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import InputError
from engine.knobs import validate_knob
from engine.safe_text import echo

MAX_EPOCHS = 1_000_000  # the config's bound on training.epochs
ACC_LENGTHS = (4, 5)  # [loss, reg, clf, grad] sums; older checkpoints kept the count as a fifth
RESTORED = ("batch", "perm", "acc", "early")  # what the trainer reads on resume beyond the keys every load needs


def _tensor(value: object, kind: str, dtypes: tuple[torch.dtype, ...]) -> Tensor:
    """`value` if it is a 1-D tensor of one of `dtypes`; ValueError naming what it is otherwise."""
    if not isinstance(value, Tensor):
        raise ValueError(f"must be {kind}, not a {type(value).__name__}")
    if value.dim() != 1 or value.dtype not in dtypes:
        raise ValueError(f"must be {kind}, not a {value.dtype} tensor of shape {tuple(value.shape)}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True)


class RandomStates(_Model):
    """The generators' saved states: byte tensors, one per rank under torchrun."""

    torch: Tensor | None = None
    shuffle: Tensor | None = None
    cuda: Tensor | None = None
    torch_ranks: list[Tensor] | None = None

    @field_validator("torch", "shuffle", "cuda")
    @classmethod
    def _bytes(cls, value: Tensor | None) -> Tensor | None:
        return None if value is None else _tensor(value, "a random state (a 1-D uint8 tensor)", (torch.uint8,))

    @field_validator("torch_ranks")
    @classmethod
    def _each_bytes(cls, value: list | None) -> list | None:
        for state in value or []:
            _tensor(state, "a list of random states (1-D uint8 tensors)", (torch.uint8,))
        return value


class ScalerState(_Model):
    """The training statistics the features and target were scaled with."""

    model_config = ConfigDict(allow_inf_nan=False)
    feature_mean: list[float] | None = None
    feature_std: list[Annotated[float, Field(gt=0.0)]] | None = None
    target_mean: float | None = None
    target_std: float | None = Field(None, gt=0.0)


class EarlyState(_Model):
    """Early stopping's memory: the best validation loss so far, its epoch, the epochs waited since."""

    model_config = ConfigDict(extra="allow")
    best_val: float | None = None
    best_epoch: int | None = Field(None, ge=0, le=MAX_EPOCHS)
    wait: int | None = Field(None, ge=0, le=MAX_EPOCHS)
    best_model: dict | None = None

    @field_validator("best_val")
    @classmethod
    def _not_nan(cls, value: float | None) -> float | None:
        if value is not None and math.isnan(value):
            raise ValueError("must be a number or inf (no validation yet), not NaN")
        return value


class CheckpointState(_Model):
    """The counters and shapes of a checkpoint (the config is validated by the config's own loader)."""

    model_config = ConfigDict(extra="allow")
    epoch: int = Field(ge=0, le=MAX_EPOCHS)
    step: int = Field(ge=0)
    batch: int = Field(0, ge=0)
    perm: Tensor | None = None
    acc: Tensor | None = None
    count: int = Field(0, ge=0)
    hparams: dict[str, float]
    scaler: ScalerState
    early: EarlyState | None = None
    rng: RandomStates
    world_size: int = Field(1, ge=1, le=65536)
    fingerprint: str | None = None
    run_id: str = ""

    @field_validator("perm")
    @classmethod
    def _an_order(cls, value: Tensor | None) -> Tensor | None:
        if value is None:
            return None
        _tensor(value, "an epoch order (a 1-D int64 tensor)", (torch.int64,))
        if not torch.equal(torch.sort(value).values, torch.arange(len(value))):
            raise ValueError(f"must be an order of the {len(value)} training windows (each index once)")
        return value

    @field_validator("acc")
    @classmethod
    def _sums(cls, value: Tensor | None) -> Tensor | None:
        if value is not None and len(_tensor(value, "the epoch's loss sums", (torch.float32, torch.float64))) not in ACC_LENGTHS:
            raise ValueError(f"must hold {ACC_LENGTHS[0]} sums, not {len(value)}")
        return value

    @field_validator("hparams")
    @classmethod
    def _knobs_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for name, number in value.items():
            try:
                validate_knob(name, number)
            except InputError as error:
                raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _counters_agree(self) -> "CheckpointState":
        if self.step < self.epoch:
            raise ValueError(f"step {self.step} is below epoch {self.epoch} (every epoch takes at least one step)")
        if self.perm is not None and self.batch > len(self.perm):
            raise ValueError(f"batch {self.batch} is beyond its epoch of {len(self.perm)} training windows")
        if self.early is not None and (self.early.best_epoch or 0) > self.epoch:
            raise ValueError(f"early.best_epoch {self.early.best_epoch} is after epoch {self.epoch}")
        return self


def damaged(path: str, problem: str) -> InputError:
    """The one line for a checkpoint whose contents are wrong."""
    return InputError(path, f"is a damaged stockpred-tui checkpoint: {problem}")


def check_state(state: dict, path: str) -> None:
    """Refuse a loaded checkpoint whose counters, shapes or random states are out of range or of the wrong type."""
    try:
        CheckpointState.model_validate(state)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        got = f" (got {echo(first['input'])})" if where and not isinstance(first["input"], (dict, Tensor)) else ""
        raise damaged(path, f"'{where}' {message}{got}" if where else message) from None


def check_restorable(state: dict, path: str, features: int) -> None:
    """Refuse a checkpoint that lacks what a resume restores (a loaded checkpoint needs only the keys every one has)."""
    scaler = state["scaler"]
    missing = [key for key in RESTORED if key not in state]
    missing += [f"rng.{key}" for key in ("torch", "shuffle") if state["rng"].get(key) is None]
    missing += [f"scaler.{key}" for key in ScalerState.model_fields if scaler.get(key) is None]
    early = state.get("early") or {}
    missing += [f"early.{key}" for key in EarlyState.model_fields if key != "best_model" and early.get(key) is None]
    if missing:
        raise damaged(path, f"lacks {', '.join(missing)}")
    for key in ("feature_mean", "feature_std"):
        if len(scaler[key]) != features:
            raise damaged(path, f"'scaler.{key}' holds {len(scaler[key])} values; the model takes {features} features")


def check_fits(state: dict, path: str, train_windows: int, batch_size: int, world_size: int) -> None:
    """Refuse a checkpoint saved mid-epoch whose epoch order or batch does not fit the data and config of this resume."""
    perm, batch = state["perm"], state["batch"]
    if perm is None:
        return
    if len(perm) != train_windows:
        raise InputError(path, f"was saved mid-epoch over {len(perm)} training windows; this data and config give "
                               f"{train_windows} (a data.* key changed with --set?)")
    batches = math.ceil(train_windows / (batch_size * world_size))
    if batch > batches:
        raise InputError(path, f"was saved at batch {batch} of its epoch; batch_size {batch_size} gives {batches} "
                               "batches per epoch (training.batch_size changed with --set?)")
