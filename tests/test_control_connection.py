"""A control-socket connection's state machine: legal transitions only, the audience count kept by them, deafness."""

from __future__ import annotations

import json
import os
import socket

import pytest

from engine.control import protocol
from engine.control.client import ControlClient
from engine.control.connection import Audience, Connection, LineTooLong, State, TransitionError
from tests.control_harness import FakeRun, RawClient, wait_for

ALL = list(State)
# What each transition method may start from: the protocol's life cycle, written out by hand.
ALLOWED_FROM = {
    "greet": {State.AWAITING_HELLO},
    "fail": {State.AWAITING_HELLO, State.STREAMING},
    "drain": {State.STREAMING},
    "say_bye": {State.DRAINING},
    "close": {State.AWAITING_HELLO, State.STREAMING, State.DRAINING, State.FLUSHING},
}
# The public path to each state from a fresh connection.
PATH_TO = {
    State.AWAITING_HELLO: [],
    State.STREAMING: ["greet"],
    State.DRAINING: ["greet", "drain"],
    State.FLUSHING: ["greet", "drain", "say_bye"],
    State.CLOSED: ["close"],
}


class TinyLog:
    """A log source of fixed bytes, as LogFeed is to a connection."""

    def __init__(self, data: bytes) -> None:
        self.data, self.end = data, len(data)

    def read(self, start: int, limit: int) -> bytes:
        return self.data[start:limit]


