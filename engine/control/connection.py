"""One control-socket connection as a state machine, and the socket primitives the server builds on.

A connection goes AWAITING_HELLO → STREAMING → DRAINING → FLUSHING → CLOSED, skipping ahead where it must (a bad hello
goes straight to FLUSHING with its error; a hang-up goes to CLOSED from anywhere). Every change of state is one of the
named TRANSITIONS and passes through `Connection._to`, which refuses an illegal one and keeps the server's `Audience`
(how many connections are owed the log) in step with the states.

"Deaf" (the peer stopped reading: a send failed) is a flag, not a state: it is about the peer's half of the socket,
not about where the conversation stands. A deaf STREAMING connection is still STREAMING for everything it sends (its
controls are applied, it is still owed the log and dropped if it falls too far behind); in every later state deafness
ends the connection at once, so it never needs a phase of its own.
"""

from __future__ import annotations

import enum
import os
import socket
import stat
import struct
from typing import Protocol

from engine.control import protocol

CREDENTIALS = struct.Struct("3i")  # SO_PEERCRED: pid, uid, gid
RECV = 65536  # bytes read from a connection per readable event


class State(enum.Enum):
    """Where a connection stands: what the server reads from it and what it owes it follow from this alone."""

    AWAITING_HELLO = "awaiting hello"  # accepted; its first line must be a valid hello before `give_up_at`
    STREAMING = "streaming"  # greeted: handed the log as it grows, its controls applied and answered
    DRAINING = "draining"  # the run ended: owed the log up to its end, then a bye; what it says is ignored
    FLUSHING = "flushing"  # its last message (an error or the bye) is queued: closed once that is sent
    CLOSED = "closed"  # socket closed and forgotten

    @property
    def takes_input(self) -> bool:
        """Whether the server still acts on the lines it sends."""
        return self in (State.AWAITING_HELLO, State.STREAMING)

    @property
    def owed_log(self) -> bool:
        """Whether the server still owes it log lines (and so wants waking when one is written)."""
        return self in (State.STREAMING, State.DRAINING)


OPEN = frozenset(State) - {State.CLOSED}
# Each transition: the states it may start from, and the state it leads to. Nothing else changes a state.
TRANSITIONS = {
    "greet": (frozenset({State.AWAITING_HELLO}), State.STREAMING),
    "fail": (frozenset({State.AWAITING_HELLO, State.STREAMING}), State.FLUSHING),
    "drain": (frozenset({State.STREAMING}), State.DRAINING),
    "say_bye": (frozenset({State.DRAINING}), State.FLUSHING),
    "close": (OPEN, State.CLOSED),
}


class TransitionError(RuntimeError):
    """A state change the connection's state machine does not allow: a bug in the server, never the peer's doing."""


class LineTooLong(protocol.ProtocolError):
    """A client line past protocol.MAX_LINE; str() is the error sent back before the connection closes."""


