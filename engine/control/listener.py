"""The control server's listening socket: bound 0600, accepting without blocking, unlinked only if still its own."""

from __future__ import annotations

import os
import selectors
import socket
import time
from collections import deque
from pathlib import Path
from typing import Iterator

from engine.control import protocol
from engine.control.connection import bind_replacing_stale, peer_credentials

ACCEPTS_PER_WAKE = 64  # connections taken per readable event, so a burst cannot starve the others
ACCEPT_PAUSE_S = 0.5  # how long to stop watching the listener after accept() failed (out of file descriptors)


class Listener:
    """The run's Unix socket in its run directory, registered with the server's selector (with itself as data)."""

    def __init__(self, path: Path, selector: selectors.BaseSelector, dropped: deque[str]) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.paused_until: float | None = None  # accepting stopped after a failure, until then
        self._selector = selector
        self._dropped = dropped
        self._inode: tuple[int, int] | None = None

    def open(self) -> None:
        """Bind the socket 0600 (replacing a stale one) and watch it; OSError if it cannot bind."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with protocol.socket_address(self.path) as address:
                bind_replacing_stale(listener, address)
                # The directory is already 0700; the socket must not outlive a chmod of it either.
                os.chmod(address, 0o600)
                info = os.stat(address)
                listener.listen(128)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._inode = (info.st_dev, info.st_ino)
        self.sock = listener
        self._selector.register(listener, selectors.EVENT_READ, self)

    def accept(self) -> Iterator[tuple[socket.socket, int, int]]:
        """The waiting connections, each with the (pid, uid) the kernel gives for it; pauses itself on failure."""
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                sock, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                # Out of file descriptors: the listener stays readable, so stop watching it a moment, not spin.
                self._dropped.append(f"accept failed: {error}")
                self._selector.unregister(self.sock)
                self.paused_until = time.monotonic() + ACCEPT_PAUSE_S
                return
            try:
                pid, uid = peer_credentials(sock)
            except OSError:
                sock.close()
                continue
            yield sock, pid, uid

    def resume_if_due(self, now: float) -> None:
        """Watch the socket again once a pause after a failed accept is over."""
        if self.paused_until is not None and now >= self.paused_until and self.sock is not None:
            self.paused_until = None
            self._selector.register(self.sock, selectors.EVENT_READ, self)

    def close(self) -> None:
        """Stop accepting and unlink the socket file, unless it is no longer ours (a newer run bound the name)."""
        if self.sock is None:
            return
        if self.paused_until is None:
            self._selector.unregister(self.sock)
        self.sock.close()
        self.sock = None
        try:
            with protocol.socket_address(self.path) as address:
                info = os.stat(address)
                if (info.st_dev, info.st_ino) == self._inode:
                    os.unlink(address)
        except OSError:
            pass  # already gone, or the run directory was removed
