"""A fake training loop behind a real ControlServer, and a raw socket client, for the control socket tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from engine.control import protocol
from engine.control.server import ControlServer
from engine.control.channel import Control, ControlChannel
from engine.events import HyperparamChanged, Paused, Resumed, SessionNote, StepEvent
from engine.store.log_writer import RunLog


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll until predicate() holds; fail after a generous cap (no timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held")
        time.sleep(0.005)


class FakeRun:
    """RunLog then the server sink, on a loop thread that drains the ControlChannel like the trainer."""

    def __init__(self, run_dir: Path, payload: int = 0, **server_options) -> None:
        self.run_dir = Path(run_dir)
        self.controls = ControlChannel()
        self.log = RunLog(self.run_dir)
        self.server = ControlServer(self.run_dir, self.controls, self.log.path, "run-1", **server_options)
        self.received: list[Control] = []
        self.paused = False
        self.steps = 0
        self.payload = "x" * payload
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "FakeRun":
        """Bind the socket and start the loop."""
        self.server.start()
        self._thread.start()
        return self

    def emit(self, event) -> None:
        """What Trainer.emit does with the log first and the server after it."""
        self.log.write(event)
        self.server(event)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.steps += 1
            event = StepEvent(0, self.steps, 100, self.steps, 0.5)
            if self.payload:
                event = SessionNote(self.payload, "bulk", 0, self.steps)
            self.emit(event)
            while (control := self.controls.take()) is not None:
                self.received.append(control)
                if control.action in ("pause", "resume"):
                    if self.paused == (control.action == "pause"):
                        continue  # as the trainer does: a pause of a paused run changes and logs nothing
                    self.paused = control.action == "pause"
                self.emit(_event_for(control, self.steps))
            self._stop.wait(0.0005)  # a step of "training"

    def advances(self, by: int = 50) -> None:
        """Assert the loop keeps stepping (it never stalls on the sink)."""
        start = self.steps
        wait_for(lambda: self.steps >= start + by, what=f"training advancing past step {start + by}")

    def stop(self, close_timeout: float = 2.0) -> None:
        """End the loop, then close the server as the trainer does at run end."""
        self._stop.set()
        self._thread.join(10)
        self.log.close()
        self.server.close(close_timeout)

    def lines(self) -> list[bytes]:
        """The log's lines, as bytes, without newlines."""
        return self.log.path.read_bytes().split(b"\n")[:-1]


def _event_for(control: Control, step: int):
    if control.action == "set":
        return HyperparamChanged(control.name, 0.0, control.value, 0, step, control.source)
    if control.action == "pause":
        return Paused(0, step, "user", control.source)
    if control.action == "resume":
        return Resumed(0, step, control.source)
    if control.action == "note":
        return SessionNote(control.name, control.source, 0, step)
    return SessionNote(control.action, control.source, 0, step)


class RawClient:
    """A socket client that speaks the protocol by hand and keeps every byte it receives."""

    def __init__(self, path: Path, hello: bool = True, backlog: bool = True) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with protocol.socket_address(path) as address:
            self.sock.connect(address)  # blocking: a full accept queue waits instead of failing with EAGAIN
        self.sock.settimeout(20)
        self.data = b""
        self._reader: threading.Thread | None = None
        if hello:
            self.send(protocol.encode(protocol.client_hello("raw", backlog)))

    def send(self, data: bytes) -> None:
        """Send raw bytes."""
        self.sock.sendall(data)

    def read_until(self, predicate) -> list[bytes]:
        """Read until one received line satisfies predicate (or the stream ends); returns all lines so far."""
        while True:
            lines = self.data.split(b"\n")[:-1]
            if any(predicate(line) for line in lines):
                return lines
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""  # the server hung up on input it never read: what it said was delivered first
            if not chunk:
                return lines
            self.data += chunk

    def read_to_end(self) -> list[bytes]:
        """Read until the server closes the connection, then close this end."""
        if self._reader is not None:
            self._reader.join(30)
            assert not self._reader.is_alive(), "the server never closed the stream"
        lines = self.read_until(lambda line: False)
        self.sock.close()
        return lines

    def read_along(self) -> "RawClient":
        """Keep reading on a thread (a well-behaved client); read_to_end() then waits for it."""
        self._reader = threading.Thread(target=self.read_until, args=(lambda line: False,), daemon=True)
        self._reader.start()
        return self

    def messages(self) -> list[dict]:
        """The protocol messages received so far (compact JSON lines)."""
        return [json.loads(line) for line in self.data.split(b"\n")[:-1] if line.startswith(protocol.PROTOCOL_PREFIX)]

    def close(self) -> None:
        """Hang up."""
        self.sock.close()
