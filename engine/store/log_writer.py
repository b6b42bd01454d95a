"""One directory per run: an append-only events.jsonl, the resolved config, and checkpoints/.

File modes: a run directory and its checkpoints/ are 0700 and every file in them 0600, whatever the umask
(a run's config and log can name private paths; checkpoints hold the model).
"""

from __future__ import annotations

import errno
import os
import secrets
import time
from pathlib import Path

import yaml

from engine.events import Event

EVENTS_FILE = "events.jsonl"
CONFIG_FILE = "config.yaml"
CHECKPOINTS = "checkpoints"
DIR_MODE, FILE_MODE = 0o700, 0o600
# A temporary untouched this long belongs to a dead writer: a live one rewrites it within seconds (torch.save
# streams into it), and the only writers in a run directory are the run's own process and `export`.
STALE_TEMPORARY_S = 60.0
ID_ATTEMPTS = 50


class LogWriteError(OSError):
    """The log could not take a line (full disk, I/O error); the file still ends with a complete line."""

    def __str__(self) -> str:
        return str(self.strerror)


def _make_private_dir(path: Path) -> None:
    """mkdir with mode 0700; FileExistsError if it exists (the exclusive create that keeps two runs apart)."""
    os.mkdir(path, DIR_MODE)
    os.chmod(path, DIR_MODE)  # a umask such as 0o277 could have taken bits away


def new_run_dir(log_dir: str | Path) -> Path:
    """Create logs/<run-id>/ (sortable id) exclusively; a second run in the same second draws another id."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(ID_ATTEMPTS):
        path = log_dir / (time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2))
        try:
            _make_private_dir(path)
        except FileExistsError:
            continue
        _make_private_dir(path / CHECKPOINTS)
        return path
    raise FileExistsError(errno.EEXIST, f"no free run id after {ID_ATTEMPTS} tries", str(log_dir))


def remove_stale_temporaries(run_dir: Path, older_than_s: float = STALE_TEMPORARY_S) -> list[Path]:
    """Delete `.*.tmp` files of writers that died mid-save (untouched for `older_than_s`); returns what went."""
    removed, now = [], time.time()
    for folder in (run_dir, run_dir / CHECKPOINTS):
        for path in folder.glob(".*.tmp"):
            try:
                if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > older_than_s:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue  # gone already, or not ours to delete: leave it
    return removed


def _write_private(path: Path, text: str) -> None:
    """Create `path` 0600 exclusively and write `text`; an existing file is left as it is."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        if not path.is_symlink():
            os.chmod(path, FILE_MODE)  # written by an older version under the umask
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:  # a full disk: say which file (a failed write names none)
        raise OSError(error.errno, error.strerror, str(path)) from None


class RunLog:
    """Appends one JSON line per event with a single write on an O_APPEND descriptor; readers see it at once."""

    def __init__(self, run_dir: Path, config: dict | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / EVENTS_FILE
        (self.run_dir / CHECKPOINTS).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for folder in (self.run_dir, self.run_dir / CHECKPOINTS):
            os.chmod(folder, DIR_MODE)
        self.removed_temporaries = remove_stale_temporaries(self.run_dir)
        if config is not None:
            _write_private(self.run_dir / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        os.fchmod(self._fd, FILE_MODE)
        self._size = os.fstat(self._fd).st_size
        if self._size and self._last_byte() != b"\n":
            # A writer killed mid-line left a fragment: end it, so it stays a corrupt line of its own.
            self._append(b"\n")

    def _last_byte(self) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1)

    def _append(self, data: bytes) -> None:
        """One os.write of the whole line; a short or failed write is cut back so no torn line stays."""
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as error:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass  # nothing more we can do; readers skip a torn last line with a notice
            raise LogWriteError(error.errno, f"{self.path}: cannot append to the log ({error.strerror or error})") from None
        self._size += written

    def write(self, event: Event) -> None:
        """Append one event as one line; raises LogWriteError (an OSError) when the disk refuses it."""
        self._append((event.to_json() + "\n").encode("utf-8"))

    __call__ = write

    def close(self) -> None:
        """Flush to disk and close."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def continued_run_dir(resume_path: str | Path | None) -> Path | None:
    """The run directory a resumed checkpoint continues (its log is there), or None: the run starts a new one."""
    parent = Path(resume_path).resolve().parent.parent if resume_path else None
    return parent if parent is not None and (parent / EVENTS_FILE).exists() else None


def run_dir_for(log_dir: str | Path, resume_path: str | None = None) -> Path:
    """A resumed run continues in its checkpoint's run directory (same log); a new run gets a new one."""
    return continued_run_dir(resume_path) or new_run_dir(log_dir)


def append_line(path: Path, event: Event) -> None:
    """One whole event line appended with a single write (another writer's lines never interleave with it)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(descriptor, (event.to_json() + "\n").encode())
    finally:
        os.close(descriptor)
