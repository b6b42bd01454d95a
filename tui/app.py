"""The one App: it shows a first screen (a run's dashboard, the runs browser or the compare view) and whatever that
screen opens; a crash in any of them is written down and the run goes on."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from tui.client_exit import SIGTERM_EXIT, guard_terminal, on_sigterm, write_crash
from tui.palette import binding_commands
from tui.screens.dashboard_screen import DashboardScreen


class StockpredApp(App):
    """Hosts the screens; quitting, SIGTERM and crashes are the only things it decides."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "stockpred-tui"
    BINDINGS = [Binding("ctrl+c", "quit_app", show=False, priority=True)]

    def __init__(self, first: Screen, title: str | None = None) -> None:
        super().__init__()
        self.first = first
        if title:
            self.title = title
        self.crash_log: Path | None = None
        self.exit_code = 0

    @property
    def dashboard(self) -> DashboardScreen | None:
        """The dashboard on top of the others (a run opened from the browser), else the first screen's, if any."""
        stack = self.screen_stack if self.is_running else [self.first]
        opened = [screen for screen in stack if isinstance(screen, DashboardScreen)]
        return opened[-1] if opened else None

    def on_mount(self) -> None:
        if not self.is_headless:
            guard_terminal()
            if threading.current_thread() is threading.main_thread():
                loop = asyncio.get_running_loop()
                on_sigterm(lambda: loop.call_soon_threadsafe(self._sigterm))

    def get_default_screen(self) -> Screen:
        """The first screen is the bottom of the stack: there from the first frame, never popped."""
        return self.first

    def _sigterm(self) -> None:
        """SIGTERM: the dashboard's mode decides (a client detaches); nothing else here trains."""
        if self.dashboard is not None:
            self.dashboard.mode.sigterm()
        else:
            self.exit_code = SIGTERM_EXIT
            self.exit(SIGTERM_EXIT)

    def _handle_exception(self, error: Exception) -> None:
        """Any exception in any widget: the traceback goes to the run's console.log, the UI leaves, the run goes on."""
        dashboard = self.dashboard
        run_dir = dashboard.run_dir if dashboard is not None else None
        log_dir = (dashboard.history.config.get("log_dir") if dashboard is not None else None) or "logs"
        self.crash_log = write_crash(error, run_dir, log_dir)
        self._return_code = 1
        if self._exception is None:  # Pilot re-raises it for the test that caused it
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()  # Textual's own path, minus the traceback on the terminal

    def get_system_commands(self, screen: Screen):
        """The palette: every key of a dashboard (with the key shown), then Textual's own commands."""
        if isinstance(screen, DashboardScreen):
            yield from binding_commands(self, screen.help_bindings(), screen)
        yield from super().get_system_commands(screen)

    def action_quit_app(self) -> None:
        """Quit: a dashboard's mode asks first where a run is live; elsewhere nothing trains, so at once."""
        if self.dashboard is not None:
            self.dashboard.mode.quit()
        else:
            self.exit()

    async def action_quit(self) -> None:
        """ctrl+q and the palette's Quit take the same path as `q`, never a bare exit."""
        self.action_quit_app()

    def action_help_quit(self) -> None:
        """Textual's ctrl+c hint, for a screen that lets ctrl+c through: quit the same way too."""
        self.action_quit_app()
