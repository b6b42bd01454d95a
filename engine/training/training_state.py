"""What a checkpoint holds of a trainer, and how a trainer takes it back (saving itself is engine/store/checkpoint.py)."""

from __future__ import annotations

import dataclasses

import torch

from engine.training.distributed import gather_objects
from engine.training.epoch import EpochInProgress
from engine.training.epoch_sums import EpochSums
from engine.errors import InputError


def capture(trainer) -> dict:
    """Everything needed to continue exactly (with several ranks a collective: every rank must call it)."""
    rng = {"torch": torch.get_rng_state(), "shuffle": trainer.shuffle.get_state()}
    if trainer.world.distributed:
        rng["torch_ranks"] = gather_objects(torch.get_rng_state(), trainer.world)
    if trainer.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(trainer.device)
    epoch = trainer.in_progress  # None between epochs: a resume starts the next one
    return {
        "model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
        "epoch": trainer.epoch, "step": trainer.step, "batch": trainer.batch,
        "perm": None if epoch is None else epoch.order,
        "acc": None if epoch is None else epoch.sums.totals(), "count": 0 if epoch is None else epoch.sums.count,
        "config": trainer.config.model_dump(), "scaler": dataclasses.asdict(trainer.data.scaler),
        "fingerprint": trainer.data.fingerprint, "hparams": trainer.hparams, "rng": rng, "run_id": trainer.run_id,
        "world_size": trainer.world.size, "early": trainer.early_stop.state(),
    }


def restore(trainer, state: dict, source: str) -> None:
    """Load a checkpoint's state into a freshly built trainer, or raise a one-line InputError naming `source`."""
    if state.get("fingerprint") != trainer.data.fingerprint:
        raise InputError(source, "was trained on different data than the configured source")
    saved_world = state.get("world_size", 1)
    if saved_world != trainer.world.size:
        raise InputError(source, f"was written by {saved_world} process(es); resume it with the same number (this "
                                 f"job has {trainer.world.size}): each rank's data share and random state depend on it")
    try:
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise InputError(source, f"does not fit this model ({str(error).splitlines()[0][:100]})") from None
    trainer.epoch, trainer.step = state["epoch"], state["step"]
    if state["perm"] is not None:  # saved mid-epoch: continue that epoch at its next batch
        sums = EpochSums.restored(trainer.device, state["acc"], int(state.get("count", 0)))
        trainer.in_progress = EpochInProgress(state["perm"].to(trainer.device), sums or EpochSums(trainer.device),
                                              batch=state["batch"])
    for name, value in state["hparams"].items():
        trainer.set_knob(name, value)
    trainer.early_stop.load_state(state["early"])
    per_rank = state["rng"].get("torch_ranks", [state["rng"]["torch"]] * trainer.world.size)
    torch.set_rng_state(per_rank[trainer.world.rank])
    restore_shuffle(trainer.shuffle, state["rng"]["shuffle"], trainer.config.seed + trainer.epoch)
    if "cuda" in state["rng"] and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"], trainer.device)


def restore_shuffle(shuffle: torch.Generator, saved: torch.Tensor, reseed: int) -> None:
    """Put the shuffle generator back, or seed it with `reseed` when the state comes from another kind of device.

    A CPU generator keeps a Mersenne Twister (5056 bytes), a CUDA one a Philox seed and offset (16 bytes): a run moved
    between CPU and GPU cannot go on with the saved stream. The epoch in progress keeps its saved order; the later
    epochs draw theirs from the run's seed and epoch, so the same move resumes the same way twice.
    """
    if saved.numel() == shuffle.get_state().numel():
        shuffle.set_state(saved)
    else:
        shuffle.manual_seed(reseed)
