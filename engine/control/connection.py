"""One control-socket connection's state, and the socket and log-file primitives the server builds on."""

from __future__ import annotations

import os
import socket
import stat
import struct

from engine.control import protocol
CHUNK = 256 * 1024  # bytes of the log read per refill of a client's output
CREDENTIALS = struct.Struct("3i")  # SO_PEERCRED: pid, uid, gid


class Connection:
    """One connection: its input buffer, what it is owed, and where it stands in the log."""

    def __init__(self, sock: socket.socket, pid: int, deadline: float) -> None:
        self.sock = sock
        self.pid = pid
        self.name = ""
        self.inbuf = bytearray()
        self.out = bytearray()
        self.sent = 0
        self.pos = 0  # next byte of the log to send
        self.marker: int | None = None  # log offset where the backlog ends and backlog_end goes
        self.deadline = deadline  # hello (or closing) deadline; 0 once streaming
        self.closing = False
        self.attached = False
        self.reason = ""  # why the server is closing this connection
        self.wants_write = False
        self.deaf = False  # the peer stopped reading (hung up): what it sent before still counts

    @property
    def pending(self) -> int:
        """Bytes queued but not yet sent."""
        return len(self.out) - self.sent

    def queue(self, message: dict) -> None:
        """Queue a protocol message after what is already queued (always on a line boundary)."""
        if not self.deaf:
            self.out += protocol.encode(message)


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


def last_line_end(fd: int, start: int, size: int) -> int:
    """Offset just past the last newline in [start, size), or `start` if there is none."""
    end = size
    while end > start:
        begin = max(start, end - 65536)
        cut = os.pread(fd, end - begin, begin).rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        end = begin
    return start


def read_lines(fd: int, pos: int, limit: int) -> bytes:
    """Whole lines of the log from `pos`, about CHUNK bytes, never past `limit` (itself a line end)."""
    size = CHUNK
    while True:
        data = os.pread(fd, min(size, limit - pos), pos)
        if pos + len(data) >= limit or not data:
            return data
        cut = data.rfind(b"\n")
        if cut >= 0:
            return data[:cut + 1]
        size *= 2  # one line longer than a chunk: read more of it