class Audience:
    """How many connections are owed the log. Only `Connection._to` changes it, on the server thread; the training
    thread's sink reads it (one int read: no lock, never stale by more than the change being made)."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        self.size = 0


class LogSource(Protocol):
    """What a connection needs of the log to fill its outbox (engine.control.log_feed.LogFeed)."""

    end: int

    def read(self, start: int, limit: int) -> bytes: ...


class Connection:
    """One connection: its state, its inbox and outbox, and where it stands in the log."""

    def __init__(self, sock: socket.socket, pid: int, give_up_at: float, audience: Audience) -> None:
        self.sock = sock
        self.fd = sock.fileno()  # its key in the server's table, still known once the socket is closed
        self.pid = pid
        self.state = State.AWAITING_HELLO
        self.name = ""  # the client's name from its hello; set once greeted
        self.give_up_at: float | None = give_up_at  # hello deadline, then the grace after an error; None otherwise
        self.reason = ""  # why the server is closing it (the error it was sent)
        self.deaf = False  # the peer stopped reading: nothing more is sent, what it sends still counts
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.outbox_sent = 0
        self.log_offset = 0  # next byte of the log to queue
        self.backlog_end: int | None = None  # log offset where its backlog ends and backlog_end goes; None once sent
        self.watching_writable = False  # whether the selector watches it for EVENT_WRITE
        self._audience = audience

    def __repr__(self) -> str:
        return f"<Connection pid {self.pid} {self.state.value}{' deaf' if self.deaf else ''}>"

    # -- transitions -------------------------------------------------------------------------------
    def _to(self, transition: str) -> None:
        sources, new = TRANSITIONS[transition]
        old = self.state
        if old not in sources:
            raise TransitionError(f"connection pid {self.pid}: {old.value} -> {new.value} ({transition}) "
                                  f"is not a legal transition")
        self._audience.size += new.owed_log - old.owed_log
        self.state = new

    def greet(self, name: str) -> None:
        """AWAITING_HELLO → STREAMING: owed the log from now on (`place` says from where)."""
        self._to("greet")
        self.name = name
        self.give_up_at = None

    def place(self, log_end: int, backlog: bool) -> None:
        """Start it at the beginning of the log with the marker at `log_end` (backlog), or at `log_end` (live only)."""
        self.log_offset = 0 if backlog else log_end
        self.backlog_end = log_end if backlog else None

    def fail(self, reason: str, give_up_at: float) -> None:
        """AWAITING_HELLO or STREAMING → FLUSHING: queue one error line after what is queued; closed once it is out."""
        self._to("fail")
        self.queue(protocol.error_message(reason))
        self.reason = reason
        self.give_up_at = give_up_at

    def drain(self) -> None:
        """STREAMING → DRAINING: the run ended; it is owed the rest of the log, then a bye."""
        self._to("drain")

    def say_bye(self) -> None:
        """DRAINING → FLUSHING: it has been handed the whole log; the bye is its last message."""
        self._to("say_bye")
        self.queue({"type": "bye", "reason": "run ended"})

    def close(self) -> None:
        """Any open state → CLOSED: close the socket."""
        self._to("close")
        self.sock.close()

    @property
    def ready_to_close(self) -> bool:
        """Nothing more will reach it: its last message is sent, or it stopped reading once the server stopped too."""
        if self.state is State.FLUSHING and not self.pending:
            return True
        return self.deaf and self.state in (State.DRAINING, State.FLUSHING)

    # -- input -------------------------------------------------------------------------------------
    def receive(self) -> bool:
        """Read what it sent (kept only while the server takes its input); False once it hung up."""
        data = self.sock.recv(RECV)
        if self.state.takes_input:
            self.inbox += data
        return bool(data)

    def next_line(self) -> bytes | None:
        """The next complete line it sent, without its newline; None until one is complete; LineTooLong past MAX_LINE."""
        end = self.inbox.find(b"\n")
        if end + 1 > protocol.MAX_LINE or (end < 0 and len(self.inbox) >= protocol.MAX_LINE):
            raise LineTooLong(f"message longer than {protocol.MAX_LINE} bytes")
        if end < 0:
            return None
        line = bytes(self.inbox[:end])
        del self.inbox[:end + 1]
        return line

    # -- output ------------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Bytes queued but not yet sent."""
        return len(self.outbox) - self.outbox_sent

    def queue(self, message: dict) -> None:
        """Queue a protocol message after what is already queued (always on a line boundary)."""
        if not self.deaf:
            self.outbox += protocol.encode(message)

    def lag(self, log_end: int) -> int:
        """Bytes of the log up to `log_end` it has not been handed yet."""
        return log_end - max(self.log_offset, self.backlog_end or 0)

    def send_queued(self, log: LogSource) -> None:
        """Send what is queued, refilling from the log while it is owed some, until the socket would block."""
        if self.deaf:
            return
        try:
            while True:
                if not self.pending:
                    self.outbox.clear()
                    self.outbox_sent = 0
                    if self.state.owed_log:
                        self._refill(log)
                    if not self.pending:
                        return
                self.outbox_sent += self.sock.send(memoryview(self.outbox)[self.outbox_sent:])
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            # It hung up, maybe right after sending "stop": keep reading until EOF so no control is lost.
            self.deaf = True
            self.outbox.clear()
            self.outbox_sent = 0

    def _refill(self, log: LogSource) -> None:
        """Queue what it is owed next: the backlog marker where it falls, a line-aligned piece of the log, or the bye."""
        if self.backlog_end is not None and self.log_offset == self.backlog_end:
            self.outbox += protocol.BACKLOG_END
            self.backlog_end = None
        limit = self.backlog_end if self.backlog_end is not None else log.end
        if self.log_offset < limit:
            data = log.read(self.log_offset, limit)
            self.outbox += data
            self.log_offset += len(data)
        elif self.state is State.DRAINING and self.log_offset >= log.end:
            self.say_bye()


def peer_credentials(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end, from the kernel (SO_PEERCRED), not from anything it says."""
    pid, uid, _gid = CREDENTIALS.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, CREDENTIALS.size))
    return pid, uid


def bind_replacing_stale(listener: socket.socket, address: str) -> None:
    """Bind; a socket file that nothing listens on (its run crashed) is replaced, a live one raises OSError."""
    try:
        listener.bind(address)
    except OSError as error:
        if not os.path.exists(address) or not stat.S_ISSOCK(os.lstat(address).st_mode) or listening(address):
            raise error
        os.unlink(address)
        listener.bind(address)


def listening(address: str) -> bool:
    """Whether a live process accepts connections on `address` (a stale socket file refuses them)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(address)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def refuse(sock: socket.socket, reason: str) -> None:
    """Tell a connection why it is refused, without waiting on it, and close it."""
    try:
        sock.setblocking(False)
        sock.send(protocol.encode(protocol.error_message(reason)))
    except OSError:
        pass
    sock.close()
