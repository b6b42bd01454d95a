"""The one owner of a run's directory, log and control endpoint: opened together, closed together on every path.

Torch-free at import: the trainer process opens its run (and serves its socket) before it imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.config import Config
from engine.control.channel import ControlChannel
from engine.events import Event
from engine.store.log_writer import EVENTS_FILE, RunLog, append_line, continued_run_dir, new_run_dir
from engine.training.world import World

EventSink = Callable[[Event], None]


def planned_run_dir(resume_path: str | Path | None = None, run_dir: str | Path | None = None) -> Path | None:
    """The directory a run will write to, when known before it starts: the one given, or the one a resume continues.

    None means a new directory, made under log_dir when the run opens (not before: a run that fails to start
    leaves nothing behind).
    """
    return Path(run_dir) if run_dir else continued_run_dir(resume_path)


class RunResources:
    """A context manager over the run directory, its RunLog and its ControlServer (rank 0 owns all three).

    `open()` raises OSError when the directory or the log cannot be made; a control socket that cannot be bound
    is not fatal: `endpoint_problem` says why, and the run goes on without attach. Closing flushes the log
    first, then lets the endpoint hand clients their last lines, even when the log's close fails.
    """

    def __init__(self, config: Config, world: World, controls: ControlChannel, resume_path: str | None = None,
                 run_dir: str | Path | None = None) -> None:
        self.config = config
        self.world = world
        self.controls = controls
        self.run_dir: Path | None = planned_run_dir(resume_path, run_dir)
        self.log: RunLog | None = None
        self.endpoint = None
        self.endpoint_problem: str | None = None
        self._log_writable = False
        self._opened = False

    @property
    def run_id(self) -> str:
        """The run directory's name ('' before it is known)."""
        return self.run_dir.name if self.run_dir else ""

    def open(self) -> "RunResources":
        """Make or reopen the directory, open the log, start the endpoint; returns self for a `with` block."""
        if self._opened:
            return self
        self._opened = True
        try:
            self._open_dir()
            if self.world.is_main:
                self.log = RunLog(self.run_dir, self.config.model_dump())
                self._log_writable = True
                self._start_endpoint()
        except BaseException:
            self.close()
            raise
        return self

    def _open_dir(self) -> None:
        if self.world.is_main and self.run_dir is None:
            self.run_dir = new_run_dir(self.config.log_dir)
        if self.world.distributed:  # every rank learns where the log is, to record its own fatal error there
            import torch.distributed as dist

            shared = [str(self.run_dir) if self.world.is_main else None]
            dist.broadcast_object_list(shared, src=0)
            self.run_dir = Path(shared[0])

    def _start_endpoint(self) -> None:
        if not self.config.control_socket:
            return
        from engine.control.server import ControlServer  # only a run with a socket pays for the import

        server = ControlServer(self.run_dir, self.controls, self.log.path, self.run_id)
        try:
            server.start()
        except OSError as error:
            self.endpoint_problem = (f"{server.path}: control socket unavailable ({error.strerror or error}); "
                                     f"the run goes on without attach")
            return
        self.endpoint = server

    def sinks_around(self, sinks: list[EventSink]) -> list[EventSink]:
        """Where an event goes: the log first (what it holds is the record), then `sinks`, then the endpoint."""
        if not self._opened:
            return sinks
        return [*([self.log] if self._log_writable else []), *sinks, *([self.endpoint] if self.endpoint else [])]

    def drop_log(self) -> None:
        """Stop writing to a log the disk refuses, so the end of the run still reaches the other sinks."""
        self._log_writable = False

    def record_from_other_rank(self, event: Event) -> None:
        """A rank other than 0 appends one whole line to rank 0's log (safe beside its writes)."""
        append_line(self.run_dir / EVENTS_FILE, event)

    def close(self) -> None:
        """Flush and close the log, then the endpoint; safe to call twice."""
        log, endpoint = self.log, self.endpoint
        self._log_writable, self._opened, self.log, self.endpoint = False, False, None, None
        try:
            if log is not None:
                log.close()
        finally:
            if endpoint is not None:
                endpoint.close()

    def __enter__(self) -> "RunResources":
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()
