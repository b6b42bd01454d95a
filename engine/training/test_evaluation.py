"""The held-out test split, scored once from a run's best checkpoint after training (and on request by
`stockpred-tui evaluate`): skill against the constant predictor with its 95% interval, direction accuracy with its
Wilson interval against the split's own majority rate, per ticker and in total, and the direction head's economic
reading. Nothing here feeds back into training: no early stopping, remedy or selection ever reads the test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from engine.config import ModelConfig
from engine.data.dataset import PreparedData
from engine.data.direction_strategy import strategy_reading
from engine.errors import InputError
from engine.events import EndReason, TestEvaluation
from engine.health.baseline import SplitScores, accuracy_of, clamped_up_rate, interval_of, skill_of
from engine.store.checkpoint import load_checkpoint
from engine.training.evaluation import metrics, predict
from engine.training.model import MultitaskLSTM

# Ends after which a run scores its best checkpoint: an interrupted run is to be resumed, a failed one has no verdict.
SCORED_ENDS = frozenset({EndReason.COMPLETED, EndReason.EARLY_STOP, EndReason.STOPPED})
BEST_CHECKPOINT = "best.pt"


def load_model(state: dict, n_features: int, device: torch.device | str, source: str) -> MultitaskLSTM:
    """The checkpoint's weights in a model built from its own config, or a one-line InputError naming `source`."""
    try:
        model = MultitaskLSTM(n_features, ModelConfig.model_validate(state["config"].get("model", {})))
        model.load_state_dict(state["model"])
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        raise InputError(source, f"does not fit this model ({str(error).splitlines()[0][:100]})") from None
    return model.to(device)


def loss_weights(state: dict) -> tuple[float, float]:
    """The reg and clf weights the checkpoint's loss was weighted with when it was saved."""
    training = state["config"].get("training", {})
    return float(training.get("reg_weight", 1.0)), float(state["hparams"].get("clf_weight", training.get("clf_weight", 0.5)))


def figures(measured: list[float], parts: dict, train_up_rate: float, reg_w: float, clf_w: float) -> dict:
    """One group's scores as plain numbers: the baseline.py interval and Wilson interval on what was measured."""
    scores = SplitScores(*measured, n=parts["windows"])
    skill = skill_of(scores, parts, reg_w, clf_w)
    interval = interval_of(skill, scores, parts, train_up_rate, reg_w, clf_w)
    accuracy = accuracy_of(scores.acc, parts["up_rate"], scores.n)
    return {"windows": scores.n, "loss": reg_w * scores.reg + clf_w * scores.clf,
            "baseline": reg_w * parts["reg"] + clf_w * parts["clf"], "skill": skill,
            "skill_low": interval[1] if interval else None, "skill_high": interval[2] if interval else None,
            "acc": scores.acc, "acc_low": accuracy[1] if accuracy else None, "acc_high": accuracy[2] if accuracy else None,
            "majority": accuracy[3] if accuracy else None, "reg": scores.reg, "clf": scores.clf}


def score(model: torch.nn.Module, data: PreparedData, split: str, reg_w: float, clf_w: float, short: bool = False,
          cost_bps: float = 0.0) -> dict:
    """`total`, `tickers` and `strategy` of the model on a split: one prediction pass, then each ticker's share."""
    ends = data.ends[split]
    prediction, logit = predict(model, data, ends)
    target, up = data.target_return[ends], data.target_up[ends]
    index = ends.cpu().numpy()
    rows = data.rows.iloc[index]
    tickers = rows["ticker"].to_numpy()
    train_up = clamped_up_rate(data.constant[1])

    def group(mask: np.ndarray) -> dict:
        chosen = torch.as_tensor(np.flatnonzero(mask), device=prediction.device)
        measured = metrics(prediction[chosen], logit[chosen], target[chosen], up[chosen]).tolist()
        return figures(measured, data.baseline(index[mask]), train_up, reg_w, clf_w)

    days = pd.DataFrame({"date": rows["date"].to_numpy(), "ticker": tickers, "next_return": rows["next_return"].to_numpy(),
                         "p_up": torch.sigmoid(logit).cpu().numpy().astype(np.float64)})
    return {"total": group(np.ones(len(index), dtype=bool)),
            "tickers": {str(name): group(tickers == name) for name in sorted(set(tickers))},
            "strategy": strategy_reading(days, short, cost_bps)}


def score_checkpoint(state: dict, data: PreparedData, split: str, source: str, short: bool = False,
                     cost_bps: float = 0.0) -> dict:
    """`score` of a loaded checkpoint's weights (its own loss weights) on `data`."""
    model = load_model(state, data.features.shape[1], data.features.device, source)
    return score(model, data, split, *loss_weights(state), short, cost_bps)


def held_out_evaluation(run_dir: Path, data: PreparedData, reason: EndReason, epoch: int, step: int) -> TestEvaluation | None:
    """The run's test event: its best checkpoint, loaded from disk (not the weights in memory), scored on the test
    split; None when the run ended without a verdict to give, without test windows or without a best checkpoint."""
    path = Path(run_dir) / "checkpoints" / BEST_CHECKPOINT
    if reason not in SCORED_ENDS or not len(data.ends.get("test", ())) or not path.is_file():
        return None
    state = load_checkpoint(path)
    result = score_checkpoint(state, data, "test", str(path))
    return TestEvaluation("test", str(path), int(state["epoch"]), epoch, step, **result)
