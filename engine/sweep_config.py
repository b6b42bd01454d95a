"""The `sweep:` section of a config (the search space and how trials are pruned) and the `trial:` label a trial's run
carries; validated with the rest of the config, so a bad space is one line naming its key."""

from __future__ import annotations

import builtins
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The rules that may prune a trial; engine.commands.sweep_prune checks each against the health rules' names.
DEFAULT_HEALTH_PRUNING = ["exploding", "divergence", "frozen", "instability", "decay_vs_gradient", "over_regularised"]


class _StrictSection(BaseModel):
    """Unknown keys refused, no coercion, finite floats only (as every other config section)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


FloatRange = Annotated[list[float], Field(min_length=2, max_length=2)]  # [low, high]: YAML gives lists, not tuples
IntRange = Annotated[list[builtins.int], Field(min_length=2, max_length=2)]
Choices = list[float | builtins.int | str | bool]  # module-level: inside ParamSpace the name `int` is a field
KINDS = ("log_uniform", "uniform", "int", "choice")


class ParamSpace(_StrictSection):
    """One searched key: exactly one of log_uniform, uniform or int ([low, high]) or choice ([values])."""

    log_uniform: FloatRange | None = None
    uniform: FloatRange | None = None
    int: IntRange | None = None
    choice: Choices | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> "ParamSpace":
        given = [kind for kind in KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of log_uniform, uniform, int or choice")
        bounds = self.bounds
        if bounds is not None and not bounds[0] < bounds[1]:
            raise ValueError(f"{given[0]}: low must be below high (got {list(bounds)})")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            raise ValueError("log_uniform: low must be above 0")
        return self

    @property
    def kind(self) -> str:
        """'log_uniform', 'uniform', 'int' or 'choice'."""
        return next(kind for kind in KINDS if getattr(self, kind) is not None)

    @property
    def bounds(self) -> list[Any] | None:
        """[low, high] of a range, None for a choice."""
        return self.log_uniform or self.uniform or self.int

    def extremes(self) -> list[Any]:
        """The values a config must accept for this space to be valid: both ends, or every choice."""
        return list(self.bounds) if self.bounds is not None else list(self.choice or [])


class MedianPruning(_StrictSection):
    """Optuna's MedianPruner: prune a trial whose val loss is worse than the median of earlier trials at that epoch."""

    enabled: bool = True
    startup_trials: int = Field(5, ge=0, description="trials that are never pruned by the median")
    warmup_epochs: int = Field(5, ge=0, description="epochs of each trial before the median may prune it")


class PruneConfig(_StrictSection):
    """Which findings stop a trial: a critical one at once, a warning once it persists `warning_epochs` epochs."""

    median: MedianPruning = Field(default_factory=MedianPruning)
    health: list[str] = Field(default_factory=lambda: list(DEFAULT_HEALTH_PRUNING))
    warning_epochs: int = Field(3, ge=1, le=1000)
    spare_leaders: bool = Field(True, description="a warning does not prune a trial whose val loss is better than the "
                                                  "median of the other trials' at that epoch (critical findings do)")


class SweepConfig(_StrictSection):
    """`stockpred-tui sweep`: the search space (config key -> space) and its defaults for the command's options."""

    params: dict[str, ParamSpace] = Field(default_factory=dict)
    prune: PruneConfig = Field(default_factory=PruneConfig)
    trials: int = Field(20, ge=1, le=100_000)
    jobs: int = Field(1, ge=1, le=256)
    study: str | None = Field(None, min_length=1, max_length=120, description="default: 'sweep'")
    storage: str | None = Field(None, min_length=1, description="an Optuna URL or a journal file; default: log_dir")
    sampler_seed: int | None = Field(None, ge=0, le=2**32 - 1)

    @field_validator("params")
    @classmethod
    def _keys_are_settings(cls, params: dict[str, ParamSpace]) -> dict[str, ParamSpace]:
        from engine.config import check_searchable  # the config module holds this section: import when validating

        for key, space in params.items():
            check_searchable(key, space.extremes())
        return params


class TrialOf(_StrictSection):
    """The study and trial number a run was started for (set by the sweep, recorded in its config and run_start)."""

    study: str = Field(min_length=1, max_length=120)
    number: int = Field(ge=0)
