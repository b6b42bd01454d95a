"""Build a ready-to-run Trainer from CLI-style options (shared by headless training and the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.allocator import keep_freed_memory
from engine.checkpoint import load_checkpoint
from engine.config import Config, apply_overrides, config_from_dict, read_config_file
from engine.controls import ControlChannel
from engine.dataset import Scaler, prepare_data
from engine.trainer import EventSink, Trainer, resolve_device

DEFAULT_CONFIG = "config.yaml"


@dataclass
class RunOptions:
    """What the command line asked for."""

    config: str | None = None
    data: str | None = None
    epochs: int | None = None
    resume: str | None = None
    overrides: list[str] = field(default_factory=list)


def resolve_config(options: RunOptions) -> tuple[Config, dict | None]:
    """The validated config (the checkpoint's when resuming) and the checkpoint state, if any."""
    state = load_checkpoint(options.resume) if options.resume else None
    if state is not None:
        raw, source = state["config"], f"{options.resume} (config)"
    elif options.config or Path(DEFAULT_CONFIG).is_file():
        source = options.config or DEFAULT_CONFIG
        raw = read_config_file(source)
    else:
        raw, source = {}, "config"
    overrides = list(options.overrides)
    if options.data:
        overrides.append(f"data.source={options.data}")
    if options.epochs is not None:
        overrides.append(f"training.epochs={options.epochs}")
    # Paths go in verbatim: YAML would read 'prices.csv' fine but could turn '2024.csv'-like names into numbers.
    raw = apply_overrides(raw, [o for o in overrides if not o.startswith("data.source=")])
    for override in overrides:
        if override.startswith("data.source="):
            raw.setdefault("data", {})["source"] = override.partition("=")[2]
    return config_from_dict(raw, source), state


def build_trainer(options: RunOptions, sinks: list[EventSink] | None = None, controls: ControlChannel | None = None,
                  pause_on_nonfinite: bool = False) -> Trainer:
    """Validate config, prepare data on the training device, and construct (or restore) the trainer."""
    config, state = resolve_config(options)
    keep_freed_memory()
    device = resolve_device(config.device)
    scaler = Scaler(**state["scaler"]) if state is not None else None
    data = prepare_data(config, device, scaler)
    return Trainer(config, data, sinks=sinks, controls=controls, resume=state, resume_path=options.resume,
                   pause_on_nonfinite=pause_on_nonfinite)
