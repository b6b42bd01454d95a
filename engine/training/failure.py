"""How a run that fails says so: one line naming the error (and the rank, and what to lower after running out of memory)."""

from __future__ import annotations

import torch

from engine.training.distributed import World


def failure_message(error: BaseException, world: World, batch_size: int) -> str:
    """The first line of the error, prefixed by its type, with the remedy for out-of-memory and the rank under torchrun."""
    message = f"{type(error).__name__}: {error}".splitlines()[0]
    if isinstance(error, torch.OutOfMemoryError):
        message += f" (batch_size {batch_size}: lower training.batch_size or model.hidden_size)"
    return f"rank {world.rank}: {message}" if world.distributed else message


def run_dir_failure(error: OSError, log_dir: str) -> str:
    """'<path>: cannot create the run directory (<reason>)'."""
    return f"{error.filename or log_dir}: cannot create the run directory ({error.strerror or error})"
