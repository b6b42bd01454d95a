"""Cheap step statistics measured on a few probe steps per epoch, kept on the device until epoch end."""

from __future__ import annotations

import torch
from torch import nn


def _norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    """L2 norm of a list of tensors as one 0-d tensor, without a host sync."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))


class StepProbe:
    """Measures ‖Δθ‖/‖θ‖ and the weight-decay/gradient ratio per parameter group on probe steps."""

    def __init__(self, groups: dict[str, list[nn.Parameter]]) -> None:
        self.groups = groups
        self._snapshot: dict[str, list[torch.Tensor]] = {}
        self._wd_terms: dict[str, torch.Tensor] = {}
        self.reset()

    def reset(self) -> None:
        """Start a new epoch's accumulation."""
        self.probes = 0
        self._update_sum: dict[str, torch.Tensor] = {}
        self._wd_sum: dict[str, torch.Tensor] = {}

    def before_step(self, weight_decay: float, lr: float, decoupled: bool) -> None:
        """Snapshot weights and measure the decay term against the loss gradient (grads are pre-decay here)."""
        self._decay = (weight_decay, lr, decoupled)
        for name, params in self.groups.items():
            with torch.no_grad():
                self._snapshot[name] = [p.detach().clone() for p in params]
                grads = [p.grad for p in params if p.grad is not None]
                weight = _norm([p.detach() for p in params])
                if decoupled or not grads:
                    self._wd_terms[name] = weight * weight_decay * lr
                else:
                    self._wd_terms[name] = weight * weight_decay / (_norm(grads) + 1e-12)

    def after_step(self) -> None:
        """Measure the update each group just took."""
        decoupled = self._decay[2]
        with torch.no_grad():
            for name, params in self.groups.items():
                before = self._snapshot.pop(name)
                update = _norm(torch._foreach_sub([p.detach() for p in params], before))
                ratio = update / (_norm(before) + 1e-12)
                wd = self._wd_terms[name] / (update + 1e-12) if decoupled else self._wd_terms[name]
                self._update_sum[name] = self._update_sum.get(name, 0) + ratio
                self._wd_sum[name] = self._wd_sum.get(name, 0) + wd
        self.probes += 1

    def read(self) -> tuple[dict[str, float], dict[str, float]]:
        """Mean update ratio and decay ratio per group over this epoch's probes (one host sync)."""
        if not self.probes:
            return {}, {}
        names = list(self._update_sum)
        values = torch.stack([self._update_sum[n] for n in names] + [self._wd_sum[n] for n in names]) / self.probes
        flat = values.tolist()
        return dict(zip(names, flat[: len(names)])), dict(zip(names, flat[len(names):]))
