"""What a client checks before it starts a trainer process (torch-free): the options, the config, the run directory."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import Config, Override, load_config
from engine.config_file import default_config_file
from engine.errors import InputError
from engine.file_kinds import check_input
from engine.store.log_writer import continued_run_dir, new_run_dir

NO_SOCKET = ("false, but the dashboard is a client of the run's control socket; set control_socket=true, or train "
             "headless: stockpred-tui train")
CHECKPOINT = "a checkpoint (.pt) written by stockpred-tui"  # as engine/store/checkpoint.py words it


@dataclass
class RunOptions:
    """What the command line asked for."""

    config: str | None = None
    data: str | None = None
    epochs: int | None = None
    resume: str | None = None
    overrides: list[str] = field(default_factory=list)
    run_dir: str | None = None
    parent: str | None = None  # a branch: the run id its --resume checkpoint came from

    def labelled_overrides(self) -> list[Override]:
        """The values the options put over the base config, in order, each labelled with its option."""
        labelled = [Override.parse(text) for text in self.overrides]
        if self.data is not None:  # a path goes in verbatim: YAML could turn a name like '2024.csv' into something else
            labelled.append(Override(("data", "source"), self.data, "--data"))
        if self.epochs is not None:
            labelled.append(Override(("training", "epochs"), self.epochs, "--epochs"))
        return labelled


@dataclass
class RunPlan:
    """Where a trainer process will write, and whether the directory is new (made by this client) or a resumed run's."""

    run_dir: Path
    fresh: bool
    control_socket: bool = True
    made_log_dir: bool = False  # the log directory itself is new: a failed start removes it too

    def remove(self) -> None:
        """A new run that failed before training leaves nothing behind (its directory, and a log_dir made for it)."""
        if self.fresh:
            remove_new_run(self.run_dir, self.made_log_dir)


def remove_new_run(run_dir: Path, made_log_dir: bool) -> None:
    """Delete a new run's directory, and its log directory when that was made for it and is now empty."""
    shutil.rmtree(run_dir, ignore_errors=True)
    if made_log_dir:
        try:
            run_dir.parent.rmdir()
        except OSError:
            pass  # another run arrived meanwhile: not ours to remove


def check_resume_options(resume: str | None, config_path: str | None) -> None:
    """The checks on --resume that need no checkpoint: not empty, not combined with --config."""
    if resume is not None and not resume.strip():
        raise InputError("--resume", "empty path; expected a checkpoint file (.pt)")
    if resume and config_path is not None:
        raise InputError("--config", "cannot be combined with --resume (a resumed run keeps its checkpoint's "
                                     "config); change values with --set key=value")


def client_config(config_path: str | None, overrides: list[Override]) -> Config:
    """The config a new run will have, validated here (one line naming the field, nothing started)."""
    return load_config(config_path if config_path is not None else default_config_file(), overrides)


def _resume_log_dir(overrides: list[Override]) -> str:
    """Where a checkpoint copied out of its run gets a new directory: --set log_dir, else ./config.yaml's."""
    for override in reversed(overrides):
        if override.path == ("log_dir",):
            return str(override.value)
    return load_config(default_config_file()).log_dir


def _socket_refused(overrides: list[Override]) -> bool:
    """True when an option turns the control socket off (a resumed run's own config is the trainer's to read)."""
    for override in reversed(overrides):
        if override.path == ("control_socket",):
            return str(override.value).strip().lower() in {"false", "0", "no", "off"}
    return False


def plan_run(options, needs_socket: bool = False) -> RunPlan:
    """Validate what can be validated without torch and make the run directory a trainer process will use.

    `needs_socket`: the caller is a client of the run's control socket (the dashboard), so `control_socket: false`
    is refused in one line rather than waited on for ever. Nothing is written when the config is bad. A checkpoint's own problems (unreadable, another model) are the
    trainer process's to find: it reads the checkpoint with torch."""
    check_resume_options(options.resume, options.config)
    overrides = options.labelled_overrides()
    if needs_socket and _socket_refused(overrides):
        raise InputError("control_socket", NO_SOCKET)
    if options.resume and options.run_dir:  # a branch: the parent's checkpoint, in a directory of its own
        return RunPlan(Path(options.run_dir), fresh=True)
    if options.resume:
        check_input(options.resume, CHECKPOINT, missing=f"no such file; expected {CHECKPOINT}")  # the rest: the trainer's
        continued = continued_run_dir(options.resume)
        if continued is not None:
            return RunPlan(continued, fresh=False)
        log_dir = _resume_log_dir(overrides)
        return RunPlan(new_run_dir(log_dir), fresh=True, made_log_dir=not Path(log_dir).exists())
    config = client_config(options.config, overrides)
    if needs_socket and not config.control_socket:
        raise InputError("control_socket", NO_SOCKET)
    made = not Path(config.log_dir).exists()
    return RunPlan(new_run_dir(config.log_dir), fresh=True, control_socket=config.control_socket, made_log_dir=made)
