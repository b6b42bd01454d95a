"""Build a ready-to-run Trainer from CLI-style options (shared by headless training and the dashboard)."""

from __future__ import annotations

from typing import Callable

from engine.training.allocator import keep_freed_memory
from engine.store.checkpoint import load_checkpoint
from engine.store.checkpoint_state import check_fits, check_restorable
from engine.config import Config, Override, load_config
from engine.config_file import default_config_file
from engine.control.channel import Control, ControlChannel
from engine.commands.run_plan import RunOptions, check_resume_options  # RunOptions: re-exported for importers
from engine.data.dataset import FEATURES, Scaler, prepare_data
from engine.errors import InputError
from engine.knobs import knob_by_path, knob_values
from engine.training.distributed import SINGLE, World, device_for, resolve_device
from engine.training.run_resources import RunResources
from engine.training.trainer import EventSink, Trainer


def resolve_config(options: RunOptions) -> tuple[Config, dict | None]:
    """The validated config (the checkpoint's when resuming) and the checkpoint state, if any.

    The base is the checkpoint's config when resuming, else --config, else ./config.yaml when present, else the
    defaults. `--config` with `--resume` is refused: a resumed run keeps its checkpoint's config, changed only by
    `--set`. Errors name the option that set a bad value (`--set`, `--data`, `--epochs`) or else the file.
    """
    check_resume_options(options.resume, options.config)
    state = load_checkpoint(options.resume) if options.resume else None
    overrides = options.labelled_overrides()
    if state is not None:
        config = load_config(None, overrides, base=state["config"], base_label=f"{options.resume} (config)")
        refuse_values_a_resume_ignores(config, overrides, state)
        return config, state
    return load_config(options.config if options.config is not None else default_config_file(), overrides), None


def refuse_values_a_resume_ignores(config: Config, overrides: list[Override], state: dict) -> None:
    """A resumed run goes on from its checkpoint's random state: a `--set seed` would be recorded in its config
    without being in force."""
    for override in overrides:
        if override.path == ("seed",) and config.seed != state["config"].get("seed", config.seed):
            raise InputError(override.label, "seed: a resumed run goes on from its checkpoint's random state; a seed "
                                             "applies to new runs only")


def knobs_set_on_resume(config: Config, overrides: list[Override], state: dict) -> list[Control]:
    """The knobs a `--set` changes from the values the checkpoint has in force (which the trainer restores, the
    optimiser's learning rate included), as controls: the trainer applies them at its first step and logs each as an
    `hparam` event from `--set`, so the config it records is the one in force."""
    live, changes = knob_values(config.model_dump()), {}
    for override in overrides:
        knob = knob_by_path(".".join(override.path))
        saved = state["hparams"].get(knob.name) if knob is not None else None
        if saved is not None and live[knob.name] != saved:
            changes[knob.name] = Control("set", knob.name, live[knob.name], override.label)
    return list(changes.values())


def build_trainer(options: RunOptions, sinks: list[EventSink] | None = None, controls: ControlChannel | None = None,
                  pause_on_nonfinite: bool = False, world: World = SINGLE, resources: RunResources | None = None,
                  phase: Callable[[str], None] | None = None) -> Trainer:
    """Validate config, prepare data on the training device, and construct (or restore) the trainer.

    `resources`: the run a trainer process opened before importing torch; `phase` hears each startup stage."""
    config, state = resolve_config(options)
    controls = controls or ControlChannel()
    if state is not None and world.is_main:  # rank 0's controls reach every rank at the same step
        for control in knobs_set_on_resume(config, options.labelled_overrides(), state):
            controls.put(control)
    keep_freed_memory()
    device = resolve_device(device_for(world, config.device))
    if state is not None:
        check_restorable(state, options.resume, len(FEATURES))
    scaler = Scaler(**state["scaler"]) if state is not None else None
    data = prepare_data(config, device, scaler, phase)
    if state is not None and state.get("fingerprint") == data.fingerprint:  # other data: the trainer says so
        check_fits(state, options.resume, len(data.ends["train"]), config.training.batch_size, world.size)
    if phase is not None:
        phase("building the model")
    return Trainer(config, data, sinks=sinks, controls=controls, resume=state, resume_path=options.resume,
                   pause_on_nonfinite=pause_on_nonfinite, run_dir=options.run_dir, world=world, resources=resources,
                   parent=options.parent)
