"""Where `export` and `compare --csv` write: a new file, or with `--force` a regular file replaced atomically.

A device, FIFO, socket or directory at the name is refused with or without `--force` (replacing one by renaming
over it would swap `/dev/full` for a CSV). So is a symbolic link: writing through it would put the table wherever it
points (a link planted in a shared directory), replacing it would silently cut the link the person made.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from engine.errors import InputError
from engine.file_kinds import kind_of


def _refuse_special(target: Path) -> None:
    """InputError unless `target` is missing or a regular file (not a link to one either)."""
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISLNK(mode):
        raise InputError(str(target), f"is a symbolic link (to {os.readlink(target)}); give the file itself, "
                                      "which --force may replace")
    if stat.S_ISDIR(mode):
        raise InputError(str(target), "is a directory; give a file name for the CSV")
    if not stat.S_ISREG(mode):
        raise InputError(str(target), f"is {kind_of(mode)}, not a regular file; --force replaces only a regular file")


def check_output(target: Path, force: bool) -> None:
    """Refuse the name before any work is done: special, a link, existing without --force, or without a directory."""
    _refuse_special(target)
    if target.exists() and not force:
        raise InputError(str(target), "already exists; pass --force to overwrite")
    if not target.parent.is_dir():
        raise InputError(str(target), f"parent directory {target.parent} does not exist")


def _final_mode(target: Path) -> int:
    """The mode a plain `open(..., "w")` would give: the replaced file's, else 0666 less the umask."""
    if target.is_file() and not target.is_symlink():
        return target.stat().st_mode & 0o777
    umask = os.umask(0o077)  # reading the umask means setting it; the CLI is single-threaded here
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(target: Path, text: str) -> None:
    """Write `text` to `target` through a temporary that mkstemp creates exclusively (O_EXCL, random name), renamed
    over it; what is at `target` is checked once more just before the rename."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise InputError(str(target), f"cannot write here ({error.strerror or error})") from None
    try:
        os.fchmod(handle, _final_mode(target))
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        _refuse_special(target)  # something else may have been put there while the table was built
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(str(target), f"cannot write ({error.strerror or error})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
