"""Validation metrics of the model on one split, computed on the device with one host sync by the caller."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.data.dataset import PreparedData

EVAL_BATCH = 4096


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: PreparedData, split: str) -> torch.Tensor:
    """reg loss, clf loss, direction accuracy, prediction std and probability std, as one device tensor."""
    model.eval()
    predictions, logits = [], []
    ends = data.ends[split]
    for start in range(0, len(ends), EVAL_BATCH):
        inputs, _, _ = data.batch(ends[start:start + EVAL_BATCH])
        prediction, logit = model(inputs)
        predictions.append(prediction)
        logits.append(logit)
    model.train()
    prediction, logit = torch.cat(predictions), torch.cat(logits)
    target, up = data.target_return[ends], data.target_up[ends]
    return torch.stack([F.mse_loss(prediction, target), F.binary_cross_entropy_with_logits(logit, up),
                        ((logit > 0).float() == up).float().mean(), prediction.std(), torch.sigmoid(logit).std()])
