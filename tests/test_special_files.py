"""Every path argument of every command against what is not a file to read or replace: a FIFO, a directory, a
device, a socket, a dangling symbolic link and an unreadable file. Each is one line, exit 2, within a deadline (a
FIFO would block open() for ever, a device read for ever), and nothing is replaced or touched."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import socket
import stat
import sys

import pytest

from tests.histories import healthy_run
from tests.test_bad_inputs import TINY, tree
from tests.test_logs import write_log
from tui.cli import main

ROOT = os.geteuid() == 0
DEADLINE_S = 20  # bounds a hang only; a refusal takes milliseconds

# (name of the special path, the command with P where it goes, kinds for which the path is a valid argument)
ARGUMENTS = {
    "--config": ("c.yaml", ["train", "--config", "P"], ()),
    "--data": ("p.csv", ["train", "--data", "P", *TINY], ()),
    "--resume": ("c.pt", ["train", "--resume", "P"], ()),
    "replay": ("e.jsonl", ["replay", "P"], ()),
    "replay --follow": ("e.jsonl", ["replay", "P", "--follow"], ()),
    "diagnose": ("e.jsonl", ["diagnose", "P"], ()),
    "diagnose csv": ("m.csv", ["diagnose", "P"], ()),
    "export": ("e.jsonl", ["export", "P", "--csv", "out.csv"], ()),
    "compare": ("m.csv", ["compare", "good.jsonl", "P"], ()),
    "compare --csv in": ("e.jsonl", ["compare", "good.jsonl", "P", "--csv", "out.csv"], ()),
    "runs --tui": ("m.csv", ["runs", "--tui", "P"], ("directory",)),  # a directory is a run: the browser opens
    "export --csv": ("out.csv", ["export", "good.jsonl", "--csv", "P", "--force"], ()),
    "compare --csv": ("out.csv", ["compare", "good.jsonl", "--csv", "P", "--force"], ()),
    "runs --log-dir": ("logs", ["runs", "--log-dir", "P"], ("directory",)),  # an empty one lists no runs
    "attach --log-dir": ("logs", ["attach", "--log-dir", "P"], ()),
}
OUTPUTS = {"export --csv", "compare --csv"}


def _device(path) -> None:
    """A character device like /dev/zero (reads never end); a copy made with mknod, never the real one written."""
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))


def _socket(path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()  # the socket file stays; nothing listens


def _unreadable(path) -> None:
    """As root chmod 000 stops nothing: a link to /proc/self/mem, which is a regular file whose reads fail (EIO)."""
    if ROOT:
        os.symlink("/proc/self/mem", path)
    else:
        path.write_text("secret")
        path.chmod(0)


KINDS = {
    "fifo": os.mkfifo,
    "directory": lambda path: (path.mkdir(), (path / "inside.txt").write_text("x")),
    "device": _device,
    "socket": _socket,
    "dangling-symlink": lambda path: os.symlink("no-such-target", path),
    "unreadable": _unreadable,
}


@contextlib.contextmanager
def deadline(seconds: float):
    """Raise TimeoutError in the main thread after `seconds` (interrupting a blocking open() of a FIFO); a read that
    never leaves C (a device that never ends) cannot be interrupted, so at twice that the process ends, with tracebacks."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(2 * seconds, file=sys.__stderr__, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


CELLS = [(argument, kind) for argument in ARGUMENTS for kind in KINDS if kind not in ARGUMENTS[argument][2]]


@pytest.mark.parametrize("argument, kind", CELLS, ids=[f"{a}-{k}" for a, k in CELLS])
def test_a_special_path_is_one_line_and_nothing_is_replaced(tmp_path, capsys, argument, kind):
    name, template, _ = ARGUMENTS[argument]
    if kind == "device" and not ROOT:
        pytest.skip("mknod needs root; a real device is never given to a command that might write it")
    if kind == "unreadable" and argument in OUTPUTS and not ROOT:
        pytest.skip("an unreadable regular file is a file --force may replace; as root it is a link, refused")
    write_log(tmp_path / "good.jsonl", healthy_run(3))
    KINDS[kind](tmp_path / name)
    before = tree(tmp_path)
    with deadline(DEADLINE_S):
        code = main([name if part == "P" else part for part in template])
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (2, 1), err
    assert err.startswith(f"error: {name}") and "Traceback" not in err, err
    assert tree(tmp_path) == before  # the special file is still what it was; no output, no run directory


@pytest.mark.parametrize("kind", ["fifo", "device", "socket", "directory"])
def test_force_refuses_a_special_file_in_words_that_say_so(tmp_path, capsys, kind):
    if kind == "device" and not ROOT:
        pytest.skip("mknod needs root")
    write_log(tmp_path / "good.jsonl", healthy_run(2))
    KINDS[kind](tmp_path / "out.csv")
    assert main(["export", "good.jsonl", "--csv", "out.csv", "--force"]) == 2
    err = capsys.readouterr().err
    words = {"fifo": "is a FIFO, not a regular file; --force replaces only a regular file",
             "device": "is a character device, not a regular file", "socket": "is a socket, not a regular file",
             "directory": "is a directory; give a file name for the CSV"}
    assert err == f"error: out.csv: {words[kind]}" + ("; --force replaces only a regular file\n"
                                                     if kind in ("device", "socket") else "\n")


def test_a_symlink_as_the_output_is_refused_and_its_target_left_alone(tmp_path, capsys):
    write_log(tmp_path / "good.jsonl", healthy_run(2))
    (tmp_path / "real.csv").write_text("precious\n")
    os.symlink("real.csv", tmp_path / "link.csv")
    for command in (["export", "good.jsonl"], ["compare", "good.jsonl"]):
        assert main([*command, "--csv", "link.csv", "--force"]) == 2
        assert capsys.readouterr().err == ("error: link.csv: is a symbolic link (to real.csv); give the file itself, "
                                           "which --force may replace\n")
    assert (tmp_path / "real.csv").read_text() == "precious\n" and (tmp_path / "link.csv").is_symlink()
    assert main(["export", "good.jsonl", "--csv", "real.csv", "--force"]) == 0  # the file itself: replaced
    assert "epoch" in (tmp_path / "real.csv").read_text().splitlines()[0]
