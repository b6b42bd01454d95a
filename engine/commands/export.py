"""`stockpred-tui export`: a run's epoch table as CSV, written atomically through an unpredictable temporary."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from engine.errors import InputError
from engine.store.log_reader import read_any


def epoch_table(path: str) -> pd.DataFrame:
    """The epoch table with per-group statistics flattened into columns."""
    history, _ = read_any(path)
    return pd.json_normalize(history.records(), sep=".")


def _check_target(target: Path, force: bool) -> None:
    """Refuse a directory, a missing parent, and an existing file without --force; before any work is done."""
    if target.is_dir():
        raise InputError(str(target), "is a directory; give a file name for the CSV")
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
    """Write `text` to `target` through a temporary that mkstemp creates exclusively (O_EXCL, random name)."""
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
        # Replacing renames over the name itself: a symlink at `target` is replaced, its target left alone.
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(str(target), f"cannot write ({error.strerror or error})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_csv(path: str, out: str, force: bool = False) -> int:
    """Write the epoch table as CSV, refusing to overwrite unless asked."""
    target = Path(out)
    _check_target(target, force)
    table = epoch_table(path)
    write_atomically(target, table.to_csv(index=False))
    print(f"wrote {len(table)} epochs x {len(table.columns)} columns to {target}")
    return 0
