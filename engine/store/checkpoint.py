"""Atomic checkpoint files: write to a temporary file, fsync, rename; load with weights_only=True."""

from __future__ import annotations

import os
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import BinaryIO

import torch

from engine.errors import InputError
from engine.file_kinds import check_input, open_regular
from engine.store.checkpoint_state import check_state

FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"
KEY_TYPES = {"model": dict, "optimizer": dict, "epoch": int, "step": int, "config": dict, "scaler": dict,
             "hparams": dict, "rng": dict}
REQUIRED_KEYS = ("format", *KEY_TYPES)


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (a full disk, an I/O error); whatever was at its name is left as it was."""

    def __str__(self) -> str:
        return str(self.strerror)


class _WriteRecorder:
    """A file torch.save writes through, keeping the OSError of a failed write: torch reports it only as a
    RuntimeError ('unexpected pos …') that does not say the disk is full."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.error: OSError | None = None

    def write(self, data) -> int:
        """Write through, remembering the first OSError."""
        try:
            return self.file.write(data)
        except OSError as error:
            self.error = self.error or error
            raise

    def flush(self) -> None:
        """Flush through."""
        self.file.flush()


def _write_error(path: Path, error: OSError) -> CheckpointWriteError:
    return CheckpointWriteError(error.errno, f"{path}: cannot write the checkpoint ({error.strerror or error})")


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` so that `path` holds either the old file or the complete new one, never half; a failed write
    (a full disk) is a CheckpointWriteError naming `path`."""
    path = Path(path)
    recorder: _WriteRecorder | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        with os.fdopen(handle, "wb") as file:
            recorder = _WriteRecorder(file)
            torch.save({"format": FORMAT_VERSION, **state}, recorder)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        failure = recorder.error if recorder is not None and recorder.error else error
        if isinstance(failure, OSError):
            raise _write_error(path, failure) from None
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path


def _suggest_inside(directory: Path) -> str:
    """For a directory given as a checkpoint: the newest finished .pt under it, if any."""
    found = [p for p in [*directory.glob("*.pt"), *directory.glob("checkpoints/*.pt")] if not p.name.startswith(".")]
    newest = max(found, key=lambda p: p.stat().st_mtime, default=None)
    return f"; the newest checkpoint in it is {newest}" if newest else "; it holds no .pt checkpoint"


EXPECTED = "a checkpoint (.pt) written by stockpred-tui"


def _open_checked(path: Path) -> BinaryIO:
    """The checkpoint file opened for torch, after refusing what is not a finished checkpoint (a directory, a FIFO,
    a temporary, text, a pickle) without unpickling anything."""
    if check_input(path, EXPECTED, missing=f"no such file; expected {EXPECTED}"):
        raise InputError(str(path), f"is a directory, expected a checkpoint file (.pt){_suggest_inside(path)}")
    if path.name.endswith(".tmp"):
        raise InputError(str(path), "is the temporary of an unfinished save, never loaded; use a finished .pt beside it")
    try:
        file = open_regular(path, EXPECTED)
        head = file.read(64)
    except OSError as error:
        raise InputError(str(path), f"cannot read the checkpoint ({error.strerror or error})") from None
    if not head:
        file.close()
        raise InputError(str(path), "is empty (0 bytes); expected a checkpoint written by stockpred-tui")
    if not head.startswith(ZIP_MAGIC):
        file.close()
        text = all(32 <= byte < 127 or byte in b"\t\n\r" for byte in head)
        kind = "a pickle or a legacy torch file" if head[:1] == b"\x80" else "text" if text else "binary data"
        raise InputError(str(path), f"is {kind}, not a checkpoint: expected the zip archive that torch.save writes "
                                    "(other formats are never unpickled)")
    file.seek(0)
    return file


def _torch_problem(error: Exception) -> str:
    """What a torch.load failure means for the user, in words rather than torch's multi-paragraph notice."""
    text = str(error)
    if "Weights only load failed" in text or isinstance(error, pickle.UnpicklingError):
        return "holds Python objects other than tensors and plain data; refused unloaded (loading them could run code)"
    if "central directory" in text or isinstance(error, (EOFError, zipfile.BadZipFile)):
        return "is truncated or damaged (the zip archive is incomplete: an interrupted copy?); expected a whole checkpoint"
    return "is a zip archive that torch cannot read as a checkpoint (damaged, or another program's zip)"


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint safely (weights_only), or raise a one-line InputError naming the file and what is wrong."""
    path = Path(path)
    file = _open_checked(path)
    try:
        with file, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about legacy formats; the error below says it once
            state = torch.load(file, map_location="cpu", weights_only=True)
    except OSError as error:
        raise InputError(str(path), f"cannot read the checkpoint ({error.strerror or error})") from None
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, KeyError, ValueError... for bad files
        raise InputError(str(path), _torch_problem(error)) from None
    if not isinstance(state, dict):
        raise InputError(str(path), f"is a PyTorch file holding a {type(state).__name__}, not a stockpred-tui checkpoint "
                                    "(expected a dict with format, model, optimizer, ...)")
    if "format" not in state:
        keys = ", ".join(sorted(map(str, state))[:5])[:80]
        raise InputError(str(path), f"is a PyTorch checkpoint but not stockpred-tui's (no 'format' key; has {keys})")
    if not (type(state["format"]) is int and state["format"] == FORMAT_VERSION):
        raise InputError(str(path), f"is checkpoint format {str(state['format'])[:20]}; this version reads format "
                                    f"{FORMAT_VERSION}")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise InputError(str(path), f"is a damaged stockpred-tui checkpoint: lacks {', '.join(missing)}")
    wrong = [f"'{key}' is a {type(state[key]).__name__}, expected {kind.__name__}" for key, kind in KEY_TYPES.items()
             if not isinstance(state[key], kind) or isinstance(state[key], bool)]
    if wrong:
        raise InputError(str(path), f"is a damaged stockpred-tui checkpoint: {wrong[0]}")
    check_state(state, str(path))
    return state


def keep_numbered_copy(latest: Path, keep: int, epoch: int) -> None:
    """Hard-link `latest` as epochNNNN.pt (no second write) and delete numbered copies beyond the newest `keep`."""
    numbered = latest.with_name(f"epoch{epoch:04d}.pt")
    numbered.unlink(missing_ok=True)
    os.link(latest, numbered)
    for old in sorted(latest.parent.glob("epoch[0-9][0-9][0-9][0-9].pt"))[:-keep]:
        old.unlink(missing_ok=True)
