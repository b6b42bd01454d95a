"""Typed run configuration: the pydantic models and the one loader (a base plus labelled overrides, validated once)."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.config_file import parse_value, read_config_file
from engine.errors import InputError
from engine.knobs import KNOBS
from engine.safe_text import echo, short as _short
from engine.sweep_config import SweepConfig, TrialOf


class _Strict(BaseModel):
    """Base model that rejects unknown keys, takes a boolean only where one is meant (no `epochs: true`, no
    `scale_target: 1`), a whole number only as an int, and every float only when finite (no `.inf`, `.nan`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


def _named_path(value: str) -> str:
    """A path setting must name something: '' would quietly mean the current directory or the default."""
    if not value.strip():
        raise ValueError("must not be empty (give a path)")
    return value


class SyntheticConfig(_Strict):
    """Synthetic prices with a planted AR(1) signal in daily returns."""

    tickers: int = Field(2, ge=1, le=50)
    days: int = Field(1500, ge=100, le=1_000_000)
    signal: float = Field(0.6, ge=0.0, lt=1.0, description="AR(1) coefficient of returns; 0 means nothing to learn")


class DataConfig(_Strict):
    """Where prices come from and how windows are cut."""

    source: str = Field("bundled", description="'bundled', 'synthetic' or a path to a CSV")
    date_format: str | None = Field(None, min_length=2, description="strftime format of the CSV's dates, e.g. "
                                    "'%d/%m/%Y'; needed when a date could be read day-first or month-first")
    tickers: list[str] = Field(default_factory=lambda: ["AAPL", "IBM", "MSFT", "GOOG"])
    window: int = Field(30, ge=2, le=512)
    val_fraction: float = Field(0.15, gt=0.0, lt=0.5)
    test_fraction: float = Field(0.15, ge=0.0, lt=0.5)
    volatility_window: int = Field(20, ge=2, le=250)
    scale_target: bool = Field(True, description="standardize the return target with training statistics")
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)

    _source_named = field_validator("source")(_named_path)

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
    """Optimisation settings; the defaults are the troubleshooting guide's balanced settings (docs/health-rules.md)."""

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
    seed: int = Field(42, ge=0, le=2**32 - 1, description="numpy and torch both take seeds in this range")
    device: str = "auto"
    log_dir: str = "logs"
    step_event_interval_s: float = Field(0.25, ge=0.0, description="minimum seconds between live step events")
    control_socket: bool = Field(True, description="serve events and controls on logs/<run-id>/control.sock")
    threads: int | Literal["auto"] = Field("auto", description="torch CPU threads: 'auto' (idle cores of the affinity mask) or N")
    sweep: SweepConfig | None = Field(None, description="the search space of `stockpred-tui sweep`")
    trial: TrialOf | None = Field(None, description="set by the sweep: the study and trial this run is")

    _log_dir_named = field_validator("log_dir")(_named_path)

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


NOT_SEARCHABLE = ("sweep", "trial", "log_dir", "control_socket")  # what a trial's run may not vary


def check_searchable(key: str, values: list) -> None:
    """ValueError unless `key` is a setting a trial can vary and every value in `values` is valid for it."""
    path = tuple(key.split("."))
    known = _known_keys(Config, path[:-1])
    if path[0] in NOT_SEARCHABLE or path[-1] not in known or _known_keys(Config, path):
        near = [key for key in _nearest_key(path[-1], known) if key != path[-1]] if path[0] not in NOT_SEARCHABLE else []
        hint = f" (did you mean '{'.'.join([*path[:-1], near[0]])}'?)" if near else ""
        raise ValueError(f"'{_short(key)}' is not a setting a trial can vary{hint}")
    for value in values:
        try:
            load_config(None, [Override(path, value, "sweep.params")])
        except InputError as error:  # names the key and the value: 'model.dropout: Input should be ... (got 1.2)'
            raise ValueError(error.problem) from None


DEFAULTS_LABEL = "config"  # blamed for a bad value that neither a file nor an option set (the defaults are valid)


@dataclass(frozen=True)
class Override:
    """One value put over the base config, with the option that put it there (blamed when the value is bad)."""

    path: tuple[str, ...]
    value: Any
    label: str = "--set"

    @classmethod
    def parse(cls, text: str, label: str = "--set") -> Override:
        """'a.b=value' as an override of key path a.b, the value typed as YAML ('3' -> 3, '[A, B]' -> a list)."""
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise InputError(label, f"expected key=value, got {echo(text)}")
        return cls(tuple(key.strip().split(".")), parse_value(raw, label), label)


def load_config(path: str | Path | None = None, overrides: Sequence[Override | str] = (), base: Mapping | None = None,
                base_label: str = DEFAULTS_LABEL) -> Config:
    """The one way to a Config: a base (the YAML at `path`, else a stored mapping such as a checkpoint's, else the
    defaults), the overrides put over it in order ('a.b=1' text counts as --set), validated once.

    A bad value is blamed on the override that set it, else on the file (or `base_label`).
    """
    if path is not None and base is not None:
        raise ValueError("a config comes from a file or from a stored mapping, not both")
    raw, source = (read_config_file(path), str(path)) if path is not None else (copy.deepcopy(base) if base is not None else {}, base_label)
    if not isinstance(raw, dict):
        raise InputError(source, "top level must be a mapping of sections")
    labelled = [Override.parse(item) if isinstance(item, str) else item for item in overrides]
    for override in labelled:
        _put(raw, override)
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise _describe(error, source, {override.path: override.label for override in labelled}) from None


def _put(raw: dict, override: Override) -> None:
    """Set the override's value at its key path of a raw config mapping, making sections on the way."""
    node = raw
    for part in override.path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(override.label, f"'{_short('.'.join(override.path))}': '{_short(part)}' is not a section")
        node = child
    node[override.path[-1]] = override.value


def _known_keys(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names valid at a key path, for 'did you mean' hints."""
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return list(model.model_fields)


def _nearest_key(name: str, known: list[str]) -> list[str]:
    """A close spelling, or the key whose word initials are `name` ('lr' -> 'learning_rate')."""
    initials = [key for key in known if "".join(word[:1] for word in key.split("_")) == name.lower()]
    return difflib.get_close_matches(name, known, n=1) or initials[:1]


def _blame(loc: tuple, origins: dict[tuple[str, ...], str], source: str) -> str:
    """Who set the value at `loc`: the option that set it or a section above it, or else the base."""
    loc = tuple(str(part) for part in loc)
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    # A section that only an option brought in ('--set trainng.lr=3' makes 'trainng').
    below = [label for path, label in origins.items() if loc and path[: len(loc)] == loc]
    return below[-1] if below else source


def _describe(error: ValidationError, source: str, origins: dict[tuple[str, ...], str]) -> InputError:
    """The first pydantic error as one line naming who set the value, the key path and the problem."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = _short(".".join(str(p) for p in loc) or "(top level)")
    where = _blame(loc, origins, source)
    if first["type"] == "extra_forbidden":
        near = _nearest_key(str(loc[-1]), _known_keys(Config, loc[:-1]))
        hint = f" (did you mean '{'.'.join([*map(str, loc[:-1]), near[0]])}'?)" if near else ""
        return InputError(where, f"unknown key '{key}'{hint}")
    message = first["msg"].removeprefix("Value error, ")
    given = first.get("input")  # a search space echoed back whole is noise: its message names what is wrong in it
    quiet = loc[:1] == ("sweep",) and isinstance(given, dict)
    return InputError(where, f"{key}: {message}" + ("" if quiet else f" (got {echo(given)})"))
