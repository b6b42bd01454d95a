"""Apps that are only the runs browser (`stockpred-tui runs --tui`) or only the compare view (`compare RUN…`)."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from engine.commands.compare import LoadedRun, load_all
from engine.commands.runs import log_dir_problem
from engine.errors import InputError
from engine.file_kinds import check_input, read_regular
from engine.store.log_reader import LOG_EXPECTED
from tui.screens.compare_screen import CompareScreen
from tui.screens.runs_browser import RunsBrowser


class ScreenApp(App):
    """An app that is one screen (and what that screen opens above itself)."""

    BINDINGS = [Binding("ctrl+c", "quit_app", show=False, priority=True)]

    def first_screen(self) -> Screen:
        """The screen this app shows."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.push_screen(self.first_screen())

    def action_quit_app(self) -> None:
        """Nothing here trains: quit at once."""
        self.exit()


class RunsApp(ScreenApp):
    """Hosts the runs browser; compare views and opened runs come and go above it."""

    TITLE = "stockpred-tui runs"

    def __init__(self, log_dir: str | None, extra: list[str] = ()) -> None:
        super().__init__()
        self.log_dir = log_dir
        self.extra = list(extra)

    def first_screen(self) -> Screen:
        return RunsBrowser(self.log_dir, self.extra, standalone=True)


class CompareApp(ScreenApp):
    """Hosts one compare view of runs read before the screen opens (bad paths fail on the command line)."""

    TITLE = "stockpred-tui compare"

    def __init__(self, runs: list[LoadedRun]) -> None:
        super().__init__()
        self.runs = runs

    def first_screen(self) -> Screen:
        return CompareScreen(self.runs, standalone=True)


def runs_app(log_dir: str | None, extra: list[str] = ()) -> RunsApp:
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
    return RunsApp(log_dir, extra)


def compare_app(paths: list[str]) -> CompareApp:
    """The compare view of `paths`; InputError names the first path that is not a run."""
    return CompareApp(load_all(paths))
