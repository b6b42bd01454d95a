"""The control socket under abuse: bad hellos, oversized and half-sent lines, clients that never read, floods, and
edges of the environment (long paths, stale sockets, running out of descriptors); none of it stalls training."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import threading

import pytest

from engine.control import protocol
from engine.control.client import ControlClient
from engine.control.server import ControlServer
from engine.control.channel import ControlChannel
from engine.errors import InputError
from engine.events import StepEvent
from engine.store.log_reader import read_jsonl
from tests.control_harness import RawClient, wait_for
from tests.test_control_socket import events_of


# -- abuse ----------------------------------------------------------------------------------------
def test_bad_hellos_get_an_error_then_close(make_run):
    run = make_run(hello_timeout=0.3)
    watcher = RawClient(run.server.path).read_along()
    cases = [(b'{"type": "hello", "protocol": 2, "client": "x"}\n', "protocol 2 not supported"),
             (b'{"type": "control", "id": 1, "action": "stop"}\n', "first message must be a hello"),
             (b"garbage\n", "not valid JSON"), (b'"hello"\n', "got str"),
             (b'{"type": "hello", "protocol": 1, "client": "\\u0007"}\n', "client: must be at most 64 printable")]
    for data, problem in cases:
        raw = RawClient(run.server.path, hello=False)
        raw.send(data)
        raw.read_to_end()
        assert len(raw.messages()) == 1 and problem in raw.messages()[0]["error"], (data, raw.messages())
    silent = RawClient(run.server.path, hello=False)
    half = RawClient(run.server.path, hello=False)
    half.send(b'{"type": "hel')
    assert silent.read_to_end() == [] and half.read_to_end() == []  # closed after the hello timeout
    assert "no hello within 0.3 s" in run.server.dropped
    run.advances()
    assert not any(c.action != "note" for c in run.received)
    run.stop()
    assert events_of(watcher.read_to_end()) == run.lines()


def test_oversized_line_gets_an_error_and_close(make_run):
    run = make_run()
    watcher = RawClient(run.server.path).read_along()
    for hello in (False, True):
        raw = RawClient(run.server.path, hello=hello, backlog=False)
        try:
            raw.send(b"x" * (protocol.MAX_LINE * 4))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may hang up before all of it is sent
        raw.read_to_end()
        assert raw.messages()[-1] == {"type": "error", "error": f"message longer than {protocol.MAX_LINE} bytes"}
    exact = RawClient(run.server.path, backlog=False)  # a line of exactly MAX_LINE bytes is fine
    filler = protocol.MAX_LINE - len(b'{"type":"control","id":5,"action":"save","source":""}\n')
    exact.send(b'{"type":"control","id":5,"action":"save","source":""' + b" " * filler + b"}\n")
    exact.read_until(lambda line: b'"id":5' in line)
    assert {"type": "reply", "id": 5, "ok": True} in exact.messages()
    exact.close()
    run.advances()
    run.stop()
    assert events_of(watcher.read_to_end()) == run.lines()


def test_half_sent_messages_and_vanishing_clients(make_run):
    run = make_run(payload=2000)  # big lines, so a vanishing reader leaves a lot unsent
    watcher = RawClient(run.server.path).read_along()
    run.advances(200)
    for _ in range(5):
        raw = RawClient(run.server.path)
        raw.send(b'{"type": "control", "id": 1, "act')  # half a control, then gone
        raw.sock.recv(1000)  # mid-stream
        raw.close()
    silent = RawClient(run.server.path)
    silent.send(b'{"type": "control", "id": 1, "act')  # half a control, then silence: harmless
    wait_for(lambda: sum(c.name == "client detached" for c in run.received) == 5, what="five detach notes")
    run.advances()
    silent.close()  # it never reads, so the run end would wait out close()'s flush timeout for it
    run.stop()
    assert events_of(watcher.read_to_end()) == run.lines()
    assert not any(c.action != "note" for c in run.received)


def test_a_client_that_never_reads_is_dropped_not_waited_for(make_run):
    run = make_run(payload=1000, max_lag=256 * 1024)
    watcher = RawClient(run.server.path).read_along()
    stuck = RawClient(run.server.path)
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    wait_for(lambda: any(r.startswith("too far behind") for r in run.server.dropped), what="the stuck client dropped")
    wait_for(lambda: any(c.name.startswith("client dropped: too far behind") for c in run.received), what="drop note")
    run.advances()
    stuck.close()
    late = RawClient(run.server.path).read_along()  # joins after the drop and still gets everything
    run.advances()
    run.stop()
    lines = run.lines()
    assert events_of(watcher.read_to_end()) == lines
    assert events_of(late.read_to_end()) == lines


def test_a_burst_of_garbage_connections(make_run):
    run = make_run(max_clients=32, hello_timeout=60)
    watcher = ControlClient(run.server.path)
    history, _ = watcher.read_backlog()
    batches, closed = [], []
    watcher.start(batches.append, on_close=closed.append)
    # Greeted (a silent one would be closed to make room): they hold the other 31 slots.
    holders = [RawClient(run.server.path, backlog=False) for _ in range(31)]
    wait_for(lambda: run.server.connections == 32, what="32 connections")
    wait_for(lambda: sum(c.name == "client attached" for c in run.received) == 32, what="32 greeted")
    garbage = [(b"garbage %d\n" % i, "not valid JSON") for i in range(40)] + \
              [(b"\xff\xfe\n", "not UTF-8"), (b"[]\n", "got list"), (b'{"type": "hello", "protocol": 99}\n', "protocol 99"),
               (b"7\n", "got int"), (b'{"type": "control", "id": 1, "action": "stop"}\n', "first message must be a hello")] * 12
    for wave in ("full", "open"):
        clients = []
        for data, _ in garbage:
            raw = RawClient(run.server.path, hello=False)
            try:
                raw.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before it finished sending
            clients.append(raw)
        run.advances()
        for raw, (_, problem) in zip(clients, garbage):
            raw.read_to_end()
            raw.close()
            errors = [m["error"] for m in raw.messages()]
            if wave == "full":
                assert errors == ["too many clients (at most 32)"]
            else:
                crowded = ("too many clients (at most 32)", "closed to make room: no hello yet and the run's connections are full")
                assert len(errors) == 1 and (problem in errors[0] or errors[0] in crowded), errors
        for holder in holders:
            holder.close()
        holders = []
    good = ControlClient(run.server.path, client_name="after", backlog=False)  # the server still serves
    good.pause()
    wait_for(lambda: any(c.action == "pause" for c in run.received), what="a control after the bursts")
    good.close()
    assert not any(c.action == "stop" for c in run.received)
    run.advances()
    run.stop()
    logged, _ = read_jsonl(run.log.path)
    wait_for(lambda: closed == ["run ended"], what="the watcher's end")
    steps = list(history.step_index) + [e.step for b in batches for e in b if isinstance(e, StepEvent)]
    assert steps == list(logged.step_index)


def test_long_run_directory_paths(tmp_path, make_run):
    deep = "d" * 60 + "/" + "e" * 60
    run = make_run(deep)
    assert len(os.fsencode(str(run.server.path))) > 108
    assert stat.S_IMODE(os.stat(run.server.path).st_mode) == 0o600
    client = ControlClient(run.server.path)
    history, _ = client.read_backlog()
    client.stop()
    wait_for(lambda: any(c.action == "stop" for c in run.received), what="stop through a long path")
    client.close()
    run.stop()
    assert not run.server.path.exists()


def test_stale_or_missing_socket_says_the_run_is_not_live(tmp_path):
    missing = tmp_path / "gone" / protocol.SOCKET_FILE
    with pytest.raises(InputError, match="no control socket here: the run is not live"):
        ControlClient(missing)
    run_dir = tmp_path / "crashed"
    run_dir.mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run_dir / protocol.SOCKET_FILE))
    stale.close()  # a crashed run: the file stays, nothing listens
    with pytest.raises(InputError, match=r"crashed/control.sock: nothing listens on this socket: the run is not live"):
        ControlClient(run_dir / protocol.SOCKET_FILE)
    server = ControlServer(run_dir, ControlChannel(), run_dir / "events.jsonl")
    server.start()  # replaces the stale file
    try:
        client = ControlClient(run_dir / protocol.SOCKET_FILE, backlog=False)
        client.close()
        with pytest.raises(OSError):
            ControlServer(run_dir, ControlChannel(), run_dir / "events.jsonl").start()  # a live one is not taken over
    finally:
        server.close()
    assert not (run_dir / protocol.SOCKET_FILE).exists()


def test_protocol_mismatch_from_the_server(tmp_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / protocol.SOCKET_FILE))
    listener.listen(1)
    client_side = []

    def answer():
        conn, _ = listener.accept()
        conn.recv(1000)
        conn.sendall(b'{"type":"hello","protocol":9}\n')
        client_side.append(conn)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    with pytest.raises(InputError, match="the run speaks protocol 9, this client 1"):
        ControlClient(tmp_path / protocol.SOCKET_FILE)
    thread.join(10)
    listener.close()
    client_side[0].close()


def test_connect_problems_in_the_users_terms():
    from engine.control.client import _connect_problem
    assert "permission denied: the run belongs to another user" == _connect_problem(PermissionError(errno.EACCES, "x"))
    assert "the run is not live" in _connect_problem(ConnectionRefusedError(errno.ECONNREFUSED, "x"))
    assert "the run is not live" in _connect_problem(FileNotFoundError(errno.ENOENT, "x"))
    assert _connect_problem(OSError(errno.ENOTSOCK, "x")) == "not a control socket"


def test_events_without_read_backlog_are_the_whole_log(make_run):
    run = make_run()
    run.advances()
    client = ControlClient(run.server.path, client_name="events")
    batches, closed = [], []
    client.start(batches.append, on_close=closed.append)
    run.advances()
    run.stop()
    wait_for(lambda: closed == ["run ended"], what="the end of the stream")
    received = [e for batch in batches for e in batch]
    assert [e.to_json().encode() for e in received] == run.lines()


class _FailingListener:
    """Stands in for the listening socket: accept() fails as if the process ran out of file descriptors."""

    def __init__(self, real: socket.socket, failures: int) -> None:
        self.real, self.failures = real, failures

    def fileno(self) -> int:
        return self.real.fileno()

    def accept(self):
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return self.real.accept()

    def close(self) -> None:
        self.real.close()


def test_running_out_of_file_descriptors_pauses_accepting(make_run):
    run = make_run()
    listener = run.server._listener
    listener.sock = _FailingListener(listener.sock, failures=2)
    client = ControlClient(run.server.path, backlog=False, timeout=30)  # waits in the accept queue meanwhile
    client.pause()
    wait_for(lambda: any(c.action == "pause" for c in run.received), what="the control after the pause")
    assert list(run.server.dropped).count("accept failed: [Errno 24] Too many open files") == 2
    client.close()
    run.advances()


def test_a_client_that_stops_reading_can_still_send_its_last_control(make_run):
    run = make_run()
    raw = RawClient(run.server.path)
    raw.read_until(lambda line: b'"backlog_end"' in line)
    raw.sock.shutdown(socket.SHUT_RD)  # as a client does on its way out: the server's next send fails
    run.advances()  # the server has tried to send it events many times since
    raw.send(protocol.encode(protocol.control_message(1, "stop")))
    raw.close()
    wait_for(lambda: any(c.action == "stop" for c in run.received), what="the stop sent after reading stopped")
    wait_for(lambda: any(c.name == "client detached" for c in run.received), what="the detach note")
    run.advances()


def test_close_gives_up_on_a_client_that_does_not_read(make_run):
    run = make_run(payload=4000)
    stuck = RawClient(run.server.path)
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    run.advances(300)  # about 1.2 MB of log, far more than the socket buffers hold
    run.stop(close_timeout=0.2)
    assert not run.server.path.exists() and run.server.connections == 0
    received = stuck.read_to_end()  # what fitted in the buffers, then the end: no bye, it was not all delivered
    assert received and json.loads(received[0])["type"] == "hello"
    got = events_of(received)
    assert got and got == run.lines()[:len(got)] and len(got) < len(run.lines())
    assert b'"bye"' not in stuck.data


def test_a_client_that_floods_bad_lines_without_reading_replies_is_dropped(make_run):
    run = make_run()
    flood = RawClient(run.server.path, backlog=False)
    flood.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        for _ in range(20):
            flood.send(b"x\n" * 5000)  # each line earns a ~100-byte error reply it never reads
    except (BrokenPipeError, ConnectionResetError):
        pass  # dropped while still sending
    wait_for(lambda: "not reading its replies" in run.server.dropped, what="the flooding client dropped")
    run.advances()
    flood.close()
