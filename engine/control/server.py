"""A live run's control endpoint: its events (backlog, then live) and its controls on a Unix socket."""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from collections import deque
from pathlib import Path

from engine.control import protocol
from engine.control.connection import (Connection, bind_replacing_stale, last_line_end, peer_credentials, read_lines,
                                       refuse)
from engine.control.channel import Control, ControlChannel
from engine.events import Event

MAX_REPLIES = 1024 * 1024  # bytes of replies a client may leave unread before it is dropped
COALESCE_S = 0.002  # at most one look at the log per 2 ms: a burst of events costs one wake-up, not one each


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
        self.max_lag = max_lag
        self.hello_timeout = hello_timeout
        self.owner_uid = os.getuid()  # the only uid let in
        self.dropped: deque[str] = deque(maxlen=100)  # why the latest clients were cut off, for tests and the curious
        self._clients: dict[int, Connection] = {}
        self._log_fd: int | None = None
        self._broadcast = 0  # log bytes every streaming client has been handed (always a line boundary)
        self._wake_pending = False
        self._greeted = 0  # open connections past their hello: the sink wakes the server only for them
        self._last_catch_up = 0.0
        self._catch_up_at: float | None = None
        self._accept_again_at = 0.0
        self._stop_at: float | None = None
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._inode: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._selector = selectors.DefaultSelector()

    @property
    def connections(self) -> int:
        """Connections open right now, greeted or not."""
        return len(self._clients)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """chmod the run dir 0700, bind the socket 0600, serve in a daemon thread; OSError if it cannot bind."""
        os.chmod(self.run_dir, 0o700)
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
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._serve, name="control-server", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        """Event sink: RunLog already wrote `event`; wake the server to send the new lines. Never blocks or raises."""
        if self._wake_pending or not self._greeted:
            return  # already woken, or nobody listens (a new client's backlog reads this line from the file)
        self._wake_pending = True
        self._wake_up()

    def _wake_up(self) -> None:
        try:
            self._wake_w.send(b"w")
        except (OSError, AttributeError):
            pass  # a full wake socket already means "wake up"; a closed or missing one, that the server is gone

    def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, hand clients what they are owed (at most `timeout` s), close all, unlink the socket."""
        thread = self._thread
        if thread is None or self._stop_at is not None:
            return
        self._stop_at = time.monotonic() + timeout
        self._wake_up()
        thread.join(timeout + 1.0)

    # -- the server thread -------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            while not self._finished():
                ready = self._selector.select(self._next_timeout())
                for key, mask in ready:
                    try:
                        if key.data == "listen":
                            self._accept()
                        elif key.data == "wake":
                            self._wake()
                        else:
                            self._service(key.data, mask)
                    except Exception as error:  # a bug must cost one connection, never the endpoint
                        self.dropped.append(f"internal error: {type(error).__name__}: {error}")
                        if isinstance(key.data, Connection):
                            self._drop(key.data, "")
                try:
                    self._expire()
                except Exception as error:
                    self.dropped.append(f"internal error: {type(error).__name__}: {error}")
        finally:
            self._shutdown()

    def _finished(self) -> bool:
        if self._stop_at is None:
            return False
        if self._listener is not None:
            self._stop_listening()
            self._catch_up()
            for client in list(self._clients.values()):
                if not client.attached:
                    self._drop(client, "")
                else:
                    client.closing = True
                    self._pump(client)
        return not self._clients or time.monotonic() >= self._stop_at

    def _next_timeout(self) -> float:
        deadlines = [c.deadline for c in self._clients.values() if c.deadline]
        if self._catch_up_at is not None:
            deadlines.append(self._catch_up_at)
        if self._stop_at is not None:
            deadlines.append(self._stop_at)
        if self._accept_again_at:
            deadlines.append(self._accept_again_at)
        return max(0.0, min([time.monotonic() + 1.0, *deadlines]) - time.monotonic())

    def _wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now - self._last_catch_up >= COALESCE_S:
            self._new_lines()
        elif self._catch_up_at is None:
            # Events in a burst: send them together a moment later; the sink stays quiet until then.
            self._catch_up_at = self._last_catch_up + COALESCE_S

    def _new_lines(self) -> None:
        """Clear the wake flag, then look at the log (in this order, so no write goes unseen)."""
        self._catch_up_at = None
        self._wake_pending = False
        self._last_catch_up = time.monotonic()
        self._catch_up()

    def _expire(self) -> None:
        now = time.monotonic()
        for client in list(self._clients.values()):
            if client.deadline and now >= client.deadline:
                self._drop(client, "" if client.closing else f"no hello within {self.hello_timeout:g} s")
        if self._accept_again_at and now >= self._accept_again_at and self._listener is not None:
            self._accept_again_at = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        due = self._catch_up_at is not None and now >= self._catch_up_at
        # Once a second even unasked: a line some other writer appended still reaches the clients.
        if self._stop_at is None and (due or now - self._last_catch_up >= 1.0):
            self._new_lines()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                # Out of file descriptors: the listener stays readable, so stop watching it a moment, not spin.
                self.dropped.append(f"accept failed: {error}")
                self._selector.unregister(self._listener)
                self._accept_again_at = time.monotonic() + 0.5
                return
            try:
                pid, uid = peer_credentials(sock)
            except OSError:
                sock.close()
                continue
            refusal = protocol.peer_refusal(uid, self.owner_uid)
            if not refusal and len(self._clients) >= self.max_clients:
                refusal = f"too many clients (at most {self.max_clients})"
            if refusal:
                refuse(sock, refusal)
                continue
            sock.setblocking(False)
            client = Connection(sock, pid, time.monotonic() + self.hello_timeout)
            self._clients[sock.fileno()] = client
            self._selector.register(sock, selectors.EVENT_READ, client)

    def _service(self, client: Connection, mask: int) -> None:
        if client.sock.fileno() not in self._clients:
            return  # dropped earlier in this round
        try:
            if mask & selectors.EVENT_READ:
                if client.closing:
                    if not client.sock.recv(65536):  # ignore what it still says; notice when it hangs up
                        self._drop(client, "")
                        return
                else:
                    self._read(client)
            if client.sock.fileno() in self._clients:
                self._pump(client)
        except OSError:
            self._drop(client, "")

    def _read(self, client: Connection) -> None:
        data = client.sock.recv(65536)
        if not data:
            self._drop(client, "")
            return
        client.inbuf += data
        while not client.closing:
            end = client.inbuf.find(b"\n")
            if end < 0 or end + 1 > protocol.MAX_LINE:
                if end + 1 > protocol.MAX_LINE or len(client.inbuf) >= protocol.MAX_LINE:
                    self._fail(client, f"message longer than {protocol.MAX_LINE} bytes")
                break
            line = bytes(client.inbuf[:end])
            del client.inbuf[:end + 1]
            self._handle(client, line)
        if client.pending > MAX_REPLIES and not client.closing:
            self._drop(client, "not reading its replies")

    def _handle(self, client: Connection, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = protocol.decode(line)
        except protocol.ProtocolError as error:
            if client.attached:
                client.queue(protocol.reply(None, str(error)))
            else:
                self._fail(client, str(error))
            return
        if not client.attached:
            self._greet(client, message)
            return
        try:
            control = protocol.to_control(message, client.name, client.pid)
        except protocol.ProtocolError as error:
            client.queue(protocol.reply(protocol.request_id(message), str(error)))
            return
        self.controls.put(control)
        client.queue(protocol.reply(protocol.request_id(message)))

    def _greet(self, client: Connection, message: dict) -> None:
        try:
            client.name, backlog = protocol.check_hello(message)
        except protocol.ProtocolError as error:
            self._fail(client, str(error))
            return
        self._greeted += 1  # before the catch-up, so the sink wakes us for any line written after it
        self._catch_up()
        client.queue(protocol.server_hello(self.run_id, self.run_dir))
        client.pos = 0 if backlog else self._broadcast
        client.marker = self._broadcast if backlog else None
        client.deadline = 0.0
        client.attached = True
        self.controls.put(Control("note", name="client attached", source=f"{client.name} pid {client.pid}"))

    def _fail(self, client: Connection, reason: str) -> None:
        """Send one error line after what is queued, then close once it is out (or after a second)."""
        client.queue(protocol.error_message(reason))
        client.closing = True
        client.attached = False
        client.reason = reason
        client.deadline = time.monotonic() + 1.0

    # -- sending -----------------------------------------------------------------------------------
    def _catch_up(self) -> None:
        """Advance the broadcast offset to the end of the last complete line in the log."""
        if self._log_fd is None:
            try:
                self._log_fd = os.open(self.log_path, os.O_RDONLY)
            except OSError:
                return
        size = os.fstat(self._log_fd).st_size
        if size <= self._broadcast:
            return
        self._broadcast = last_line_end(self._log_fd, self._broadcast, size)
        for client in list(self._clients.values()):
            if not client.attached:
                continue
            lag = self._broadcast - max(client.pos, client.marker or 0)
            if lag > self.max_lag:
                self._drop(client, f"too far behind ({lag} bytes unread)")
            else:
                self._pump(client)

    def _fill(self, client: Connection) -> None:
        """Queue the next line-aligned piece of the log (and the backlog marker where it falls)."""
        if client.marker is not None and client.pos == client.marker:
            client.out += protocol.BACKLOG_END
            client.marker = None
        limit = client.marker if client.marker is not None else self._broadcast
        if client.pos < limit:
            data = read_lines(self._log_fd, client.pos, limit)
            client.out += data
            client.pos += len(data)
        elif client.closing and client.attached and client.pos >= self._broadcast:
            client.queue({"type": "bye", "reason": "run ended"})
            client.attached = False  # nothing more to owe: close once flushed

    def _pump(self, client: Connection) -> None:
        """Send until the socket would block or nothing is owed; then close a closing client."""
        if client.deaf:
            if client.closing:
                self._drop(client, "")
            return
        try:
            while True:
                if not client.pending:
                    client.out.clear()
                    client.sent = 0
                    if client.attached:
                        self._fill(client)
                    if not client.pending:
                        break
                sent = client.sock.send(memoryview(client.out)[client.sent:])
                client.sent += sent
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            # It hung up, maybe right after sending "stop": keep reading until EOF so no control is lost.
            client.deaf = True
            client.out.clear()
            client.sent = 0
            if client.closing:
                self._drop(client, "")
                return
        if client.closing and not client.pending and not client.attached:
            self._drop(client, "")
            return
        wants_write = client.pending > 0
        if wants_write != client.wants_write:
            client.wants_write = wants_write
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wants_write else 0)
            self._selector.modify(client.sock, events, client)

    def _drop(self, client: Connection, reason: str) -> None:
        if self._clients.pop(client.sock.fileno(), None) is None:
            return
        reason = reason or client.reason
        if reason:
            self.dropped.append(reason)
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()
        self._greeted -= bool(client.name)
        if client.name and self._stop_at is None:
            note = "client detached" if not reason else f"client dropped: {reason}"
            self.controls.put(Control("note", name=note, source=f"{client.name} pid {client.pid}"))

    def _stop_listening(self) -> None:
        if not self._accept_again_at:
            self._selector.unregister(self._listener)
        self._listener.close()
        self._listener = None
        try:
            with protocol.socket_address(self.path) as address:
                info = os.stat(address)
                if (info.st_dev, info.st_ino) == self._inode:
                    os.unlink(address)
        except OSError:
            pass  # already gone, or the run directory was removed

    def _shutdown(self) -> None:
        if self._listener is not None:
            self._stop_listening()
        for client in list(self._clients.values()):
            self._drop(client, "")
        self._selector.close()
        for sock in (self._wake_r, self._wake_w):
            sock.close()
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
