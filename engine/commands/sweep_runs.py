"""A sweep's trials as runs: each trial's run (its run_id in the sweep's log_dir), read for the compare view and the
dashboard."""

from __future__ import annotations

from pathlib import Path

from engine.commands.compare import LoadedRun, link_branches, load_run
from engine.commands.runs import run_directory
from engine.commands.sweep_study import TrialRow
from engine.errors import InputError


def trial_runs(rows: list[TrialRow], log_dir: str | Path, judge: bool = True) -> tuple[list[LoadedRun], list[str]]:
    """The runs of `rows` in their order (branches linked); a trial with no run yet, or one whose run cannot be read,
    is a one-line notice instead."""
    runs, notices = [], []
    for row in rows:
        if not row.run_id:
            notices.append(f"trial {row.number}: no run yet; skipped")
            continue
        try:
            runs.append(load_run(run_directory(row.run_id, log_dir), judge))
        except (InputError, OSError) as error:
            notices.append(f"trial {row.number}: {error}")
    return link_branches(runs), notices
