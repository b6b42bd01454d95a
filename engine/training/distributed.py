"""Data-parallel training under torchrun: who this process is, how controls reach every rank at the same step.

Rank 0 owns the log, the checkpoints and the control socket. At every step boundary it drains its ControlChannel
and broadcasts what to apply as one small float64 tensor; every rank applies the same controls at the same step,
so no rank ever trains with another learning rate or dropout. While paused, rank 0 broadcasts a heartbeat packet
every PAUSED_POLL_S, so the other ranks never sit in one collective for long (a pause can last hours).
"""

from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path

import torch
import torch.distributed as dist

from engine.control.channel import Control, ControlChannel
from engine.errors import InputError
from engine.knobs import KNOBS as ALL_KNOBS
from engine.training.world import SINGLE, World, world_from_env  # noqa: F401 (re-exported for importers)

ACTIONS = ("pause", "resume", "stop", "interrupt", "save", "set")
KNOBS = tuple(ALL_KNOBS)  # a knob travels as its index here: every rank has the same table
PER_PACKET = 4  # controls applied per step at most; more wait for the next step, in order
PAUSED_POLL_S = 0.5
TRACE_ENV = "STOCKPRED_CONTROL_TRACE"  # a directory: each rank appends the controls it applied (diagnostics, tests)




def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device", f"'{name}' requested but CUDA is not available")
    return torch.device(name)


def device_for(world: World, requested: str) -> str:
    """LOCAL_RANK picks the GPU; on CPU every rank uses the CPU."""
    if world.distributed and requested in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{world.local_rank}"
    return requested


def join(world: World, device: torch.device) -> None:
    """Join the process group (nccl on CUDA, gloo on CPU) and give each rank its share of the cores."""
    if not world.distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank, world_size=world.size)
    local = int(os.environ.get("LOCAL_WORLD_SIZE", world.size))
    # torchrun's own default is one thread per process; cores from the affinity mask split evenly serve CPU better.
    threads = int(os.environ.get("STOCKPRED_THREADS", "0")) or max(1, len(os.sched_getaffinity(0)) // local)
    torch.set_num_threads(threads)


def leave(world: World) -> None:
    """Leave the process group together: a rank tearing gloo down while rank 0 still saves can abort at exit."""
    if world.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def data_parallel(model: torch.nn.Module, world: World, device: torch.device) -> torch.nn.Module:
    """The model wrapped in DistributedDataParallel under torchrun (gradients all-reduced), else the model itself."""
    if not world.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def rank_share(batch: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's contiguous, equal share of one global batch; up to size-1 leftover samples of a short last batch are dropped."""
    share = len(batch) // world.size
    return batch[world.rank * share:(world.rank + 1) * share]


def sum_across(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """Element-wise sum over all ranks (in place; a no-op for one process)."""
    if world.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def gather_objects(value, world: World) -> list:
    """Every rank's `value`, in rank order (only rank 0 uses it; all ranks must call)."""
    if not world.distributed:
        return [value]
    values = [None] * world.size
    dist.all_gather_object(values, value)
    return values


class ControlBroadcast:
    """Rank 0's pending controls, sent to every rank at each step boundary as one packet."""

    def __init__(self, world: World, controls: ControlChannel, device: torch.device) -> None:
        self.world = world
        self.controls = controls
        self.device = device
        self._pending: deque[Control] = deque()
        self._trace = Path(os.environ[TRACE_ENV]) / f"rank{world.rank}.jsonl" if os.environ.get(TRACE_ENV) else None
        if self._trace is not None:
            self._record({"pid": os.getpid(), "rank": world.rank})

    def _record(self, entry: dict) -> None:
        with open(self._trace, "a") as out:
            out.write(json.dumps(entry) + "\n")

    def exchange(self, paused: bool, local: list[Control]) -> list[Control]:
        """One packet: rank 0 sends up to PER_PACKET of its controls, every rank returns the same list to apply."""
        packet = torch.zeros(1 + 3 * PER_PACKET, dtype=torch.float64)
        sent: list[Control] = []
        if self.world.is_main:
            self._pending.extend(local)
            while self._pending and len(sent) < PER_PACKET:
                sent.append(self._pending.popleft())
            packet[0] = len(sent)
            for i, control in enumerate(sent):
                packet[1 + 3 * i:4 + 3 * i] = torch.tensor(
                    [ACTIONS.index(control.action), KNOBS.index(control.name) if control.name in KNOBS else -1,
                     control.value], dtype=torch.float64)
        on_device = packet.to(self.device)
        dist.broadcast(on_device, src=0)
        packet = on_device.cpu()
        if not self.world.is_main:
            sent = [Control(ACTIONS[int(packet[1 + 3 * i])], KNOBS[int(packet[2 + 3 * i])] if packet[2 + 3 * i] >= 0
                            else "", float(packet[3 + 3 * i]), source="rank 0") for i in range(int(packet[0]))]
        return sent

    def trace(self, step: int, control: Control) -> None:
        """Record an applied control with the step it was applied at (when tracing is on)."""
        if self._trace is not None:
            self._record({"step": step, "action": control.action, "name": control.name, "value": control.value})

    @property
    def has_pending(self) -> bool:
        """Controls rank 0 still owes the other ranks."""
        return bool(self._pending)
