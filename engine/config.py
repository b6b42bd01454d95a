"""Typed run configuration: YAML in, validated pydantic models out, one-line errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import InputError
from engine.knobs import KNOBS
from engine.safe_text import echo, short as _short


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
    dropout: float = Field(0.3, ge=KNOBS["dropout"].low, le=KNOBS["dropout"].high)


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

    learning_rate: float = Field(0.001, gt=KNOBS["lr"].low, le=KNOBS["lr"].high)
    weight_decay: float = Field(0.0001, ge=KNOBS["weight_decay"].low, le=KNOBS["weight_decay"].high)
    optimizer: Literal["adam", "adamw"] = "adam"
    batch_size: int = Field(256, ge=1, le=1_000_000)
    epochs: int = Field(100, ge=1, le=1_000_000)
    reg_weight: float = Field(1.0, ge=0.0)
    clf_weight: float = Field(0.5, ge=KNOBS["clf_weight"].low, le=KNOBS["clf_weight"].high)
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
    threads: int | Literal["auto"] = Field("auto", description="torch CPU threads: 'auto' (idle cores of the affinity mask) or N")

    @field_validator("threads")
    @classmethod
    def _thread_count(cls, value: int | str) -> int | str:
        if value != "auto" and not 1 <= value <= 1024:
            raise ValueError("must be 'auto' or a whole number from 1 to 1024")
        return value

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


MAX_CONFIG_BYTES = 1_000_000
MAX_EXPANDED_NODES = 10_000  # a full config has about 60 values; YAML aliases must not multiply that into millions
Origins = dict[tuple[str, ...], str]


def _nearest_key(name: str, known: list[str]) -> list[str]:
    """A close spelling, or the key whose word initials are `name` ('lr' -> 'learning_rate')."""
    initials = [key for key in known if "".join(word[:1] for word in key.split("_")) == name.lower()]
    return difflib.get_close_matches(name, known, n=1) or initials[:1]


def _blame(loc: tuple, origins: Origins | None, source: str) -> str:
    """Who set the value at `loc`: a command-line option, or else the config file."""
    loc = tuple(str(part) for part in loc)
    origins = origins or {}
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    # A section that only an option brought in ('--set trainng.lr=3' makes 'trainng').
    below = [label for path, label in origins.items() if loc and path[: len(loc)] == loc]
    return below[-1] if below else source


def describe_validation_error(error: ValidationError, source: str, origins: Origins | None = None) -> InputError:
    """Turn the first pydantic error into one line naming where it came from, the key path and the problem."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = _short(".".join(str(p) for p in loc) or "(top level)")
    where = _blame(loc, origins, source)
    if first["type"] == "extra_forbidden":
        near = _nearest_key(str(loc[-1]), _known_keys(Config, loc[:-1]))
        hint = f" (did you mean '{'.'.join([*map(str, loc[:-1]), near[0]])}'?)" if near else ""
        return InputError(where, f"unknown key '{key}'{hint}")
    message = first["msg"].removeprefix("Value error, ")
    return InputError(where, f"{key}: {message} (got {echo(first.get('input'))})")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split 'a.b=value' into a key path and a YAML-typed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError("--set", f"expected key=value, got {echo(text)}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    _check_expansion(value, "--set")
    return key.strip().split("."), value


def set_key(raw: dict, path: list[str], value: Any, label: str = "--set", origins: Origins | None = None) -> None:
    """Put `value` at a key path of a raw config mapping, remembering that `label` set it."""
    node = raw
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(label, f"'{_short('.'.join(path))}': '{_short(part)}' is not a section")
        node = child
    node[path[-1]] = value
    if origins is not None:
        origins[tuple(path)] = label


def apply_overrides(raw: dict, overrides: list[str], origins: Origins | None = None, label: str = "--set") -> dict:
    """Apply '--set key=value' overrides to a raw config mapping."""
    for text in overrides:
        path, value = parse_override(text)
        set_key(raw, path, value, label, origins)
    return raw


def config_from_dict(raw: dict, source: str = "config", origins: Origins | None = None) -> Config:
    """Validate a raw mapping into a Config or raise a one-line InputError blaming the file or option at fault."""
    if not isinstance(raw, dict):
        raise InputError(source, "top level must be a mapping of sections")
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise describe_validation_error(error, source, origins) from None


def _check_expansion(value: Any, source: str) -> None:
    """Refuse YAML whose aliases expand beyond MAX_EXPANDED_NODES values (a 'billion laughs'), or refer to themselves."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise InputError(source, "a YAML alias refers to itself")
            return sizes[id(node)]
        sizes[id(node)] = -1
        children = node.values() if isinstance(node, dict) else node
        total = 1 + sum(size(child) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise InputError(source, f"YAML expands to more than {MAX_EXPANDED_NODES:,} values (aliases?); not a config")
        sizes[id(node)] = total
        return total

    size(value)


def read_config_file(path: str | Path) -> dict:
    """Read a YAML config file (at most 1 MB) into a raw mapping."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror or error})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(str(path), f"larger than {MAX_CONFIG_BYTES // 1_000_000} MB; not a config file")
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text; expected a YAML config") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = _short(str(getattr(error, "problem", None) or error).splitlines()[0])
        raise InputError(str(path), f"{where}invalid YAML ({problem})") from None
    except RecursionError:
        raise InputError(str(path), "YAML nested too deeply; not a config") from None
    _check_expansion(raw, str(path))
    return raw or {}


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read YAML (or defaults), apply overrides and validate once."""
    raw = read_config_file(path) if path else {}
    origins: Origins = {}
    if isinstance(raw, dict):
        apply_overrides(raw, overrides or [], origins)
    return config_from_dict(raw, str(path) if path else "config", origins)
