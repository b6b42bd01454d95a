"""Multitask LSTM: one encoder, a return-regression head and an up/down classification head."""

from __future__ import annotations

import torch
from torch import nn

from engine.config import ModelConfig, TrainingConfig


class MultitaskLSTM(nn.Module):
    """LSTM encoder whose last hidden state feeds a regression head and a classification head."""

    def __init__(self, n_features: int, settings: ModelConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, settings.hidden_size, settings.num_layers, batch_first=True)
        self.dropout = nn.Dropout(settings.dropout)
        self.reg_head = nn.Linear(settings.hidden_size, 1)
        self.clf_head = nn.Linear(settings.hidden_size, 1)
        self.set_dropout(settings.dropout)

    def set_dropout(self, p: float) -> None:
        """Change dropout between steps; nn.LSTM reads its `dropout` attribute on every forward."""
        self.dropout.p = p
        self.lstm.dropout = p if self.lstm.num_layers > 1 else 0.0

    @property
    def dropout_p(self) -> float:
        """The dropout probability in force."""
        return self.dropout.p

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted standardized next-day return and the logit of an up day."""
        encoded, _ = self.lstm(inputs)
        last = self.dropout(encoded[:, -1])
        return self.reg_head(last).squeeze(-1), self.clf_head(last).squeeze(-1)


def parameter_groups(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Parameters grouped for statistics: one group per LSTM layer and per head."""
    groups: dict[str, list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if name.startswith("lstm."):
            key = "lstm.l" + name.rsplit("_l", 1)[1].split("_")[0]
        else:
            key = name.split(".")[0]
        groups.setdefault(key, []).append(param)
    return groups


def make_optimizer(model: nn.Module, training: TrainingConfig) -> torch.optim.Optimizer:
    """Adam (L2 decay, as in the note) or AdamW (decoupled decay) over all of the model's parameters."""
    optimizer_class = torch.optim.AdamW if training.optimizer == "adamw" else torch.optim.Adam
    return optimizer_class(model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
