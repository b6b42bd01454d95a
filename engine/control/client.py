"""A client of a live run's control socket: its backlog, its live events, and the same controls the keys send."""

from __future__ import annotations

import errno
import itertools
import json
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from engine.control import protocol
from engine.control.channel import Control, validate_knob
from engine.errors import InputError
from engine.events import Event, UnknownEventType, event_from_dict
from engine.store.history import History
from engine.store.log_reader import LineParser

RECV = 1024 * 1024
MAX_SERVER_LINE = 64 * 1024 * 1024  # a log line longer than this is not ours: give up rather than buffer on


class ControlClient:
    """Connects to a run's control socket: backlog, live events and controls."""

    hello: dict  # the server's hello: protocol, run_id, pid, run_dir

    def __init__(self, socket_path: str | Path, client_name: str = "attach", backlog: bool = True,
                 timeout: float = 10.0) -> None:
        path = Path(socket_path)
        self.path = path / protocol.SOCKET_FILE if path.is_dir() else path  # a run directory names its socket
        self.backlog = backlog
        self.timeout = timeout
        self._buffer = b""
        self._lines: list[bytes] = []
        self._held: list[dict] = []  # replies and errors that arrived while the backlog was read
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._closed_by_us = False
        self._end_reason = ""
        self._backlog_done = not backlog
        self._thread: threading.Thread | None = None
        self._sock = self._connect()
        try:
            try:
                self._send(protocol.client_hello(client_name, backlog))
            except InputError:
                pass  # refused before our hello arrived: its reason is still waiting to be read
            line = self._next_line()
            if line is None:
                raise InputError(str(self.path), f"the run closed the connection: {self._end_reason or 'no reason given'}")
            self.hello = protocol.decode(line)
            protocol.check_server_hello(self.hello)
        except protocol.ProtocolError as error:
            self._sock.close()
            raise InputError(str(self.path), str(error)) from None
        except TimeoutError:
            self._sock.close()
            raise InputError(str(self.path), f"no answer within {timeout:g} s: the run is busy or hung") from None
        except InputError:
            self._sock.close()
            raise

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        deadline = time.monotonic() + self.timeout
        try:
            with protocol.socket_address(self.path) as address:
                while True:
                    try:
                        sock.connect(address)
                        break
                    except BlockingIOError:
                        # A Unix socket's accept queue is full (a burst of clients): the kernel says EAGAIN.
                        if time.monotonic() > deadline:
                            raise TimeoutError("accept queue full") from None
                        time.sleep(0.01)
        except OSError as error:
            sock.close()
            raise InputError(str(self.path), _connect_problem(error)) from None
        return sock

    # -- reading -----------------------------------------------------------------------------------
    def _recv_lines(self) -> list[bytes] | None:
        """The complete lines the next read brings (possibly none yet); None at the end of the stream."""
        try:
            data = self._sock.recv(RECV)
        except (ConnectionError, OSError) as error:
            if isinstance(error, TimeoutError):
                raise
            data = b""
            self._end_reason = self._end_reason or f"connection lost ({error})"
        if not data:
            return None
        data = self._buffer + data
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > MAX_SERVER_LINE:
                self._end_reason = f"a line longer than {MAX_SERVER_LINE} bytes from the server"
                return None
            self._buffer = data
            return []
        self._buffer = data[cut + 1:]
        return data[:cut].split(b"\n")

    def _next_line(self) -> bytes | None:
        while not self._lines:
            lines = self._recv_lines()
            if lines is None:
                return None
            self._lines = lines
        return self._lines.pop(0)

    def read_backlog(self, history: History | None = None) -> tuple[History, list[str]]:
        """Fold the log up to the server's backlog-end marker into a History; returns (history, notices)."""
        history = history if history is not None else History()
        if self._backlog_done:
            return history, []
        parser = LineParser(history, str(self.path))
        lines, self._lines = self._lines, []
        try:
            while True:
                text: list[str] = []
                for line in lines:
                    if not line.startswith(protocol.PROTOCOL_PREFIX):
                        text.append(line.decode("utf-8", errors="replace"))
                    elif line + b"\n" == protocol.BACKLOG_END:
                        parser.feed(text)
                        self._lines = lines[lines.index(line) + 1:]
                        self._backlog_done = True
                        return history, parser.notices
                    else:
                        self._hold(line)
                parser.feed(text)
                lines = self._recv_lines()
                if lines is None:
                    self._backlog_done = True
                    reason = self._end_reason or "the run ended"
                    return history, [*parser.notices, f"{self.path}: backlog cut short: {reason}"]
        except TimeoutError:
            raise InputError(str(self.path), f"the backlog stalled for {self.timeout:g} s") from None

    def _hold(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if message.get("type") in ("error", "bye"):
            self._end_reason = message.get("error") or message.get("reason") or ""
        if message.get("type") in ("reply", "error"):
            self._held.append(message)

    def start(self, on_events: Callable[[list[Event]], None], on_reply: Callable[[dict], None] | None = None,
              on_close: Callable[[str], None] | None = None) -> None:
        """Deliver live events in batches (all that is readable at once) from a daemon thread until the stream ends."""
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._reader, args=(on_events, on_reply, on_close),
                                        name="control-client", daemon=True)
        self._thread.start()

    def _reader(self, on_events, on_reply, on_close) -> None:
        reason = ""
        try:
            for message in self._held:
                if on_reply is not None:
                    on_reply(message)
            self._held = []
            lines, self._lines = self._lines, []
            while lines is not None:
                self._deliver(lines, on_events, on_reply)
                lines = self._recv_lines()
        except Exception as error:  # a failing callback ends the stream, and says so
            reason = f"{type(error).__name__}: {error}"
        self._sock.close()
        if on_close is not None:
            on_close("detached" if self._closed_by_us else reason or self._end_reason or "the run closed the connection")

    def _deliver(self, lines: list[bytes], on_events, on_reply) -> None:
        events: list[Event] = []
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue  # a corrupt line in the log: replay reports those, a live view skips them
            if not line.startswith(protocol.PROTOCOL_PREFIX):
                try:
                    events.append(event_from_dict(data))
                except (UnknownEventType, TypeError, AttributeError):
                    pass
                continue
            kind = data.get("type")
            if kind in ("error", "bye"):
                self._end_reason = data.get("error") or data.get("reason") or ""
            if kind in ("reply", "error") and on_reply is not None:
                if events:
                    on_events(events)
                    events = []
                on_reply(data)
        if events:
            on_events(events)

    # -- controls ----------------------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        data = protocol.encode(message)
        with self._send_lock:
            try:
                self._sock.sendall(data, socket.MSG_NOSIGNAL)
            except OSError as error:
                raise InputError(str(self.path), f"the connection to the run is closed ({error.strerror or error})") from None

    def _control(self, action: str, name: str = "", value: float = 0.0, source: str = "user") -> int:
        request = next(self._ids)
        self._send(protocol.control_message(request, action, name, value, source))
        return request

    def pause(self, source: str = "user") -> int:
        """Ask the run to pause; returns the request id."""
        return self._control("pause", source=source)

    def resume(self, source: str = "user") -> int:
        """Ask the run to resume; returns the request id."""
        return self._control("resume", source=source)

    def stop(self, source: str = "user") -> int:
        """Ask the run to end cleanly; returns the request id."""
        return self._control("stop", source=source)

    def save(self, source: str = "user") -> int:
        """Ask for a checkpoint now; returns the request id."""
        return self._control("save", source=source)

    def set(self, name: str, value: float, source: str = "user") -> int:
        """Ask to set a knob (validated here first: InputError); returns the request id."""
        return self._control("set", name, validate_knob(name, value), source)

    def put(self, control: Control) -> int:
        """Send an already built control (validated again by the run); returns the request id."""
        return self._control(control.action, control.name, control.value, control.source)

    def interrupt(self, source: str = "signal") -> int:
        """Save a checkpoint and end the run: over the socket a save, then a stop (a client's signal never reaches the
        trainer's own handler); returns the stop's request id."""
        self.save(source)
        return self.stop(source)

    def close(self) -> None:
        """Detach: the run goes on."""
        self._closed_by_us = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)


def _connect_problem(error: OSError) -> str:
    """The one-line reason a connect failed, in the user's terms."""
    if error.errno == errno.ENOENT:
        return "no control socket here: the run is not live (it ended, or never served one)"
    if error.errno == errno.ECONNREFUSED:
        return "nothing listens on this socket: the run is not live (its process is gone)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: the run belongs to another user"
    if error.errno == errno.ENOTSOCK:
        return "not a control socket"
    if isinstance(error, TimeoutError):
        return "the run accepts no connections (too busy or hung)"
    return f"cannot connect ({error.strerror or error})"
