"""Several runs side by side: legends from what differs in their configs, per-epoch curves, the aligned table."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import InputError
from engine.events import EpochEvent
from engine.health.baseline import skill_interval
from engine.health.series import smoothed
from engine.store.history import History
from engine.store.log_reader import read_any
from engine.store.log_writer import EVENTS_FILE
from engine.commands.lineage import fork_changes, fork_legend, tree_order
from engine.commands.runs import UNJUDGED, RunSummary, is_live, run_dirs, summarize_history, test_score, worst_finding

METRICS = {"val_loss": "val loss", "train_loss": "train loss", "val_acc": "val direction accuracy",
           "skill": "skill vs baseline", "lr": "learning rate"}
X_AXES = {"epoch": "epoch", "time": "training time (s)"}
SMOOTHING = 0.6
# Short legend names; any other key drops its section (model.hidden_size -> hidden_size).
SHORT_NAMES = {"training.learning_rate": "lr", "model.dropout": "dropout", "training.weight_decay": "wd",
               "model.hidden_size": "hidden", "model.num_layers": "layers", "training.batch_size": "batch"}
# Settings that change where and how a run is logged, not what it learns.
NOT_HYPERPARAMETERS = {"log_dir", "step_event_interval_s", "control_socket", "checkpoint.every_epochs",
                       "checkpoint.keep_last", "training.probes_per_epoch"}
TABLE_COLUMNS = ["run", "label", "epoch", "wall_s", "train_loss", "val_loss", "val_acc", "skill", "lr",
                 "weight_decay", "dropout", "clf_weight", "samples_per_s", "seconds"]
_MISSING = object()


@dataclass
class LoadedRun:
    """One run read for the browser and the compare view: its history and its summary row."""

    path: str
    history: History
    summary: RunSummary
    notices: list[str] = field(default_factory=list)
    parent: LoadedRun | None = field(default=None, repr=False)  # the run this branch forked from, when loaded too
    _curves: dict = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        """The run's id (a foreign CSV's file name)."""
        return self.summary.run_id

    @property
    def followable(self) -> bool:
        """Our own log that has not ended yet: more epochs may still be appended."""
        return self.history.source_format == "stockpred" and self.history.ended is None

    def curve(self, metric: str, by: str = "epoch", ema: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """`curve` of this run from columns kept until the history grows or is replaced; a branch whose parent is
        loaded starts at the fork, on its parent's point there, with time counted from the root run's start (and the
        EMA carried on from the parent's)."""
        if self.parent is None or self.summary.fork_epoch is None:
            return self._cached(("curve", metric, by, ema), lambda: _points(self.column(metric), self.column(by), ema))
        return self._cached(("branch curve", metric, by, ema), lambda: self._branch_curve(metric, by, ema))

    def lineage_column(self, name: str) -> np.ndarray:
        """`column` over the root run's epochs up to each fork and then this run's own ('time' summed along it)."""
        if name == "time":
            return np.cumsum(self.lineage_column("seconds"))
        own = self.column(name)
        parent, fork = self.parent, self.summary.fork_epoch
        if parent is None or fork is None:
            return own
        before = parent.lineage_column("epoch") <= fork
        return np.concatenate([parent.lineage_column(name)[before], own])

    def _branch_curve(self, metric: str, by: str, ema: bool) -> tuple[np.ndarray, np.ndarray]:
        y = self.lineage_column(metric)
        if ema:
            y = np.array(smoothed(y.tolist(), SMOOTHING), dtype=np.float64)
        from_fork = self.lineage_column("epoch") >= self.summary.fork_epoch
        return _points(y[from_fork], self.lineage_column(by)[from_fork], False)

    def column(self, name: str) -> np.ndarray:
        """`column` of this run, kept until the history grows or is replaced."""
        return self._cached(("column", name), lambda: column(self.history, name))

    def _cached(self, key: tuple, compute):
        history = self.history
        version = (id(history), len(history.epochs), max(history.epochs, default=0))
        cached = self._curves.get(key)
        if cached is None or cached[0] != version:
            cached = self._curves[key] = (version, compute())
        return cached[1]

    def refresh_summary(self) -> None:
        """Recompute the summary after the history grew."""
        self.summary = summarize_history(self.history, Path(self.summary.path), self.summary.live)

    def judge(self) -> None:
        """Run the health rules if loading left them for later."""
        if self.summary.finding == UNJUDGED:
            self.summary.finding = worst_finding(self.history)


def _run_directory(path: Path) -> Path | None:
    if path.is_dir():
        return path
    return path.parent if path.name == EVENTS_FILE else None


def load_run(path: str | Path, judge: bool = True) -> LoadedRun:
    """Read a run directory, an events.jsonl, a Keras or a Lightning CSV; InputError when it is not a run.
    Without `judge` the health rules wait for `LoadedRun.judge` (the browser shows the table first)."""
    path = Path(path)
    history, notices = read_any(path)
    directory = _run_directory(path)
    live = directory is not None and history.source_format == "stockpred" and is_live(directory)
    return LoadedRun(str(directory or path), history, summarize_history(history, directory or path, live, judge), notices)


def gather(log_dir: str | Path | None, extra: list[str] = (), judge: bool = True) -> tuple[list[LoadedRun], list[str]]:
    """The runs of `log_dir` (oldest first) and then `extra` paths; each unreadable one becomes a one-line problem."""
    paths = list(run_dirs(log_dir)) if log_dir is not None else []
    paths += [Path(p) for p in extra]
    runs, problems, seen = [], [], set()
    for path in paths:
        key = (_run_directory(path) or path).resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            runs.append(load_run(path, judge))
        except InputError as error:
            problems.append(str(error))
    return link_branches(runs), problems


def load_all(paths: list[str]) -> list[LoadedRun]:
    """Every path as a run; the first that is not one raises InputError (the CLI's `compare`)."""
    return link_branches([load_run(path) for path in paths])


def link_branches(runs: list[LoadedRun]) -> list[LoadedRun]:
    """Point each branch at its parent where both were loaded (`runs` is returned, in its order)."""
    by_id = {run.run_id: run for run in runs if run.history.source_format == "stockpred"}
    order = {run_id: depth for run_id, depth in tree_order(list(by_id), {i: r.summary.parent_id for i, r in by_id.items()})}
    for run in runs:
        parent = by_id.get(run.summary.parent_id or "")
        # Only a parent nearer the root: a loop of parents in hand-edited logs would recurse without end.
        run.parent = parent if parent is not None and order.get(parent.run_id, 0) < order.get(run.run_id, 0) else None
    return runs


def flatten(config: dict, prefix: str = "") -> dict[str, object]:
    """Nested config as dotted keys; lists become tuples so that values compare and hash."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = tuple(value) if isinstance(value, list) else value
    return flat


def differing_keys(configs: list[dict]) -> list[str]:
    """Config keys whose values are not the same in every run that has a config (foreign logs have none)."""
    flats = [flatten(c) for c in configs if c]
    if len(flats) < 2:
        return []
    keys = {k for flat in flats for k in flat} - NOT_HYPERPARAMETERS
    differing = [k for k in keys if len({repr(flat.get(k, _MISSING)) for flat in flats}) > 1]
    order = list(SHORT_NAMES)
    return sorted(differing, key=lambda k: (order.index(k) if k in order else len(order), k))


def short_name(key: str) -> str:
    """The legend's name of a config key."""
    return SHORT_NAMES.get(key) or key.split(".", 1)[-1] or key  # 'a.' keeps its name rather than none


def format_value(value) -> str:
    """A config value as the legend shows it."""
    if value is None or value is _MISSING:
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(format_value(v) for v in value)
    return str(value)


def column_labels(keys: list[str], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """Each config key's column name, unique and never one of `reserved` (a table's built-in columns): its short
    name where that names it alone, else the whole key; a whole key that is itself reserved gets ' (config)'."""
    shorts = {key: short_name(key) for key in keys}
    counts = Counter(shorts.values())
    labels, taken = {}, set(reserved)
    for key in keys:
        short = shorts[key]
        # A short name shared by two keys, or equal to another key's whole name, would not say which key it is.
        alone = counts[short] == 1 and short not in taken and (short == key or short not in shorts)
        label = short if alone else key
        while label in taken:
            label += " (config)"
        labels[key] = label
        taken.add(label)
    return labels


def hyperparameter_columns(runs: list[LoadedRun], reserved: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Column name (see column_labels) -> each run's value, for the keys that differ between the runs."""
    keys = differing_keys([r.history.config for r in runs])
    flats = [flatten(r.history.config) for r in runs]
    labels = column_labels(keys, reserved)
    return {labels[k]: [format_value(f.get(k, _MISSING)) if f else "–" for f in flats] for k in keys}


def legend_labels(runs: list[LoadedRun]) -> list[str]:
    """Each run named by what differs, e.g. 'lr 0.002 · dropout 0.35'; the run id where nothing does or no config."""
    keys = differing_keys([r.history.config for r in runs])
    names = column_labels(keys)
    labels = []
    for run in runs:
        flat = flatten(run.history.config)
        changed = fork_changes(run.history, short_name)
        edited = {name.split(" ", 1)[0] for name in changed}
        parts = [f"{names[k]} {format_value(flat.get(k, _MISSING))}" for k in keys
                 if short_name(k) not in edited] if flat else []
        parts = [fork_legend(run.history, short_name), *parts] if changed else parts
        labels.append(" · ".join(parts) or run.run_id)
    counts = {label: labels.count(label) for label in labels}
    return [f"{label} · {run.run_id}" if counts[label] > 1 and label != run.run_id else label
            for label, run in zip(labels, runs)]


def column(history: History, name: str) -> np.ndarray:
    """One epoch-table column as floats (NaN where missing); also 'skill' (vs baseline) and 'time' (cumulative
    training seconds, pauses excluded)."""
    if name == "time":
        return np.cumsum(column(history, "seconds"))
    rows = history.rows()
    values = [history.skill(r) for r in rows] if name == "skill" else [getattr(r, name, None) for r in rows]
    return np.array([v if isinstance(v, (int, float)) else math.nan for v in values], dtype=np.float64)


def _points(y: np.ndarray, x: np.ndarray, ema: bool) -> tuple[np.ndarray, np.ndarray]:
    if ema:
        y = np.array(smoothed(y.tolist(), SMOOTHING), dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def curve(history: History, metric: str, by: str = "epoch", ema: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One run's curve of `metric` against epochs or training time, optionally EMA-smoothed; non-finite points
    dropped (a foreign log without timings has no points against time)."""
    return _points(column(history, metric), column(history, by), ema)


@dataclass
class RunStats:
    """A row of the compare table."""

    best_val: float | None
    best_epoch: int | None
    skill: float | None
    skill_low: float | None
    skill_high: float | None
    val_acc: float | None
    verdict: str
    samples_per_s: float | None
    duration_s: float | None
    test_skill: float | None = None  # the best checkpoint on the held-out test split, with its 95% interval
    test_low: float | None = None
    test_high: float | None = None


def run_stats(run: LoadedRun) -> RunStats:
    """Best val and its epoch, skill there with its 95% interval, accuracy there, the verdict, speed and duration, and
    the held-out test skill with its interval where the run logged one."""
    run.judge()
    s, history = run.summary, run.history
    row: EpochEvent | None = history.epochs.get(s.best_epoch) if s.best_epoch is not None else None
    skill = history.skill(row) if row is not None else None  # the same function as the summary's: the views agree
    interval = skill_interval(history, row) if row is not None else None
    low, high = (interval[1], interval[2]) if interval else (None, None)
    return RunStats(s.best_val, s.best_epoch, skill, low, high, s.val_acc, s.finding, s.samples_per_s, s.duration_s,
                    s.test_skill, test_score(history, "skill_low"), test_score(history, "skill_high"))


def aligned_table(runs: list[LoadedRun], labels: list[str] | None = None) -> pd.DataFrame:
    """One row per run and epoch with the same columns for every run (NaN where a log lacks one)."""
    labels = labels or legend_labels(runs)
    frames = []
    for run, label in zip(runs, labels):
        logged = [c for c in TABLE_COLUMNS if c not in ("run", "label", "wall_s", "skill")]
        frame = pd.DataFrame(run.history.records(), columns=logged)
        frame = frame.apply(pd.to_numeric, errors="coerce")
        frame.insert(0, "run", run.run_id)
        frame.insert(1, "label", label)
        frame["wall_s"] = column(run.history, "time")
        frame["skill"] = column(run.history, "skill")
        frames.append(frame[TABLE_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def compare_csv(paths: list[str], out: str, force: bool = False) -> int:
    """`stockpred-tui compare RUN… --csv OUT`: the aligned table, refusing to overwrite without --force."""
    from engine.commands.output_file import check_output, write_atomically

    target = Path(out)
    check_output(target, force)
    runs = load_all(paths)
    table = aligned_table(runs)
    write_atomically(target, table.to_csv(index=False))
    print(f"wrote {len(table)} rows ({len(runs)} runs x epochs, {len(table.columns)} columns) to {target}")
    return 0
