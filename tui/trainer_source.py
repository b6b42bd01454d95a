"""The dashboard's worker: start the trainer process, wait for its socket, then stream its events like `attach`."""

from __future__ import annotations

import subprocess
import threading

from textual.app import App

from engine.commands.run_plan import RunOptions, RunPlan
from engine.commands.trainer_spawn import TrainerProcess
from engine.errors import InputError
from tui.messages import TrainerConnected, TrainerFailed
from tui.sources import SocketSource

READY_TIMEOUT_S = 300.0  # torch and a large CSV on a loaded machine; the socket itself answers within a second


class TrainerProcessSource:
    """Starts and supervises the run's trainer process in a thread worker; the app only ever talks to its socket."""

    def __init__(self, options: RunOptions, plan: RunPlan) -> None:
        self.options = options
        self.plan = plan
        self.trainer: TrainerProcess | None = None
        self._stream: SocketSource | None = None
        self._stopped = threading.Event()

    def start(self, app: App) -> None:
        """Run the supervision in one thread worker (Popen, wait for the socket, connect), once the first frame is
        drawn: on a busy machine the trainer's start-up would otherwise compete with it for the cores."""
        app.call_after_refresh(app.run_worker, lambda: self._supervise(app), thread=True, exit_on_error=False,
                               group="trainer", description="trainer process")

    def _supervise(self, app: App) -> None:
        from engine.control.client import ControlClient

        try:
            self.trainer = TrainerProcess(self.options, self.plan)
            import numpy  # noqa: F401  (while the trainer imports torch: the charts need it once steps arrive)

            self.trainer.wait_until_ready(READY_TIMEOUT_S, self._stopped)
            if self._stopped.is_set():
                return
            client = ControlClient(self.plan.run_dir, "dashboard")
            history, _ = client.read_backlog()
        except (InputError, OSError) as error:
            if not self._stopped.is_set():
                line = self.trainer.error_line() if self.trainer and self.trainer.process.poll() else f"error: {error}"
                app.post_message(TrainerFailed(line))
            return
        self._stream = SocketSource(client)
        app.post_message(TrainerConnected(client, history))
        self._stream.start(app)

    def stop(self) -> None:
        """Leave the run: close the connection; the trainer process trains on."""
        self._stopped.set()
        if self._stream is not None:
            self._stream.stop()

    def exit_status(self, timeout_s: float) -> int | None:
        """The trainer's exit status once it has ended (None while it still runs after `timeout_s`)."""
        if self.trainer is None:
            return None
        try:
            return self.trainer.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None
