"""Metrics of the model on one split (or any windows), computed on the device with one host sync by the caller."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.data.dataset import PreparedData

EVAL_BATCH = 4096


@torch.no_grad()
def predict(model: torch.nn.Module, data: PreparedData, ends: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The predicted returns and up-logits of the windows ending at `ends`, in eval mode (dropout off)."""
    model.eval()
    predictions, logits = [], []
    for start in range(0, len(ends), EVAL_BATCH):
        inputs, _, _ = data.batch(ends[start:start + EVAL_BATCH])
        prediction, logit = model(inputs)
        predictions.append(prediction)
        logits.append(logit)
    model.train()
    return torch.cat(predictions), torch.cat(logits)


def metrics(prediction: torch.Tensor, logit: torch.Tensor, target: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """reg loss, clf loss, direction accuracy, prediction std and probability std, as one device tensor."""
    return torch.stack([F.mse_loss(prediction, target), F.binary_cross_entropy_with_logits(logit, up),
                        ((logit > 0).float() == up).float().mean(), prediction.std(), torch.sigmoid(logit).std()])


def evaluate(model: torch.nn.Module, data: PreparedData, split: str) -> torch.Tensor:
    """`metrics` of the model on a split's windows."""
    ends = data.ends[split]
    prediction, logit = predict(model, data, ends)
    return metrics(prediction, logit, data.target_return[ends], data.target_up[ends])
