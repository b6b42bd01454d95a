"""Where a non-finite loss sends training back to: the weights, optimizer state and shuffle of the epoch's start."""

from __future__ import annotations

import copy

import torch


class RollbackPoint:
    """A copy (not live references) of what an epoch started from; restore() puts it back."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, shuffle: torch.Generator) -> None:
        self.model = {name: tensor.clone() for name, tensor in model.state_dict().items()}
        self.optimizer = copy.deepcopy(optimizer.state_dict())
        self.shuffle = shuffle.get_state()

    def restore(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, shuffle: torch.Generator) -> None:
        """Put the saved state back into the live objects."""
        model.load_state_dict(self.model)
        optimizer.load_state_dict(self.optimizer)
        shuffle.set_state(self.shuffle)