@pytest.fixture
def pair():
    """(server side, peer side) of a socketpair; both closed at teardown."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    yield ours, theirs
    ours.close()
    theirs.close()


def call(connection: Connection, method: str) -> None:
    args = {"greet": ("tester",), "fail": ("bad", 0.0)}.get(method, ())
    getattr(connection, method)(*args)


def connection_in(state: State, sock: socket.socket, audience: Audience) -> Connection:
    connection = Connection(sock, 4242, 1.0, audience)
    for method in PATH_TO[state]:
        call(connection, method)
    assert connection.state is state
    return connection


def test_a_connection_lives_through_its_states_and_the_audience_follows(pair):
    audience = Audience()
    connection = Connection(pair[0], 4242, 5.0, audience)
    assert (connection.state, connection.give_up_at, audience.size) == (State.AWAITING_HELLO, 5.0, 0)
    connection.greet("attach")
    assert (connection.state, connection.name, connection.give_up_at, audience.size) == \
           (State.STREAMING, "attach", None, 1)
    connection.drain()
    assert (connection.state, audience.size) == (State.DRAINING, 1)
    connection.say_bye()
    assert (connection.state, audience.size) == (State.FLUSHING, 0)
    assert protocol.decode(bytes(connection.outbox)) == {"type": "bye", "reason": "run ended"}
    connection.close()
    assert (connection.state, audience.size, pair[0].fileno()) == (State.CLOSED, 0, -1)


@pytest.mark.parametrize("start", ALL, ids=lambda s: s.name)
@pytest.mark.parametrize("method", sorted(ALLOWED_FROM))
def test_an_illegal_transition_raises_and_changes_nothing(pair, start, method):
    audience = Audience()
    connection = connection_in(start, pair[0], audience)
    size = audience.size
    if start in ALLOWED_FROM[method]:
        call(connection, method)
        assert connection.state is not start
    else:
        with pytest.raises(TransitionError, match=f"{start.value} -> .* is not a legal transition"):
            call(connection, method)
        assert (connection.state, audience.size) == (start, size)


def test_a_failed_connection_owes_nothing_more_and_closes_once_its_error_is_sent(pair):
    audience = Audience()
    connection = connection_in(State.STREAMING, pair[0], audience)
    connection.fail("message longer than 65536 bytes", give_up_at=9.0)
    assert (connection.state, connection.reason, connection.give_up_at, audience.size) == \
           (State.FLUSHING, "message longer than 65536 bytes", 9.0, 0)
    assert not connection.ready_to_close
    connection.send_queued(TinyLog(b'{"step": 1}\n'))  # not owed the log any more: only the error goes out
    assert connection.ready_to_close
    assert json.loads(pair[1].recv(1000)) == {"type": "error", "error": "message longer than 65536 bytes"}


def test_a_draining_connection_gets_the_rest_of_the_log_then_bye(pair):
    connection = connection_in(State.STREAMING, pair[0], Audience())
    connection.place(log_end=12, backlog=True)
    connection.drain()
    log = TinyLog(b'{"step": 1}\n{"step": 2}\n')
    connection.send_queued(log)
    assert connection.state is State.FLUSHING and connection.ready_to_close
    assert pair[1].recv(1000).split(b"\n")[:-1] == [
        b'{"step": 1}', protocol.BACKLOG_END.strip(), b'{"step": 2}', b'{"type":"bye","reason":"run ended"}']


def test_deafness_is_a_flag_a_streaming_connection_survives(pair):
    connection = connection_in(State.STREAMING, pair[0], Audience())
    pair[1].shutdown(socket.SHUT_RD)  # the peer stops reading: the next send fails
    connection.queue(protocol.reply(1))
    connection.send_queued(TinyLog(b""))
    assert (connection.deaf, connection.state, connection.pending) == (True, State.STREAMING, 0)
    assert not connection.ready_to_close  # it may still send a control: keep reading it
    connection.queue(protocol.reply(2))
    assert connection.pending == 0  # nothing more is queued for a peer that does not read
    connection.drain()
    assert connection.ready_to_close  # once the server stops listening, a deaf peer is done with


def test_lines_are_cut_at_newlines_and_capped(pair):
    connection = connection_in(State.AWAITING_HELLO, pair[0], Audience())
    pair[1].sendall(b'{"a": 1}\n{"b"')
    assert connection.receive()
    assert connection.next_line() == b'{"a": 1}' and connection.next_line() is None
    connection.inbox = bytearray(b"x" * (protocol.MAX_LINE - 1) + b"\n")  # exactly MAX_LINE with its newline
    assert len(connection.next_line()) == protocol.MAX_LINE - 1
    connection.inbox = bytearray(b"x" * protocol.MAX_LINE + b"\n")
    with pytest.raises(LineTooLong, match=f"message longer than {protocol.MAX_LINE} bytes"):
        connection.next_line()
    connection.inbox = bytearray(b"x" * protocol.MAX_LINE)  # no newline yet, and already too long
    with pytest.raises(LineTooLong):
        connection.next_line()


def test_input_is_ignored_once_the_server_stopped_listening(pair):
    connection = connection_in(State.DRAINING, pair[0], Audience())
    pair[1].sendall(b'{"type": "control", "id": 1, "action": "stop"}\n')
    assert connection.receive() and connection.inbox == b""
    pair[1].close()
    assert not connection.receive()  # its hang-up is still noticed


# -- the server keeps the audience by the states ------------------------------------------------
def test_the_audience_counts_connections_owed_the_log(tmp_path):
    run = FakeRun(tmp_path / "run").start()
    try:
        audience = run.server._audience
        silent = RawClient(run.server.path, hello=False)
        wait_for(lambda: run.server.connections == 1, what="the silent connection")
        assert audience.size == 0  # not greeted: the sink does not wake the server for it
        client = ControlClient(run.server.path, backlog=False)
        wait_for(lambda: audience.size == 1, what="the greeted client counted")
        oversized = RawClient(run.server.path, backlog=False)
        wait_for(lambda: audience.size == 2, what="a second greeted client")
        oversized.send(b"x" * (protocol.MAX_LINE + 1))  # failed: still open until its error is read, owed no log
        oversized.read_to_end()
        assert oversized.messages()[-1]["type"] == "error"
        wait_for(lambda: audience.size == 1, what="the failed client no longer counted")
        client.close()
        silent.close()
        wait_for(lambda: run.server.connections == 0, what="every connection gone")
        assert audience.size == 0
    finally:
        run.stop()


def test_a_client_that_hangs_up_right_after_stop_has_its_stop_applied(tmp_path):
    run = FakeRun(tmp_path / "run").start()
    try:
        raw = RawClient(run.server.path, hello=False)
        raw.send(protocol.encode(protocol.client_hello("quitter", False)) +
                 protocol.encode(protocol.control_message(1, "stop")))
        raw.close()  # gone before reading a byte: the server's replies fail, its input still counts
        wait_for(lambda: any(c.action == "stop" for c in run.received), what="the stop of a client already gone")
        assert [c.source for c in run.received if c.action == "stop"] == [f"quitter pid {os.getpid()}"]
        wait_for(lambda: any(c.name == "client detached" for c in run.received), what="its detach note")
    finally:
        run.stop()



def test_the_pause_view_lays_controls_passed_on_over_the_log():
    from engine.control.pause_view import PauseView

    view = PauseView()
    assert view.note_for("resume") == "already running" and view.note_for("pause") == ""
    for action in ("pause", "resume"):
        view.passed_on(action)
    assert (view.paused, view.note_for("resume"), list(view.pending)) == (False, "already running", ["pause", "resume"])
    view.read(["paused"])  # the log is one line behind: the resume passed on still counts
    assert (view.paused, view.logged_paused, list(view.pending)) == (False, True, ["resume"])
    view.read(["resumed"])
    assert (view.paused, list(view.pending)) == (False, [])
    view.read(["paused"])  # paused by someone else (the dashboard, a non-finite loss): the log alone says so
    assert view.note_for("pause") == "already paused"
    view.passed_on("pause")  # a repeat is not outstanding: no line will come for it
    assert list(view.pending) == []
    view.passed_on("resume")
    view.read(["run_end"])
    assert (view.paused, list(view.pending)) == (False, [])
