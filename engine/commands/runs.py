"""The runs in a log directory: which are live, which crashed, and how to get back into each (no torch here)."""

from __future__ import annotations

import math
import os
import shlex
import stat
import zipfile
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable

from engine.control.connection import listening
from engine.control.protocol import SOCKET_FILE, socket_address
from engine.errors import InputError
from engine.events import EndReason
from engine.file_kinds import kind_of
from engine.health import run_rules
from engine.store.history import History, RunState
from engine.store.log_reader import read_jsonl
from engine.store.log_writer import EVENTS_FILE
from engine.commands.lineage import fork_of


class RunStatus(StrEnum):
    """The runs table's word for one of our runs whose log has no end: live (running, paused) or crashed. An ended
    run shows its EndReason, a foreign CSV its format."""

    RUNNING = "running"
    PAUSED = "paused"
    CRASHED = "crashed"


LIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED})
# The states for which the runs table shows the command that continues the run from its newest checkpoint.
RESUMABLE = frozenset({RunStatus.CRASHED, EndReason.STOPPED, EndReason.INTERRUPTED, EndReason.ERROR})
NO_WARNING = "ok"  # the finding column when no rule warns; the compare view's verdict says the same
UNJUDGED = "…"  # the finding column before the rules have run
UNREAD = "–"  # the finding column of a log that could not be read


@dataclass
class RunSummary:
    """One row of `stockpred-tui runs`."""

    run_id: str
    path: str
    state: str
    epoch: int
    epochs: int | None
    best_val: float | None
    skill: float | None
    finding: str
    started: float | None
    resume: str | None
    best_epoch: int | None = None
    val_acc: float | None = None
    samples_per_s: float | None = None
    duration_s: float | None = None
    test_skill: float | None = None  # the best checkpoint's skill on the held-out test split, once the run logged it
    parent_id: str | None = None  # a branch: the run it was forked from, and the epoch of the fork
    fork_epoch: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @property
    def live(self) -> bool:
        """A process still trains this run (it answers on the control socket)."""
        return self.state in LIVE


def is_live(run_dir: Path) -> bool:
    """True when a process answers on the run's control socket (a crashed run leaves a dead socket file)."""
    path = Path(run_dir) / SOCKET_FILE
    if not path.exists():
        return False
    with socket_address(path) as address:
        return listening(address)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The most recent checkpoint file that is a complete torch archive (temporaries and torn files skipped)."""
    candidates = [p for p in (Path(run_dir) / "checkpoints").glob("*.pt") if not p.name.startswith(".")]
    for path in sorted(candidates, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            with zipfile.ZipFile(path) as archive:
                if any(name.endswith("data.pkl") for name in archive.namelist()):
                    return path
        except (zipfile.BadZipFile, OSError):
            continue
    return None


def resume_command(checkpoint: Path | str, headless: bool = True) -> str:
    """The exact command that continues a run from `checkpoint`."""
    return f"stockpred-tui {'train ' if headless else ''}--resume {shlex.quote(str(checkpoint))}"


def _state(history: History, live: bool) -> str:
    """The runs table's state: a foreign log's format, an ended run's reason, else live or crashed."""
    if history.source_format != "stockpred":
        return history.source_format  # a Keras or Lightning CSV: no run state to tell
    if history.ended is not None:
        return history.ended.reason
    if live:
        return RunStatus.PAUSED if history.state is RunState.PAUSED else RunStatus.RUNNING
    return RunStatus.CRASHED


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _foreign_id(path: Path) -> str:
    """A CSV's name without .csv; Lightning names every file metrics.csv, so its version folder leads; a TensorBoard
    event file is named by its folder."""
    if path.name.startswith("events.out.tfevents."):
        return path.parent.name
    return f"{path.parent.name}/{path.stem}" if path.stem == "metrics" else path.stem


def summarize(run_dir: Path) -> RunSummary:
    """Read one run directory into a summary row."""
    history, _ = read_jsonl(run_dir)
    return summarize_history(history, Path(run_dir), is_live(run_dir))


def worst_finding(history: History) -> str:
    """'severity: rule' of the most severe warning or critical finding, or 'ok'."""
    findings = [f for f in run_rules(history) if f.severity in ("critical", "warning")] if history.epochs else []
    return f"{findings[0].severity}: {findings[0].rule}" if findings else NO_WARNING


