"""The app opened on the runs browser (`stockpred-tui runs --tui`) or on the compare view (`compare RUN…`)."""

from __future__ import annotations

from engine.commands.compare import load_all
from engine.commands.runs import log_dir_problem
from engine.errors import InputError
from engine.file_kinds import check_input, read_regular
from engine.store.log_reader import LOG_EXPECTED
from tui.app import StockpredApp
from tui.screens.compare_screen import CompareScreen
from tui.screens.runs_browser import RunsBrowser


def runs_app(log_dir: str | None, extra: list[str] = ()) -> StockpredApp:
    """The browser over `log_dir` and `extra` paths (the CLI and the tests build it here); a path that is missing,
    unreadable, or neither a file nor a directory (a FIFO would block the browser's reader) fails on the command line."""
    for path in extra:
        if not check_input(path, LOG_EXPECTED):
            try:
                read_regular(path, LOG_EXPECTED, 1)
            except OSError as error:
                raise InputError(str(path), f"cannot read ({error.strerror or error})") from None
    problem = log_dir_problem(log_dir) if log_dir is not None else ""
    if problem:
        if not extra or problem != "no such log directory":
            raise InputError(str(log_dir), problem)
        log_dir = None  # only the paths given, e.g. a few Keras CSVs outside any log directory
    return StockpredApp(RunsBrowser(log_dir, extra), "stockpred-tui runs")


def compare_app(paths: list[str]) -> StockpredApp:
    """The compare view of `paths`, read before the screen opens; InputError names the first path that is not a run."""
    return StockpredApp(CompareScreen(load_all(paths)), "stockpred-tui compare")
