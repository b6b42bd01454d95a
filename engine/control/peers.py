"""The control server's open connections: what they send (hello, controls) and what they are sent (log, replies)."""

from __future__ import annotations

import selectors
import time
from collections import deque
from pathlib import Path

from engine.control import protocol
from engine.control.channel import Control, ControlChannel
from engine.control.connection import Audience, Connection, LineTooLong, State
from engine.control.log_feed import LogFeed
from engine.control.pause_view import PauseView

MAX_REPLIES = 1024 * 1024  # bytes of replies a client may leave unread before it is dropped
ERROR_GRACE_S = 1.0  # how long a connection sent an error may take to read it before it is closed anyway


class Peers:
    """Every open connection, keyed by file descriptor, driven by the server thread alone."""

    def __init__(self, selector: selectors.BaseSelector, controls: ControlChannel, feed: LogFeed,
                 dropped: deque[str], run_id: str, run_dir: Path, max_lag: int, hello_timeout: float) -> None:
        self.audience = Audience()  # connections owed the log: the sink wakes the server only for them
        self.run_ended = False  # set once the run ended: no more notes (nobody takes controls any more)
        self.pause_view = PauseView()  # words the reply to a pause or resume that changes nothing
        self._open: dict[int, Connection] = {}
        self._selector = selector
        self._controls = controls
        self._feed = feed
        self._dropped = dropped
        self._run_id = run_id
        self._run_dir = run_dir
        self._max_lag = max_lag
        self._hello_timeout = hello_timeout

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, sock, pid: int) -> None:
        """Take an accepted, non-blocking socket: it has `hello_timeout` seconds to say hello."""
        client = Connection(sock, pid, time.monotonic() + self._hello_timeout, self.audience)
        self._open[client.fd] = client
        self._selector.register(sock, selectors.EVENT_READ, client)

    def deadlines(self) -> list[float]:
        """When each connection that has one is given up on."""
        return [c.give_up_at for c in self._open.values() if c.give_up_at is not None]

    def make_room(self) -> bool:
        """The server is full: close the oldest connection that has not said hello, so that a new one (the owner's
        attach, which greets at once) gets in; False when every connection has greeted."""
        silent = [c for c in self._open.values() if c.state is State.AWAITING_HELLO]
        if not silent:
            return False
        oldest = min(silent, key=lambda c: c.give_up_at)
        oldest.queue(protocol.error_message("closed to make room: no hello yet and the run's connections are full"))
        oldest.send_queued(self._feed)  # one try, never a wait
        self.drop(oldest, "evicted: no hello while the connections were full")
        return True

    def expire(self, now: float) -> None:
        """Close the connections past their deadline: no hello in time, or an error left unread."""
        for client in list(self._open.values()):
            if client.give_up_at is not None and now >= client.give_up_at:
                silent = client.state is State.AWAITING_HELLO
                self.drop(client, f"no hello within {self._hello_timeout:g} s" if silent else "")

    # -- what they send ----------------------------------------------------------------------------
    def service(self, client: Connection, mask: int) -> None:
        """Handle a selector event on `client`: read and act on what it sent, then send it what it is owed."""
        if client.state is State.CLOSED:
            return  # dropped earlier in this round
        try:
            if mask & selectors.EVENT_READ:
                if not client.receive():
                    self.drop(client, "")
                    return
                self._take_lines(client)
            if client.state is not State.CLOSED:
                self.pump(client)
        except OSError:
            self.drop(client, "")

    def _take_lines(self, client: Connection) -> None:
        try:
            while client.state.takes_input and (line := client.next_line()) is not None:
                self._handle(client, line)
        except LineTooLong as error:
            self._fail(client, str(error))
        if client.pending > MAX_REPLIES and client.state.takes_input:
            self.drop(client, "not reading its replies")

    def _handle(self, client: Connection, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = protocol.decode(line)
        except protocol.ProtocolError as error:
            if client.state is State.STREAMING:
                client.queue(protocol.reply(None, str(error)))
            else:
                self._fail(client, str(error))
            return
        if client.state is State.AWAITING_HELLO:
            self._greet(client, message)
            return
        try:
            control = protocol.to_control(message, client.name, client.pid)
        except protocol.ProtocolError as error:
            client.queue(protocol.reply(protocol.request_id(message), str(error)))
            return
        # Passed on even when it changes nothing: the trainer decides (and logs only a change), so a view of the
        # state that is wrong in a race can make a reply's note wrong, never lose a control.
        note = self.pause_view.note_for(control.action)
        self.pause_view.passed_on(control.action)
        self._controls.put(control)
        client.queue(protocol.reply(protocol.request_id(message), note=note))

    def _greet(self, client: Connection, message: dict) -> None:
        try:
            name, backlog = protocol.check_hello(message)
        except protocol.ProtocolError as error:
            self._fail(client, str(error))
            return
        # Owed the log (counted in the audience) before the look, so the sink wakes us for any line written after it;
        # placed in the log after it, so its backlog is the log up to that look. It is pumped once its lines are read.
        client.greet(name)
        self.catch_up(skip=client)
        client.queue(protocol.server_hello(self._run_id, self._run_dir))
        client.place(self._feed.end, backlog)
        self._controls.put(Control("note", name="client attached", source=f"{client.name} pid {client.pid}"))

    def _fail(self, client: Connection, reason: str) -> None:
        """Send one error line after what is queued, then close once it is out (or after ERROR_GRACE_S)."""
        client.fail(reason, time.monotonic() + ERROR_GRACE_S)

    # -- what they are sent ------------------------------------------------------------------------
    def catch_up(self, skip: Connection | None = None) -> None:
        """Look at the log; hand what was added to every connection owed it, dropping any too far behind."""
        if not self._feed.advance():
            return
        self.pause_view.read(self._feed.state_lines)
        for client in list(self._open.values()):
            if client is skip or not client.state.owed_log:
                continue
            lag = client.lag(self._feed.end)
            if lag > self._max_lag:
                self.drop(client, f"too far behind ({lag} bytes unread)")
            else:
                self.pump(client)

    def pump(self, client: Connection) -> None:
        """Send until the socket would block or nothing is owed; close it once nothing more will reach it."""
        client.send_queued(self._feed)
        if client.ready_to_close:
            self.drop(client, "")
            return
        wants_write = client.pending > 0
        if wants_write != client.watching_writable:
            client.watching_writable = wants_write
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wants_write else 0)
            self._selector.modify(client.sock, events, client)

    # -- the end -----------------------------------------------------------------------------------
    def end_of_run(self) -> None:
        """The run ended: drain the streaming connections (the rest of the log, then bye), close the others."""
        self.run_ended = True
        for client in list(self._open.values()):
            if client.state is State.STREAMING:
                client.drain()
                self.pump(client)
            else:
                self.drop(client, "")

    def drop(self, client: Connection, reason: str) -> None:
        """Close a connection, record why (if it was cut off) and, while the run goes on, note its leaving."""
        if client.state is State.CLOSED:
            return
        del self._open[client.fd]
        reason = reason or client.reason
        if reason:
            self._dropped.append(reason)
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.close()
        if client.name and not self.run_ended:
            note = "client detached" if not reason else f"client dropped: {reason}"
            self._controls.put(Control("note", name=note, source=f"{client.name} pid {client.pid}"))

    def drop_all(self) -> None:
        """Close every connection, owed data or not."""
        for client in list(self._open.values()):
            self.drop(client, "")