def summarize_history(history: History, run_dir: Path, live: bool, judge: bool = True) -> RunSummary:
    """A summary row of a history already read (a run directory or a foreign CSV at `run_dir`); without `judge`
    the health rules are left for later and the finding reads '…'."""
    state = _state(history, live)
    rows = history.rows()
    best_row = min((r for r in rows if _finite(r.val_loss)), key=lambda r: r.val_loss, default=None)
    speeds = sorted(r.samples_per_s for r in rows if _finite(r.samples_per_s))
    seconds = [r.seconds for r in rows if _finite(r.seconds)]
    finding = worst_finding(history) if judge else UNJUDGED
    if state == EndReason.ERROR and history.fatal_error and not history.epochs:
        finding = f"error: {history.fatal_error}"  # failed before training (a bad CSV after `train --detach`)
    resume = None
    if state in RESUMABLE and Path(run_dir).is_dir():
        checkpoint = newest_checkpoint(run_dir)
        resume = resume_command(checkpoint) if checkpoint else None
    training = history.config.get("training")
    epochs = training.get("epochs") if isinstance(training, dict) else None  # a foreign or hand-written config
    run_id = history.run.run_id if history.run and history.source_format == "stockpred" else _foreign_id(Path(run_dir))
    return RunSummary(run_id, str(run_dir), state, max(history.epochs, default=0), epochs,
                      best_row.val_loss if best_row else None, history.skill(best_row) if best_row else None, finding,
                      history.started, resume,
                      best_row.epoch if best_row else None, best_row.val_acc if best_row else None,
                      speeds[len(speeds) // 2] if speeds else None, sum(seconds) if seconds else None,
                      test_score(history, "skill"), *fork_of(history))


def test_score(history: History, key: str) -> float | None:
    """One number of the held-out test event's total (skill, skill_low, acc, …), or None before one was logged."""
    total = history.test.total if history.test is not None else None
    value = total.get(key) if isinstance(total, dict) else None
    return value if _finite(value) else None


def log_dir_problem(log_dir: str | Path) -> str:
    """Why `log_dir` cannot hold runs ('' when it can): missing, or a file, FIFO or device rather than a directory."""
    try:
        mode = os.stat(log_dir).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "no such log directory"
    except OSError as error:
        return f"cannot read ({error.strerror})"
    return "" if stat.S_ISDIR(mode) else f"is {kind_of(mode)}, not a directory; expected the directory runs are logged in"


def run_dirs(log_dir: str | Path) -> list[Path]:
    """Run directories under `log_dir`, oldest first (ids sort by start time)."""
    root = Path(log_dir)
    problem = log_dir_problem(root)
    if problem:
        raise InputError(str(root), problem)
    return sorted(p for p in root.iterdir() if (p / EVENTS_FILE).is_file())


def list_runs(log_dir: str | Path) -> list[RunSummary]:
    """Every readable run in `log_dir`, oldest first; unreadable ones are reported as such."""
    summaries = []
    for path in run_dirs(log_dir):
        try:
            summaries.append(summarize(path))
        except InputError as error:
            summaries.append(RunSummary(path.name, str(path), f"unreadable ({error.problem})", 0, None, None, None,
                                        UNREAD, None, None))
    return summaries


def _looks_like_an_id(target: str) -> bool:
    """A run id is one name without a suffix (20261124-090000-a1b2); 'nope.jsonl' or 'a/b' is a path."""
    return bool(target) and "/" not in target and "." not in target


def resolve_run(target: str, log_dir: str | Path | Callable[[], str | Path]) -> Path:
    """RUN as a path: an existing path as it is, else a run id in `log_dir` (called first when a function, so a
    config.yaml is read only for an id). An unknown id is an InputError naming it and the directory searched; a
    missing path goes on as it is, for the reader to say what is missing."""
    path = Path(target)
    if os.path.lexists(path) or not _looks_like_an_id(target):
        return path
    root = Path(log_dir() if callable(log_dir) else log_dir)
    if (root / target).is_dir():
        return root / target
    raise InputError(target, f"no such run (neither a path nor a run id in {root})")

def run_directory(target: str, log_dir: str | Path | Callable[[], str | Path]) -> Path:
    """RUN as `attach` reads it: a run directory, else a run id under `log_dir`."""
    run = resolve_run(target, log_dir)
    if not run.is_dir():
        raise InputError(target, f"no such run (neither a directory nor a run id in {log_dir})")
    return run


def find_socket(target: str | None, log_dir: str | Path) -> Path:
    """The control socket of RUN (an id, a run directory or a socket path), or of the newest live run."""
    if target is None:
        live = [p for p in reversed(run_dirs(log_dir)) if is_live(p)]
        if not live:
            raise InputError(str(log_dir), "no live run here (start one with `stockpred-tui train --detach`)")
        return live[0] / SOCKET_FILE
    path = Path(target)
    candidate = path if path.name == SOCKET_FILE or path.is_socket() else run_directory(target, log_dir) / SOCKET_FILE
    if not is_live(candidate.parent):
        raise InputError(str(candidate.parent), "not live (the run ended or crashed; see `stockpred-tui runs`)")
    return candidate


def _number(value: float | None, fmt: str) -> str:
    return "–" if value is None or not math.isfinite(value) else format(value, fmt)


def print_runs(log_dir: str | Path, as_json: bool = False) -> int:
    """`stockpred-tui runs`: one line per run (or JSON), with the resume command where one is needed."""
    import json
    import time

    summaries = list_runs(log_dir)
    if as_json:
        print(json.dumps([s.to_dict() for s in summaries], indent=2))
        return 0
    if not summaries:
        print(f"no runs in {log_dir}")
        return 0
    print(f"{'run':22} {'state':12} {'epoch':>11} {'best val':>9} {'skill':>7}  {'started':16}  finding")
    for s in summaries:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started)) if s.started else "–"
        progress = f"{s.epoch}/{s.epochs}" if s.epochs else str(s.epoch)
        print(f"{s.run_id:22} {s.state:12} {progress:>11} {_number(s.best_val, '.4f'):>9} "
              f"{_number(s.skill, '+.1%'):>7}  {started:16}  {s.finding}")
        if s.resume:
            print(f"{'':22} resume: {s.resume}")
    return 0
