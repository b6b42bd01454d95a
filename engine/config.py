"""Typed run configuration: YAML in, validated pydantic models out, one-line errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import InputError


class _Strict(BaseModel):
    """Base model that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SyntheticConfig(_Strict):
    """Synthetic prices with a planted AR(1) signal in daily returns."""

    tickers: int = Field(2, ge=1, le=50)
    days: int = Field(1500, ge=100, le=1_000_000)
    signal: float = Field(0.6, ge=0.0, lt=1.0, description="AR(1) coefficient of returns; 0 means nothing to learn")


class DataConfig(_Strict):
    """Where prices come from and how windows are cut."""

    source: str = Field("bundled", description="'bundled', 'synthetic' or a path to a CSV")
    tickers: list[str] = Field(default_factory=lambda: ["AAPL", "IBM", "MSFT", "GOOG"])
    window: int = Field(30, ge=2, le=512)
    val_fraction: float = Field(0.15, gt=0.0, lt=0.5)
    test_fraction: float = Field(0.15, ge=0.0, lt=0.5)
    volatility_window: int = Field(20, ge=2, le=250)
    scale_target: bool = Field(True, description="standardize the return target with training statistics")
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> "DataConfig":
        if self.val_fraction + self.test_fraction >= 0.8:
            raise ValueError("val_fraction + test_fraction must be below 0.8")
        return self


class ModelConfig(_Strict):
    """LSTM encoder size and dropout."""

    hidden_size: int = Field(128, ge=1, le=4096)
    num_layers: int = Field(2, ge=1, le=8)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


class EarlyStoppingConfig(_Strict):
    """Stop when validation loss has not improved by min_delta for patience epochs."""

    enabled: bool = True
    patience: int = Field(30, ge=1)
    min_delta: float = Field(0.00001, ge=0.0)


class WarmupConfig(_Strict):
    """Linear learning-rate warmup over the first epochs."""

    enabled: bool = False
    epochs: float = Field(5.0, gt=0.0)


class TrainingConfig(_Strict):
    """Optimisation settings; the defaults are the note's balanced settings."""

    learning_rate: float = Field(0.001, gt=0.0, le=10.0)
    weight_decay: float = Field(0.0001, ge=0.0, le=1.0)
    optimizer: Literal["adam", "adamw"] = "adam"
    batch_size: int = Field(256, ge=1, le=1_000_000)
    epochs: int = Field(100, ge=1, le=1_000_000)
    reg_weight: float = Field(1.0, ge=0.0)
    clf_weight: float = Field(0.5, ge=0.0)
    grad_clip: float = Field(1.0, ge=0.0, description="max gradient norm; 0 disables clipping")
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    warmup: WarmupConfig = Field(default_factory=WarmupConfig)
    probes_per_epoch: int = Field(4, ge=1, le=1000, description="steps per epoch that measure update and gradient statistics")

    @model_validator(mode="after")
    def _some_loss(self) -> "TrainingConfig":
        if self.reg_weight == 0 and self.clf_weight == 0:
            raise ValueError("reg_weight and clf_weight cannot both be 0")
        return self


class CheckpointConfig(_Strict):
    """Automatic checkpoints: a rolling last.pt, best.pt on every validation gain, numbered copies kept."""

    every_epochs: int = Field(1, ge=0, description="write last.pt every N epochs; 0 turns periodic saving off")
    keep_last: int = Field(0, ge=0, le=10_000, description="also keep this many numbered epoch checkpoints")


class Config(_Strict):
    """The whole run configuration."""

    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    seed: int = 42
    device: str = "auto"
    log_dir: str = "logs"
    step_event_interval_s: float = Field(0.25, ge=0.0, description="minimum seconds between live step events")
    control_socket: bool = Field(True, description="serve events and controls on logs/<run-id>/control.sock")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if value != "auto" and value != "cpu" and not value.startswith(("cuda", "mps")):
            raise ValueError("must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return value


def _known_keys(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names valid at a key path, for 'did you mean' hints."""
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return list(model.model_fields)


def describe_validation_error(error: ValidationError, source: str) -> InputError:
    """Turn the first pydantic error into one line naming the key path and the problem."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        near = difflib.get_close_matches(str(loc[-1]), _known_keys(Config, loc[:-1]), n=1)
        hint = f" (did you mean '{'.'.join([*map(str, loc[:-1]), near[0]])}'?)" if near else ""
        return InputError(source, f"unknown key '{key}'{hint}")
    message = first["msg"].removeprefix("Value error, ")
    return InputError(source, f"{key}: {message} (got {first.get('input')!r})")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split 'a.b=value' into a key path and a YAML-typed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError("--set", f"expected key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply '--set key=value' overrides to a raw config mapping."""
    for text in overrides:
        path, value = parse_override(text)
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError("--set", f"'{'.'.join(path)}': '{part}' is not a section")
            node = child
        node[path[-1]] = value
    return raw


def config_from_dict(raw: dict, source: str = "config") -> Config:
    """Validate a raw mapping into a Config or raise a one-line InputError."""
    if not isinstance(raw, dict):
        raise InputError(source, "top level must be a mapping of sections")
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise describe_validation_error(error, source) from None


def read_config_file(path: str | Path) -> dict:
    """Read a YAML config file into a raw mapping."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"cannot read: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise InputError(str(path), f"{where}invalid YAML ({getattr(error, 'problem', error)})") from None
    return raw or {}


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read YAML (or defaults), apply overrides and validate once."""
    raw = read_config_file(path) if path else {}
    apply_overrides(raw, overrides or [])
    return config_from_dict(raw, str(path) if path else "config")
