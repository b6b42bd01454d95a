"""The model families, optimisers and the task's loss in plain torch, for the Lightning and TensorBoard writers."""

from __future__ import annotations

import torch
from torch import nn

from bench.transfer.data import CLF_WEIGHT
from bench.transfer.spec import RunSpec


class SuiteNet(nn.Module):
    """LSTM, GRU, MLP, 1-D CNN or linear encoder over a window, with a regression and an up/down head."""

    def __init__(self, spec: RunSpec, window: int, features: int) -> None:
        super().__init__()
        self.family = spec.family
        h = spec.hidden
        if spec.family in ("lstm", "gru"):
            self.encoder = (nn.LSTM if spec.family == "lstm" else nn.GRU)(features, h, spec.layers, batch_first=True)
            width = h
        elif spec.family == "cnn":
            layers = [nn.Conv1d(features, h, 3, padding=1), nn.ReLU()]
            for _ in range(spec.layers - 1):
                layers += [nn.Conv1d(h, h, 3, padding=1), nn.ReLU()]
            self.encoder, width = nn.Sequential(*layers), h
        elif spec.family == "mlp":
            layers = [nn.Flatten(), nn.Linear(window * features, h), nn.ReLU()]
            for _ in range(spec.layers - 1):
                layers += [nn.Linear(h, h), nn.ReLU()]
            self.encoder, width = nn.Sequential(*layers), h
        else:
            self.encoder, width = nn.Flatten(), window * features
        self.dropout = nn.Dropout(spec.dropout)
        self.reg_head, self.clf_head = nn.Linear(width, 1), nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted regression target and the logit of an up day."""
        if self.family in ("lstm", "gru"):
            encoded = self.encoder(x)[0][:, -1]
        elif self.family == "cnn":
            encoded = self.encoder(x.transpose(1, 2)).mean(-1)
        else:
            encoded = self.encoder(x)
        encoded = self.dropout(encoded)
        return self.reg_head(encoded).squeeze(-1), self.clf_head(encoded).squeeze(-1)


def task_loss(task: str, out: tuple[torch.Tensor, torch.Tensor], reg: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """MSE, BCE, or the engine's mix of the two."""
    mse = nn.functional.mse_loss(out[0], reg)
    if task == "direction":
        return nn.functional.binary_cross_entropy_with_logits(out[1], up)
    if task == "multitask":
        return mse + CLF_WEIGHT * nn.functional.binary_cross_entropy_with_logits(out[1], up)
    return mse


def accuracy(out: tuple[torch.Tensor, torch.Tensor], up: torch.Tensor) -> float:
    """Share of up/down calls that were right."""
    return ((out[1] > 0).float() == up).float().mean().item()


def optimiser(spec: RunSpec, params) -> torch.optim.Optimizer:
    """Adam, AdamW (decoupled decay), SGD, SGD with momentum or RMSprop at the drawn lr and decay."""
    wd = spec.weight_decay
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=wd)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=spec.lr, weight_decay=wd)
    if spec.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec.lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=spec.lr, momentum=0.9 if spec.optimizer == "sgd_momentum" else 0.0, weight_decay=wd)
