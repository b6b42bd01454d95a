"""One process under torchrun that joins a process group all the same (nccl on CUDA, gloo on CPU), so the engine's
collectives, DistributedDataParallel and the per-step control broadcast run on a machine with a single device
(NCCL refuses two ranks on one GPU). `train --nproc 1` never joins a group; this is for tests only.
Usage: python -m torch.distributed.run --standalone --nproc_per_node=1 tests/group_of_one.py KEY=VALUE ...
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from engine.commands.trainer_setup import RunOptions, build_trainer
from engine.training.distributed import World


@dataclass(frozen=True)
class GroupOfOne(World):
    """A world of one process that takes the data-parallel path: it joins a group, wraps in DDP, broadcasts."""

    @property
    def distributed(self) -> bool:
        """Always: that is the point of this world."""
        return True


def main() -> int:
    """Train with the overrides on the command line; print how the run ended."""
    world = GroupOfOne(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    ended = build_trainer(RunOptions(overrides=sys.argv[1:]), world=world).run()
    print(f"ended {ended.reason} at epoch {ended.epoch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
