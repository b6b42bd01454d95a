"""A live run's control endpoint: its events (backlog, then live) and its controls on a Unix socket.

It uses the standard library's `selectors` and non-blocking `socket`s, all served by one daemon thread (not asyncio):
the training thread only writes the log and calls the sink, which at most sends one byte on a socketpair to wake the
server thread. The pieces: listener.py (the listening socket), peers.py (each connection's reading and sending),
connection.py (one connection's state machine), log_feed.py (the log as it is handed out).
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from collections import deque
from pathlib import Path

from engine.control import protocol
from engine.control.channel import ControlChannel
from engine.control.connection import Connection, refuse
from engine.control.listener import Listener
from engine.control.log_feed import LogFeed
from engine.control.peers import Peers
from engine.events import Event

COALESCE_S = 0.002  # at most one look at the log per 2 ms: a burst of events costs one wake-up, not one each
IDLE_LOOK_S = 1.0  # a look at the log at least this often: a line some other writer appended still goes out


class Wakeup:
    """The training thread's nudge to the server thread: a socketpair the selector watches, and a flag that keeps the
    sink to one byte per look at the log.

    The flag is a benign race, by design lock-free: only the training thread sets it (`nudge`), only the server thread
    clears it (`rearm`), and the server clears it *before* it looks at the log. A nudge that still sees it set comes
    after a line already written and before a look yet to come, which will see that line; one that sees it clear
    sends a byte, so another look follows. A race costs at most one extra look, never a line.
    """

    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)
        self.pending = False

    def nudge(self) -> None:
        """Training thread: ask for a look at the log unless one is already due. Never blocks or raises."""
        if not self.pending:
            self.pending = True
            self.ring()

    def ring(self) -> None:
        """Wake the server thread (any thread)."""
        try:
            self._writer.send(b"w")
        except OSError:
            pass  # a full wake socket already means "wake up"; a closed one, that the server is gone

    def drain(self) -> None:
        """Server thread: empty the socketpair."""
        try:
            while self.reader.recv(4096):
                pass
        except BlockingIOError:
            pass

    def rearm(self) -> None:
        """Server thread, just before it looks at the log: the next nudge sends a byte again."""
        self.pending = False

    def close(self) -> None:
        """Close both ends."""
        self.reader.close()
        self._writer.close()


class ControlServer:
    """Serves a live run's events and takes its controls on a Unix socket in the run directory."""

    def __init__(self, run_dir: Path, controls: ControlChannel, log_path: Path, run_id: str = "",
                 max_clients: int = 32, max_lag: int = 16 * 1024 * 1024, hello_timeout: float = 5.0) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / protocol.SOCKET_FILE
        self.controls = controls
        self.log_path = Path(log_path)
        self.run_id = run_id or self.run_dir.name
        self.max_clients = max_clients
        self.owner_uid = os.getuid()  # the only uid let in
        self.dropped: deque[str] = deque(maxlen=100)  # why the latest clients were cut off, for tests and the curious
        self._selector = selectors.DefaultSelector()
        self._feed = LogFeed(self.log_path)
        self._listener = Listener(self.path, self._selector, self.dropped)
        self._peers = Peers(self._selector, controls, self._feed, self.dropped, self.run_id, self.run_dir, max_lag,
                            hello_timeout)
        self._audience = self._peers.audience  # read by the sink, on the training thread
        self._wakeup: Wakeup | None = None
        self._last_look = 0.0
        self._look_at: float | None = None  # a look put off to coalesce a burst of events
        self._stop_at: float | None = None  # set by close(): give up on unflushed clients then
        self._shutting_down = False  # the server thread has begun ending: no listener, clients draining
        self._thread: threading.Thread | None = None

    @property
    def connections(self) -> int:
        """Connections open right now, greeted or not."""
        return len(self._peers)

    # -- lifecycle (any thread) --------------------------------------------------------------------
    def start(self) -> None:
        """chmod the run dir 0700, bind the socket 0600, serve in a daemon thread; OSError if it cannot bind."""
        os.chmod(self.run_dir, 0o700)
        self._listener.open()
        self._wakeup = Wakeup()
        self._selector.register(self._wakeup.reader, selectors.EVENT_READ, self._wakeup)
        self._thread = threading.Thread(target=self._serve, name="control-server", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        """Event sink: RunLog already wrote `event`; wake the server to send the new lines. Never blocks or raises."""
        # Nobody owed the log: a new client's backlog reads this line from the file. A look already due: it will see it.
        if self._audience.size and not self._wakeup.pending:
            self._wakeup.nudge()

    def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, hand clients what they are owed (at most `timeout` s), close all, unlink the socket."""
        thread = self._thread
        if thread is None or self._stop_at is not None:
            return
        self._stop_at = time.monotonic() + timeout
        self._wakeup.ring()
        thread.join(timeout + 1.0)

    # -- the server thread -------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            while True:
                if self._stop_at is not None and not self._shutting_down:
                    self._begin_shutdown()
                if self._done():
                    return
                for key, mask in self._selector.select(self._next_timeout()):
                    try:
                        if key.data is self._listener:
                            self._accept()
                        elif key.data is self._wakeup:
                            self._on_wake()
                        else:
                            self._peers.service(key.data, mask)
                    except Exception as error:  # a bug must cost one connection, never the endpoint
                        self.dropped.append(f"internal error: {type(error).__name__}: {error}")
                        if isinstance(key.data, Connection):
                            self._peers.drop(key.data, "")
                try:
                    self._on_timers(time.monotonic())
                except Exception as error:
                    self.dropped.append(f"internal error: {type(error).__name__}: {error}")
        finally:
            self._close_everything()

    def _begin_shutdown(self) -> None:
        """close() was called: stop listening, look at the log a last time, drain the streaming clients."""
        self._shutting_down = True
        self._listener.close()
        self._peers.catch_up()
        self._peers.end_of_run()

    def _done(self) -> bool:
        """Whether the server thread may end: shutting down, and every client flushed or out of time."""
        return self._shutting_down and (not len(self._peers) or time.monotonic() >= self._stop_at)

    def _next_timeout(self) -> float:
        now = time.monotonic()
        deadlines = [now + IDLE_LOOK_S, *self._peers.deadlines()]
        for deadline in (self._look_at, self._stop_at, self._listener.paused_until):
            if deadline is not None:
                deadlines.append(deadline)
        return max(0.0, min(deadlines) - now)

    def _on_wake(self) -> None:
        self._wakeup.drain()
        if time.monotonic() - self._last_look >= COALESCE_S:
            self._look_at_log()
        elif self._look_at is None:
            # Events in a burst: send them together a moment later; the sink stays quiet until then.
            self._look_at = self._last_look + COALESCE_S

    def _look_at_log(self) -> None:
        """Rearm the wake-up, then look at the log (in this order, so no write goes unseen)."""
        self._look_at = None
        self._wakeup.rearm()
        self._last_look = time.monotonic()
        self._peers.catch_up()

    def _on_timers(self, now: float) -> None:
        self._peers.expire(now)
        self._listener.resume_if_due(now)
        due = self._look_at is not None and now >= self._look_at
        if self._stop_at is None and (due or now - self._last_look >= IDLE_LOOK_S):
            self._look_at_log()

    def _accept(self) -> None:
        for sock, pid, uid in self._listener.accept():
            refusal = protocol.peer_refusal(uid, self.owner_uid)
            if not refusal and len(self._peers) >= self.max_clients and not self._peers.make_room():
                refusal = f"too many clients (at most {self.max_clients})"
            if refusal:
                refuse(sock, refusal)
                continue
            sock.setblocking(False)
            self._peers.admit(sock, pid)

    def _close_everything(self) -> None:
        self._listener.close()
        self._peers.drop_all()
        self._selector.close()
        self._wakeup.close()
        self._feed.close()
