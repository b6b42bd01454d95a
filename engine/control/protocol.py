"""The control socket's wire format: newline-delimited JSON objects, versioned by the first message.

client: {"type":"hello","protocol":1,"client":"attach","backlog":true}
server: {"type":"hello","protocol":1,"run_id":..,"pid":..,"run_dir":..}, then (backlog) every line of events.jsonl so
        far verbatim and {"type":"backlog_end"}, then each new log line verbatim as it is written; at run end
        {"type":"bye","reason":"run ended"}. A refused or broken connection gets {"type":"error","error":..} and is closed.
client: {"type":"control","id":7,"action":"set","name":"lr","value":0.002,"source":"user"} (pause, resume, stop,
        save, set); server: {"type":"reply","id":7,"ok":true} or {.., "ok":false,"error":"<one line>"}; a pause or
        resume that changes nothing is still passed on, its reply ok with "note":"already paused" (or "already running").
Protocol messages are compact JSON ('{"type":"'), log lines are not ('{"type": "'), so one prefix tells them apart.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

from engine.control.channel import Control, validate_knob
from engine.errors import InputError
from engine.safe_text import echo

PROTOCOL_VERSION = 1
SOCKET_FILE = "control.sock"
MAX_LINE = 64 * 1024  # bytes per client message line, newline included
ACTIONS = ("pause", "resume", "stop", "save", "set")
MAX_NAME = 64  # characters of a client name or a control's source
# Longest path bind()/connect() take: sun_path holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107
PROTOCOL_PREFIX = b'{"type":"'
BACKLOG_END = b'{"type":"backlog_end"}\n'


class ProtocolError(ValueError):
    """A message that breaks the protocol; str() is the one-line reason sent back."""


def encode(message: dict) -> bytes:
    """One message as a UTF-8 JSON line (NaN stays out: replies carry only finite numbers)."""
    return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def decode(line: bytes | str) -> dict:
    """One line back into an object; ProtocolError says why it is not one."""
    try:
        value = json.loads(line.decode("utf-8") if isinstance(line, bytes) else line)
    except UnicodeDecodeError:
        raise ProtocolError("message is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ProtocolError(f"message is not valid JSON ({error.msg} at column {error.colno})") from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number, brackets nested thousands deep
        raise ProtocolError(f"message is not usable JSON ({type(error).__name__})") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"message must be a JSON object, got {type(value).__name__}")
    return value


def _short_text(message: dict, key: str, default: str) -> str:
    value = message.get(key, default)
    if not isinstance(value, str):
        raise ProtocolError(f"{key}: must be a string")
    if len(value) > MAX_NAME or not value.isprintable():
        raise ProtocolError(f"{key}: must be at most {MAX_NAME} printable characters")
    return value


def client_hello(client: str, backlog: bool) -> dict:
    """The first message a client sends."""
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "client": client, "backlog": backlog}


def server_hello(run_id: str, run_dir: Path) -> dict:
    """The server's answer to a good hello."""
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "run_id": run_id, "pid": os.getpid(), "run_dir": str(run_dir)}


def check_hello(message: dict) -> tuple[str, bool]:
    """(client name, wants backlog) from a client's first message, or ProtocolError."""
    if message.get("type") != "hello":
        raise ProtocolError(f"first message must be a hello, got type {message.get('type')!r}")
    version = message.get("protocol")
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise ProtocolError(f"protocol {echo(version)} not supported; this run speaks protocol {PROTOCOL_VERSION}")
    backlog = message.get("backlog", True)
    if not isinstance(backlog, bool):
        raise ProtocolError("backlog: must be true or false")
    name = _short_text(message, "client", "client").strip() or "client"
    return name, backlog


def check_server_hello(message: dict) -> None:
    """Accept the server's hello or raise ProtocolError naming the mismatch."""
    if message.get("type") == "error":
        raise ProtocolError(f"refused: {message.get('error', 'no reason given')}")
    if message.get("type") != "hello":
        raise ProtocolError(f"expected the server's hello, got type {message.get('type')!r}")
    if message.get("protocol") != PROTOCOL_VERSION:
        raise ProtocolError(f"the run speaks protocol {message.get('protocol')!r}, this client {PROTOCOL_VERSION}")


def control_message(request_id: int, action: str, name: str = "", value: float = 0.0, source: str = "user") -> dict:
    """A client's control request."""
    message = {"type": "control", "id": request_id, "action": action, "source": source}
    if action == "set":
        message.update(name=name, value=value)
    return message


def request_id(message: dict) -> int | None:
    """The message's id if it is an integer, else None (replies then carry null)."""
    value = message.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def control_source(source: str, client: str, pid: int) -> str:
    """Who a control came from, as the log records it."""
    who = f"{client} pid {pid}"
    return who if source in ("", "user") else f"{source} via {who}"


def to_control(message: dict, client: str, pid: int) -> Control:
    """A validated Control from a client's control message, or ProtocolError naming the problem."""
    if message.get("type") != "control":
        raise ProtocolError(f"unknown message type {message.get('type')!r}; expected 'control'")
    if request_id(message) is None:
        raise ProtocolError("id: missing or not an integer")
    action = message.get("action")
    if action not in ACTIONS:
        raise ProtocolError(f"action: {echo(action)} is not one of {', '.join(ACTIONS)}")
    source = control_source(_short_text(message, "source", "user"), client, pid)
    if action != "set":
        return Control(action, source=source)
    name, value = message.get("name"), message.get("value")
    if not isinstance(name, str):
        raise ProtocolError("name: missing or not a string")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{name}: value missing or not a number")
    try:
        return Control("set", name, validate_knob(name, value), source)
    except InputError as error:
        raise ProtocolError(str(error)) from None


def reply(request: int | None, error: str = "", note: str = "") -> dict:
    """The answer to one control: ok (with a note such as 'already paused'), or the one-line problem."""
    if error:
        return {"type": "reply", "id": request, "ok": False, "error": error}
    return {"type": "reply", "id": request, "ok": True, **({"note": note} if note else {})}


def error_message(text: str) -> dict:
    """A connection-level error, sent just before the server closes the connection."""
    return {"type": "error", "error": text}


def peer_refusal(peer_uid: int, own_uid: int) -> str:
    """Why a peer may not connect ("" when it may): only the run's own user steers it."""
    if peer_uid == own_uid:
        return ""
    return f"uid {peer_uid} may not control a run owned by uid {own_uid}"


@contextlib.contextmanager
def socket_address(path: str | Path) -> Iterator[str]:
    """A path bind()/connect() accept for `path`: itself if short, else through an open fd of its directory.

    sun_path holds at most 107 bytes; /proc/self/fd/<fd>/<name> reaches any directory in a few dozen.
    """
    path = Path(path)
    if len(os.fsencode(str(path))) <= MAX_SOCKET_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
