"""The Optuna side of a sweep: where the study is stored, its sampler and pruner, a trial's values from the search
space, and the trial table that the headless lines and the sweep screen show."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import FrozenTrial, TrialState

from engine.errors import InputError
from engine.sweep_config import ParamSpace, SweepConfig

JOURNAL_FILE = "sweeps.journal"  # in log_dir: Optuna's journal file storage, safe for several writing processes
MIN_TRIALS_FOR_IMPORTANCE = 4  # completed trials before `get_param_importances` says more than noise
STATE_NAMES = {TrialState.RUNNING: "running", TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
               TrialState.FAIL: "failed", TrialState.WAITING: "waiting"}

optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep prints its own line per trial


def default_study_name() -> str:
    """A fresh study per sweep unless --study names one to share or continue."""
    return time.strftime("sweep-%Y%m%d-%H%M%S")


def open_storage(url: str | None, log_dir: str | Path):
    """Any database URL Optuna accepts ('sqlite:///…', 'postgresql://…') as is; else a journal file (default:
    log_dir/sweeps.journal), which several sweep processes may share."""
    if url is not None and "://" in url:
        return url
    path = Path(url) if url is not None else Path(log_dir) / JOURNAL_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))
    except OSError as error:
        raise InputError(str(path), f"cannot open the study's journal ({error.strerror or error})") from None


def open_study(name: str, storage, sweep: SweepConfig) -> optuna.Study:
    """Create the study, or join it when another process (or an earlier sweep) made it."""
    median = sweep.prune.median
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=median.startup_trials, n_warmup_steps=median.warmup_epochs)
              if median.enabled else optuna.pruners.NopPruner())
    try:
        return optuna.create_study(storage=storage, study_name=name, direction="minimize", load_if_exists=True,
                                   sampler=optuna.samplers.TPESampler(seed=sweep.sampler_seed), pruner=pruner)
    except (ValueError, ImportError, RuntimeError) as error:  # a bad URL, a missing database driver
        raise InputError("--storage", f"Optuna cannot open it ({str(error).splitlines()[0][:160]})") from None


def suggest(trial: optuna.Trial, params: dict[str, ParamSpace]) -> dict[str, object]:
    """The trial's value for each searched key, drawn by the study's sampler."""
    values: dict[str, object] = {}
    for key, space in params.items():
        if space.kind == "choice":
            values[key] = trial.suggest_categorical(key, space.choice)
        elif space.kind == "int":
            values[key] = trial.suggest_int(key, *space.int)
        else:
            values[key] = trial.suggest_float(key, *space.bounds, log=space.kind == "log_uniform")
    return values


def as_override(key: str, value: object) -> str:
    """'training.learning_rate=0.0031' as --set text (YAML types it back: 1e-05 stays a float, true a bool)."""
    text = "true" if value is True else "false" if value is False else repr(value) if isinstance(value, float) else str(value)
    return f"{key}={text}"


@dataclass
class TrialRow:
    """One trial as the sweep shows it."""

    number: int
    state: str
    params: dict
    best_val: float | None
    epochs: int
    verdict: str
    reason: str
    run_id: str

    def params_text(self) -> str:
        """'learning_rate=0.0031 dropout=0.2' (the last part of each key)."""
        return " ".join(f"{key.rsplit('.', 1)[-1]}={_short_number(value)}" for key, value in self.params.items())

    def line(self) -> str:
        """The headless line of a finished trial."""
        best = f"{self.best_val:.4f}" if self.best_val is not None else "n/a"
        why = f"; {self.state}: {self.reason}" if self.reason else ""
        return (f"trial {self.number} {self.state} after {self.epochs} epochs: {self.params_text()}; best val {best}; "
                f"{self.verdict or 'no verdict'}{why}; run {self.run_id or '?'}")


def _short_number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trial_row(trial: FrozenTrial) -> TrialRow:
    """The row of one trial, from what the study stores (params, values, user attrs)."""
    attrs, reported = trial.user_attrs, trial.intermediate_values  # a running trial: what it reported so far
    best = attrs.get("best_val", trial.value if trial.value is not None else min(reported.values(), default=None))
    return TrialRow(trial.number, STATE_NAMES.get(trial.state, str(trial.state).lower()), dict(trial.params),
                    best if isinstance(best, (int, float)) and math.isfinite(best) else None, int(attrs.get("epochs", max(reported, default=0))),
                    str(attrs.get("verdict", "")), str(attrs.get("prune_reason", attrs.get("fail_reason", ""))),
                    str(attrs.get("run_id", "")))


def trial_rows(study: optuna.Study) -> list[TrialRow]:
    """Every trial of the study, by number."""
    return [trial_row(trial) for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


def best_so_far(rows: list[TrialRow]) -> list[tuple[int, float]]:
    """(trial number, the best val of any trial up to it) for the trials that have a best val."""
    points, best = [], math.inf
    for row in rows:
        if row.best_val is not None and row.state != "running":
            best = min(best, row.best_val)
            points.append((row.number, best))
    return points


def importances(study: optuna.Study) -> dict[str, float] | str:
    """Optuna's parameter importances, or why there are none yet."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return f"importances need {MIN_TRIALS_FOR_IMPORTANCE} complete trials ({len(complete)} so far)"
    try:
        return optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as error:
        return f"no importances: {str(error).splitlines()[0][:120]}"
