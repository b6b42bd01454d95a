"""An epoch's running loss sums, kept on the device: one small kernel per step and no host sync until read."""

from __future__ import annotations

import torch


class EpochSums:
    """Per-step [loss, reg, clf, grad norm] stacked once per step, summed (losses weighted by batch size) when read."""

    def __init__(self, device: torch.device, totals: torch.Tensor | None = None, count: int = 0) -> None:
        self.device = device
        self._totals = torch.zeros(4, device=device) if totals is None else totals.to(device)
        self.count = count
        self._steps: list[torch.Tensor] = []
        self._sizes: list[int] = []

    def add(self, loss: torch.Tensor, reg: torch.Tensor, clf: torch.Tensor, grad_norm: torch.Tensor, n: int) -> None:
        """Record one step of `n` samples (detached views; only the stack runs a kernel)."""
        self._steps.append(torch.stack([loss.detach(), reg.detach(), clf.detach(), grad_norm.detach()]))
        self._sizes.append(n)
        self.count += n

    def totals(self) -> torch.Tensor:
        """[Σ n·loss, Σ n·reg, Σ n·clf, Σ grad norm] so far, as one device tensor."""
        if self._steps:
            weights = torch.tensor([[n, n, n, 1.0] for n in self._sizes], device=self.device)
            self._totals = self._totals + (torch.stack(self._steps) * weights).sum(0)
            self._steps, self._sizes = [], []
        return self._totals

    @classmethod
    def restored(cls, device: torch.device, totals: torch.Tensor | None, count: int) -> "EpochSums | None":
        """From a checkpoint's 'acc' and 'count' (older checkpoints kept the count as the fourth of five sums)."""
        if totals is None:
            return None
        if len(totals) == 5:
            return cls(device, totals[[0, 1, 2, 4]], int(totals[3]))
        return cls(device, totals, count)
