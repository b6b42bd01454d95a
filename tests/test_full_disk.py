"""The machine refuses a write (a full disk): one line naming the file that could not be written and the checkpoint
that was kept, exit 1, never a traceback. The disk fills by monkeypatching the writes (a tmpfs needs root)."""

from __future__ import annotations

import errno
import importlib
import os
from pathlib import Path

import pytest

from tests.conftest import TINY
from tests.run_helpers import set_args
from tui.cli import main

TRAIN = ["train", *set_args([*TINY, "log_dir=logs", "training.epochs=4", "training.early_stopping.enabled=false"])]
NO_SPACE = os.strerror(errno.ENOSPC)


class FullDisk:
    """A file whose every write fails as on a full disk; everything else goes to the real file."""

    def __init__(self, file) -> None:
        self.file = file

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, NO_SPACE)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self) -> "FullDisk":
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


class _Os:
    """The os module as one engine module sees it, with one function replaced."""

    def __getattr__(self, name):
        return getattr(os, name)


def fill_after(monkeypatch, module: str, name: str, full, wrap) -> None:
    """Once `full(calls so far)` holds, `os.<name>` as `module` calls it fails as on a full disk (`wrap` makes the
    failure from the real function); other modules keep the real os."""
    real, count, view = getattr(os, name), [0], _Os()

    def patched(*args, **kwargs):
        count[0] += 1
        return wrap(real, args, kwargs) if full(count[0]) else real(*args, **kwargs)

    setattr(view, name, patched)
    monkeypatch.setattr(importlib.import_module(module), "os", view)


def _full_file(real, args, kwargs):
    return FullDisk(real(*args, **kwargs))


def _refused_write(real, args, kwargs):
    raise OSError(errno.ENOSPC, NO_SPACE)


def _once_saved(calls: int) -> bool:
    """Full once the run has written its first last.pt."""
    return any(Path("logs").glob("*/checkpoints/last.pt"))


@pytest.mark.parametrize("module, name, full, wrap, failed, kept", [
    ("engine.store.checkpoint", "fdopen", lambda calls: True, _full_file, "checkpoints/best.pt: cannot write the checkpoint", False),
    ("engine.store.checkpoint", "fdopen", lambda calls: calls >= 4, _full_file, ": cannot write the checkpoint", True),
    ("engine.store.log_writer", "write", _once_saved, _refused_write, "events.jsonl: cannot append to the log", True),
    ("engine.store.log_writer", "fdopen", lambda calls: True, _full_file, "config.yaml: cannot create the run directory", False),
], ids=["first-checkpoint", "a-later-checkpoint", "the-log", "the-run-config"])
def test_a_full_disk_names_the_file_and_what_was_kept(tmp_path, capsys, monkeypatch, module, name, full, wrap,
                                                       failed, kept):
    fill_after(monkeypatch, module, name, full, wrap)
    assert main(TRAIN) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert failed in err and f"({NO_SPACE})" in err, err
    if kept:
        checkpoint = err.split("; kept: ")[1].split(" (resume: ")[0]
        assert Path(checkpoint).is_file() and f"resume: stockpred-tui train --resume {checkpoint})" in err
    else:
        assert err.endswith("; no checkpoint was kept\n")
    temporaries = [p for p in tmp_path.rglob(".*.tmp")]
    assert temporaries == []  # a failed save leaves no half-written temporary behind
