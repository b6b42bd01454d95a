"""What a path names, told before anything opens it: a FIFO blocks open() for ever, a device reads for ever, and
`--force` must not replace either. Readers check with `check_input` (stat only) and then open with `open_regular`
(non-blocking, checked again on the descriptor), so a file swapped for a FIFO in between cannot hang them either."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from engine.errors import InputError

KINDS = {stat.S_IFREG: "a regular file", stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO",
         stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket",
         stat.S_IFLNK: "a symbolic link"}


def kind_of(mode: int) -> str:
    """'a FIFO', 'a directory', 'a character device', … for a stat mode."""
    return KINDS.get(stat.S_IFMT(mode), "a special file")


def not_regular(path: str | Path, mode: int, expected: str) -> InputError:
    """The one-line refusal of something that is not a regular file (a FIFO, a device, a socket, …)."""
    return InputError(str(path), f"is not a regular file ({kind_of(mode)}); expected {expected}")


def dangling_target(path: str | Path) -> str | None:
    """Where a symbolic link points when that target does not exist; None for anything else."""
    try:
        return os.readlink(path) if not os.path.exists(path) else None
    except OSError:
        return None


def _missing(path: str | Path, missing: str) -> InputError:
    target = dangling_target(path)
    detail = f" (a symbolic link to {target}, which does not exist)" if target is not None else ""
    return InputError(str(path), f"{missing}{detail}")


def check_input(path: str | Path, expected: str, missing: str = "file not found") -> bool:
    """Refuse a path that is missing (a dangling link named as such) or neither a regular file nor a directory,
    without opening it; True when it is a directory, which each caller accepts or refuses in its own words."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise _missing(path, missing) from None
    except OSError as error:
        problem = "is a symbolic link that loops" if error.errno == errno.ELOOP else f"cannot read ({error.strerror})"
        raise InputError(str(path), problem) from None
    if stat.S_ISDIR(info.st_mode):
        return True
    if not stat.S_ISREG(info.st_mode):
        raise not_regular(path, info.st_mode, expected)
    return False


def open_regular(path: str | Path, expected: str) -> BinaryIO:
    """Open a regular file for reading; InputError for anything else, found on the descriptor (no race with a check
    made earlier). O_NONBLOCK keeps open() from waiting on a FIFO; it is cleared again for the regular file."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode, expected)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | Path, expected: str, limit: int = -1) -> bytes:
    """The bytes of a regular file (at most `limit`), opened as `open_regular` does."""
    with open_regular(path, expected) as file:
        return file.read(limit)
