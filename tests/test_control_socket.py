"""The control socket: the protocol, the exact event stream and controls with their source (abuse: test_control_socket_abuse.py)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from engine.control import protocol
from engine.control.client import ControlClient
from engine.errors import InputError
from engine.events import HyperparamChanged, Paused, SessionNote, StepEvent
from engine.store.log_reader import read_jsonl
from engine.store.log_writer import RunLog
from tests.control_harness import RawClient, wait_for


def events_of(lines: list[bytes]) -> list[bytes]:
    """The event lines of a received stream (protocol messages are compact JSON, events are not)."""
    return [line for line in lines if not line.startswith(protocol.PROTOCOL_PREFIX)]


# -- the protocol, pure ---------------------------------------------------------------------------
def test_decode_names_what_is_wrong():
    assert protocol.decode(b'{"a": 1}') == {"a": 1}
    with pytest.raises(protocol.ProtocolError, match="not valid JSON"):
        protocol.decode(b"{nope")
    with pytest.raises(protocol.ProtocolError, match="must be a JSON object, got list"):
        protocol.decode(b"[1, 2]")
    with pytest.raises(protocol.ProtocolError, match="not UTF-8"):
        protocol.decode(b'{"a": "\xff"}')
    with pytest.raises(protocol.ProtocolError, match="not usable JSON"):
        protocol.decode(b'{"id": ' + b"9" * 5000 + b"}")
    with pytest.raises(protocol.ProtocolError, match="not usable JSON"):
        protocol.decode(b"[" * 60000 + b"]" * 60000)


@pytest.mark.parametrize("message, problem", [
    ({"type": "control", "id": 1, "action": "fly"}, "action: 'fly' is not one of"),
    ({"type": "control", "id": 1, "action": "set", "name": "lr", "value": 50}, "learning rate: must be at most 10"),
    ({"type": "control", "id": 1, "action": "set", "name": "lr", "value": "0.1"}, "lr: value missing or not a number"),
    ({"type": "control", "id": 1, "action": "set", "name": "lr", "value": True}, "lr: value missing or not a number"),
    ({"type": "control", "id": 1, "action": "set", "value": 0.1}, "name: missing"),
    ({"type": "control", "id": 1, "action": "set", "name": "momentum", "value": 0.1}, "momentum: unknown setting"),
    ({"type": "control", "action": "pause"}, "id: missing or not an integer"),
    ({"type": "control", "id": 1, "action": "pause", "source": 7}, "source: must be a string"),
    ({"type": "dance", "id": 1}, "unknown message type 'dance'"),
])
def test_bad_controls_are_named(message, problem):
    with pytest.raises(protocol.ProtocolError, match=problem):
        protocol.to_control(message, "attach", 42)


def test_control_source_says_who_and_through_what():
    set_lr = protocol.to_control(protocol.control_message(3, "set", "lr", 0.002), "attach", 4242)
    assert (set_lr.action, set_lr.name, set_lr.value, set_lr.source) == ("set", "lr", 0.002, "attach pid 4242")
    remedy = protocol.to_control(protocol.control_message(4, "pause", source="remedy"), "attach", 4242)
    assert remedy.source == "remedy via attach pid 4242"


def test_hello_checks():
    assert protocol.check_hello(protocol.client_hello("attach", False)) == ("attach", False)
    with pytest.raises(protocol.ProtocolError, match="protocol 2 not supported"):
        protocol.check_hello({"type": "hello", "protocol": 2})
    with pytest.raises(protocol.ProtocolError, match="protocol None not supported"):
        protocol.check_hello({"type": "hello"})
    with pytest.raises(protocol.ProtocolError, match="first message must be a hello"):
        protocol.check_hello({"type": "control"})


def test_another_uid_is_refused():
    me = os.getuid()
    assert protocol.peer_refusal(me, me) == ""
    assert protocol.peer_refusal(me + 1, me) == f"uid {me + 1} may not control a run owned by uid {me}"
    assert protocol.peer_refusal(0, 1000) == "uid 0 may not control a run owned by uid 1000"  # not even root


def test_server_applies_the_uid_check(make_run):
    run = make_run()
    run.server.owner_uid = os.getuid() + 1  # as if the run belonged to someone else
    with pytest.raises(InputError, match="refused: uid .* may not control a run owned by uid"):
        ControlClient(run.server.path)
    run.advances()


# -- the stream -----------------------------------------------------------------------------------
def test_modes_and_close_unlinks(make_run):
    run = make_run()
    assert stat.S_IMODE(os.stat(run.run_dir).st_mode) == 0o700
    assert stat.S_ISSOCK(os.stat(run.server.path).st_mode)
    assert stat.S_IMODE(os.stat(run.server.path).st_mode) == 0o600
    run.stop()
    assert not run.server.path.exists()


def test_clients_get_the_log_exactly_backlog_then_live(tmp_path, make_run):
    earlier = RunLog(tmp_path / "run")  # a resumed run: an earlier process's events come first
    for step in range(1, 6):
        earlier.write(StepEvent(0, step, 100, step, 0.9))
    earlier.close()
    run = make_run()
    run.advances()
    first = RawClient(run.server.path).read_along()
    run.advances()
    late = RawClient(run.server.path).read_along()
    live_only = RawClient(run.server.path, backlog=False).read_along()
    run.advances()
    run.stop()
    lines = run.lines()
    assert [json.loads(line)["loss"] for line in lines[:5]] == [0.9] * 5
    for client in (first, late):
        received = client.read_to_end()
        assert json.loads(received[0])["type"] == "hello" and json.loads(received[0])["run_id"] == "run-1"
        assert received.count(protocol.BACKLOG_END.strip()) == 1
        assert events_of(received) == lines  # no loss, no duplicate, verbatim
        assert json.loads(received[-1]) == {"type": "bye", "reason": "run ended"}
    received = live_only.read_to_end()
    assert protocol.BACKLOG_END.strip() not in received
    live = events_of(received)
    assert live and lines[-len(live):] == live
    assert any(b'"what": "client attached"' in line for line in lines)


def test_control_client_backlog_live_and_controls(make_run):
    run = make_run()
    run.advances()
    client = ControlClient(run.server.path)
    assert client.hello["run_id"] == "run-1" and client.hello["pid"] == os.getpid()
    history, notices = client.read_backlog()
    assert notices == []
    batches, replies, closed = [], [], []
    client.start(batches.append, replies.append, closed.append)
    ids = [client.pause(), client.set("lr", 0.002), client.set("dropout", 0.3, source="remedy"), client.resume(),
           client.save()]
    with pytest.raises(InputError, match="learning rate: must be at most 10"):
        client.set("lr", 70)
    wait_for(lambda: len(replies) == 5, what="five replies")
    assert [(r["id"], r["ok"]) for r in replies] == [(i, True) for i in ids]
    wait_for(lambda: len(run.received) >= 6, what="controls reaching the loop")
    me = f"attach pid {os.getpid()}"
    assert [(c.action, c.name, c.value, c.source) for c in run.received[:6]] == [
        ("note", "client attached", 0.0, me), ("pause", "", 0.0, me), ("set", "lr", 0.002, me),
        ("set", "dropout", 0.3, f"remedy via {me}"), ("resume", "", 0.0, me), ("save", "", 0.0, me)]
    wait_for(lambda: any(isinstance(e, SessionNote) and e.what == "save" for b in batches for e in b), what="save event")
    client.close()
    wait_for(lambda: closed == ["detached"], what="on_close")
    wait_for(lambda: any(c.name == "client detached" for c in run.received), what="detach note")
    run.stop()
    live = [e for batch in batches for e in batch]
    steps = list(history.step_index) + [e.step for e in live if isinstance(e, StepEvent)]
    logged, _ = read_jsonl(run.log.path)
    assert steps == list(logged.step_index)[:len(steps)] and len(steps) > 50
    changes = [e for e in live if isinstance(e, HyperparamChanged)]
    assert [(e.name, e.new, e.source) for e in changes] == [("lr", 0.002, me), ("dropout", 0.3, f"remedy via {me}")]
    assert [e.source for e in live if isinstance(e, Paused)] == [me]


def test_controls_keep_arrival_order(make_run):
    run = make_run()
    client = ControlClient(run.run_dir, client_name="bot", backlog=False)  # a run directory is enough
    values = [0.001 * (i + 1) for i in range(40)]
    for value in values:
        client.set("lr", value)
    wait_for(lambda: sum(c.action == "set" for c in run.received) == 40, what="forty controls")
    assert [c.value for c in run.received if c.action == "set"] == values
    assert {c.source for c in run.received if c.action == "set"} == {f"bot pid {os.getpid()}"}
    client.close()


def test_replies_name_problems_and_the_connection_survives(make_run):
    run = make_run()
    raw = RawClient(run.server.path, backlog=False)
    bad = [b"{nope", b"[1]", b'{"type": "control", "id": 1, "action": "fly"}',
           b'{"type": "control", "id": 2, "action": "set", "name": "lr", "value": 20}',
           b'{"type": "control", "id": 3, "action": "set", "name": "lr", "value": "abc"}',
           b'{"type": "control", "id": 4, "action": "set", "name": "lr"}', b'{"type": "hello", "protocol": 1}']
    raw.send(b"\n".join(bad) + b'\n{"type": "control", "id": 9, "action": "pause"}\n')
    raw.read_until(lambda line: b'"id":9' in line)
    replies = [m for m in raw.messages() if m["type"] == "reply"]
    assert [(r["id"], r["ok"]) for r in replies] == [(None, False), (None, False), (1, False), (2, False), (3, False),
                                                    (4, False), (None, False), (9, True)]
    errors = [r["error"] for r in replies[:-1]]
    assert "not valid JSON" in errors[0] and "got list" in errors[1] and "'fly'" in errors[2]
    assert errors[3] == "learning rate: must be at most 10" and "not a number" in errors[4] and errors[5]
    assert "unknown message type 'hello'" in errors[6]
    wait_for(lambda: any(c.action == "pause" for c in run.received), what="the good control")
    run.advances()
    raw.close()
