"""The learning rate of each epoch (the drawn schedule times the fault's factors) and the other per-epoch faults,
shared by the Keras, Lightning and TensorBoard writers. Epochs count from 1, as the suite's onsets do."""

from __future__ import annotations

import math

from bench.transfer.spec import RunSpec


def schedule_factor(spec: RunSpec, epoch: int) -> float:
    """The drawn schedule's multiplier of the base lr (ReduceLROnPlateau is left to each writer's own callback)."""
    params = spec.plan.get("schedule", {})
    if spec.schedule == "step":
        return params["gamma"] ** ((epoch - 1) // params["every"])
    if spec.schedule == "exponential":
        return params["gamma"] ** (epoch - 1)
    if spec.schedule == "cosine":
        floor = params["floor"]
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / max(1, spec.epochs - 1)))
    if spec.schedule == "warmup":
        return min(1.0, epoch / params["epochs"])
    return 1.0


def fault_factor(spec: RunSpec, epoch: int) -> float:
    """The fault's multiplier: a one-epoch bump, a lasting jump or cut, growth per epoch, or a collapsing decay."""
    plan = spec.plan
    factor = plan.get("lr_at", {}).get(str(epoch), 1.0)
    for start, value in plan.get("lr_from", {}).items():
        if epoch >= int(start):
            factor *= value
    if "growth" in plan and epoch >= plan["growth"]["from"]:
        factor *= plan["growth"]["factor"] ** (epoch - plan["growth"]["from"] + 1)
    if "decay" in plan and epoch >= plan["decay"]["from"]:
        factor *= plan["decay"]["gamma"] ** (epoch - plan["decay"]["from"] + 1)
    return factor


def lr_at(spec: RunSpec, epoch: int) -> float:
    """The lr in force during `epoch` (before any plateau reduction)."""
    return spec.lr * schedule_factor(spec, epoch) * fault_factor(spec, epoch)


def bad_batch(spec: RunSpec, epoch: int, batch: int) -> float | None:
    """The factor that corrupts this batch's targets, if this is the planted bad batch."""
    bad = spec.plan.get("bad_batch")
    return bad["factor"] if bad and bad["epoch"] == epoch and bad["batch"] == batch else None


def uses_lr_callback(spec: RunSpec) -> bool:
    """Whether the lr changes per epoch by the plan (a scheduler callback is needed)."""
    return spec.schedule not in ("constant", "plateau") or any(k in spec.plan for k in ("lr_at", "lr_from", "growth", "decay"))
