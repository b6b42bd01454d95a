"""Build a ready-to-run Trainer from CLI-style options (shared by headless training and the dashboard)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from engine.training.allocator import keep_freed_memory
from engine.store.checkpoint import load_checkpoint
from engine.config import Config, Origins, apply_overrides, config_from_dict, read_config_file, set_key
from engine.control.channel import ControlChannel
from engine.data.dataset import Scaler, prepare_data
from engine.errors import InputError
from engine.training.distributed import SINGLE, World, device_for, resolve_device
from engine.training.trainer import EventSink, Trainer

DEFAULT_CONFIG = "config.yaml"


@dataclass
class RunOptions:
    """What the command line asked for."""

    config: str | None = None
    data: str | None = None
    epochs: int | None = None
    resume: str | None = None
    overrides: list[str] = field(default_factory=list)
    run_dir: str | None = None


def resolve_config(options: RunOptions) -> tuple[Config, dict | None]:
    """The validated config (the checkpoint's when resuming) and the checkpoint state, if any.

    `--config` with `--resume` is refused: a resumed run keeps its checkpoint's config, changed only by `--set`.
    Errors name the option that set a bad value (`--set`, `--data`, `--epochs`) or else the file.
    """
    if options.resume and options.config:
        raise InputError("--config", "cannot be combined with --resume (a resumed run keeps its checkpoint's "
                                     "config); change values with --set key=value")
    state = load_checkpoint(options.resume) if options.resume else None
    if state is not None:
        raw, source = copy.deepcopy(state["config"]), f"{options.resume} (config)"
    elif options.config or Path(DEFAULT_CONFIG).is_file():
        source = options.config or DEFAULT_CONFIG
        raw = read_config_file(source)
    else:
        raw, source = {}, "config"
    if not isinstance(raw, dict):
        raise InputError(source, "top level must be a mapping of sections")
    origins: Origins = {}
    apply_overrides(raw, options.overrides, origins)
    if options.data:  # a path goes in verbatim: YAML could turn a name like '2024.csv' into something else
        set_key(raw, ["data", "source"], options.data, "--data", origins)
    if options.epochs is not None:
        set_key(raw, ["training", "epochs"], options.epochs, "--epochs", origins)
    return config_from_dict(raw, source, origins), state


def build_trainer(options: RunOptions, sinks: list[EventSink] | None = None, controls: ControlChannel | None = None,
                  pause_on_nonfinite: bool = False, world: World = SINGLE) -> Trainer:
    """Validate config, prepare data on the training device, and construct (or restore) the trainer."""
    config, state = resolve_config(options)
    keep_freed_memory()
    device = resolve_device(device_for(world, config.device))
    scaler = Scaler(**state["scaler"]) if state is not None else None
    data = prepare_data(config, device, scaler)
    return Trainer(config, data, sinks=sinks, controls=controls, resume=state, resume_path=options.resume,
                   pause_on_nonfinite=pause_on_nonfinite, run_dir=options.run_dir, world=world)
