"""The control socket's edges: numbers no float holds, repeated pauses, a full house of silent clients, and the client
against the controller protocol."""

from __future__ import annotations

import json
import os

import pytest

from engine.control import protocol
from engine.control.client import ControlClient
from engine.errors import InputError
from tests.control_harness import RawClient, wait_for

# -- the socket's edges: huge numbers, repeated pauses, a full house of silent clients ------------
@pytest.mark.parametrize("name, value, label, digits", [
    ("lr", 10 ** 399, "learning rate", 400),
    ("dropout", -(10 ** 399), "dropout", 400),
    ("weight_decay", int("9" * 1000), "weight decay", 1000),
], ids=["lr-400-digits", "dropout-minus-400-digits", "weight-decay-1000-digits"])
def test_a_number_no_float_holds_gets_an_error_naming_the_knob_and_the_connection_stays(make_run, name, value, label,
                                                                                        digits):
    run = make_run()
    raw = RawClient(run.server.path, backlog=False)
    huge = json.dumps({"type": "control", "id": 1, "action": "set", "name": name, "value": value}).encode()
    raw.send(huge + b'\n{"type": "control", "id": 2, "action": "save"}\n')
    raw.read_until(lambda line: b'"id":2' in line)
    replies = {m["id"]: m for m in raw.messages() if m["type"] == "reply"}
    assert replies[1] == {"type": "reply", "id": 1, "ok": False,
                          "error": f"{label}: must be a finite number (got an integer of {digits} digits)"}
    assert replies[2] == {"type": "reply", "id": 2, "ok": True}  # the same connection goes on
    wait_for(lambda: any(c.action == "save" for c in run.received), what="the save after it")
    assert not any(c.action == "set" for c in run.received)
    raw.close()


@pytest.mark.parametrize("actions, notes", [
    (["pause", "pause"], [None, "already paused"]),
    (["resume"], ["already running"]),
    (["pause", "resume", "resume", "pause", "pause"], [None, None, "already running", None, "already paused"]),
])
def test_a_repeated_pause_or_resume_is_answered_as_such_and_logged_once(make_run, actions, notes):
    run = make_run()
    raw = RawClient(run.server.path, backlog=False)
    # All at once: the replies go out before the run has logged any of them.
    raw.send(b"".join(protocol.encode(protocol.control_message(n, a)) for n, a in enumerate(actions, 1)))
    raw.read_until(lambda line: b'"id":%d' % len(actions) in line)
    replies = [m for m in raw.messages() if m["type"] == "reply"]
    assert [r.get("note") for r in replies] == notes and all(r["ok"] for r in replies)
    wait_for(lambda: sum(c.action in ("pause", "resume") for c in run.received) == len(actions), what="every control")
    run.advances()
    logged = [json.loads(line)["type"] for line in run.lines() if json.loads(line)["type"] in ("paused", "resumed")]
    assert logged == [{"pause": "paused", "resume": "resumed"}[a] for a, n in zip(actions, notes) if n is None]
    raw.close()


def test_a_pause_the_log_already_shows_is_answered_already_paused(make_run):
    run = make_run()
    run.controls.pause("dashboard")  # paused in-process: the server learns it from the log alone
    wait_for(lambda: any(b'"type": "paused"' in line for line in run.lines()), what="the pause in the log")
    client = RawClient(run.server.path, backlog=False)
    client.send(protocol.encode(protocol.control_message(1, "pause")) + protocol.encode(protocol.control_message(2, "resume")))
    client.read_until(lambda line: b'"id":2' in line)
    assert [m.get("note") for m in client.messages() if m["type"] == "reply"] == ["already paused", None]
    client.close()


@pytest.mark.parametrize("greeted, half_line", [(0, True), (0, False), (31, True)])
def test_silent_clients_filling_every_slot_do_not_lock_the_owner_out(make_run, greeted, half_line):
    run = make_run(max_clients=32, hello_timeout=60)  # the deadline is far off: room is made, not waited for
    holders = [RawClient(run.server.path, backlog=False) for _ in range(greeted)]
    stallers = [RawClient(run.server.path, hello=False) for _ in range(32 - greeted)]
    for staller in stallers:
        if half_line:
            staller.send(b'{"type": "hello", "proto')
    wait_for(lambda: run.server.connections == 32, what="every slot taken")
    owner = ControlClient(run.server.path, client_name="owner", backlog=False, timeout=10)
    owner.pause()
    wait_for(lambda: any(c.action == "pause" and c.source.startswith("owner") for c in run.received), what="the owner's pause")
    evicted = stallers[0].read_to_end()  # the oldest silent one made room, and was told why
    assert [json.loads(line)["error"] for line in evicted] == ["closed to make room: no hello yet and the run's connections are full"]
    assert "evicted: no hello while the connections were full" in run.server.dropped
    assert run.server.connections == 32
    owner.close()
    for client in holders + stallers[1:]:
        client.close()


def test_a_full_house_of_greeted_clients_still_refuses_the_next(make_run):
    run = make_run(max_clients=4)
    holders = [RawClient(run.server.path, backlog=False) for _ in range(4)]
    wait_for(lambda: sum(c.name == "client attached" for c in run.received) == 4, what="four greeted")
    with pytest.raises(InputError, match=r"too many clients \(at most 4\)"):
        ControlClient(run.server.path, backlog=False)
    for holder in holders:
        holder.close()


def test_the_client_fits_the_controller_protocol_and_put_and_interrupt_go_over_the_socket(make_run):
    from engine.control.channel import Control, ControlChannel, Controller

    declared = {name for name in vars(Controller) if not name.startswith("_")}
    assert {"put", "interrupt", "pause", "resume", "stop", "save", "set"} <= declared
    assert all(callable(getattr(kind, name, None)) for kind in (ControlClient, ControlChannel) for name in declared)
    run = make_run()
    run.advances()
    client = ControlClient(run.server.path)
    client.read_backlog()
    replies = []
    client.start(lambda events: None, replies.append, lambda why: None)
    client.put(Control("set", "lr", 0.003))
    client.interrupt(source="SIGTERM")
    wait_for(lambda: len(replies) == 3, what="three replies")
    assert all(reply["ok"] for reply in replies)
    wait_for(lambda: len(run.received) >= 4, what="controls reaching the loop")
    me = f"attach pid {os.getpid()}"
    assert [(c.action, c.name, c.value) for c in run.received[1:4]] == [("set", "lr", 0.003), ("save", "", 0.0),
                                                                      ("stop", "", 0.0)]
    assert run.received[2].source == f"SIGTERM via {me}"
    client.close()
    run.stop()
