"""`stockpred-tui evaluate RUN|CHECKPOINT`: a saved checkpoint scored on the held-out test split (or val), one line
per ticker and a total, rebuilt from the checkpoint's own config and refused when that data is no longer the data it
was trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.commands.runs import run_directory
from engine.config import load_config
from engine.data.dataset import FEATURES, PreparedData, prepare_data
from engine.errors import InputError
from engine.held_out_text import CAVEAT, cost_text, scores_text, strategy_text
from engine.store.checkpoint import load_checkpoint
from engine.training.test_evaluation import BEST_CHECKPOINT, score_checkpoint


def checkpoint_path(target: str, log_dir: str | Path) -> Path:
    """A checkpoint file as given, else the best checkpoint of RUN (a run directory or a run id, as `attach` reads it)."""
    path = Path(target)
    if path.suffix == ".pt" or (path.exists() and not path.is_dir()):
        return path  # the loader refuses a missing file, a FIFO or a torn archive in one line
    best = run_directory(target, log_dir) / "checkpoints" / BEST_CHECKPOINT
    if not best.is_file():
        raise InputError(str(best.parent.parent), f"has no best checkpoint (checkpoints/{BEST_CHECKPOINT}): no epoch "
                                                  "of this run finished")
    return best


def check_same_data(state: dict, data: PreparedData, source: str) -> None:
    """Refuse data other than the checkpoint was trained on: other rows or prices, or other training statistics."""
    name = data.summary["source"]
    if state.get("fingerprint") not in (None, data.fingerprint):
        raise InputError(source, f"was trained on other data than {name} now holds (its prices, tickers or rows "
                                 "changed since): its scores would describe neither; evaluate it on the data it was trained on")
    fitted = vars(data.scaler)
    for key, saved in state["scaler"].items():
        if key in fitted and not np.allclose(np.asarray(saved, dtype=np.float64), np.asarray(fitted[key]), rtol=1e-6):
            raise InputError(source, f"was scaled with other training statistics (scaler.{key}) than {name} gives: not "
                                     "the data it was trained on")


def matching_data(state: dict, source: str) -> PreparedData:
    """The windows the checkpoint's own config builds, after checking they are the ones it was trained on."""
    features = len(state["scaler"].get("feature_mean") or [])
    if features != len(FEATURES):
        raise InputError(source, f"was trained on {features} features; this version builds {len(FEATURES)} "
                                 f"({', '.join(FEATURES)})")
    config = load_config(None, base=state["config"], base_label=f"{source} (config)")
    data = prepare_data(config, "cpu")
    check_same_data(state, data, source)
    return data


def _period(data: PreparedData, split: str) -> str:
    dates = data.rows["date"].to_numpy()[data.ends[split].numpy()]
    return f"{str(dates.min())[:10]} to {str(dates.max())[:10]}"


def report_lines(path: Path, state: dict, split: str, period: str, result: dict) -> list[str]:
    """The text report: a heading, a line per ticker, the total, then what the strategy figures are."""
    strategy = result["strategy"]
    mode = strategy["mode"]
    width = max(len("total"), *(len(name) for name in result["tickers"]))
    lines = [f"{path} (epoch {state['epoch']}) on the {split} split, {period}: skill against the constant predictor, "
             f"direction accuracy against the split's own majority rate"]
    for name, scores in [*result["tickers"].items(), ("total", result["total"])]:
        reading = strategy["total"] if name == "total" else strategy["tickers"].get(name)
        lines.append(f"{name:<{width}}  {scores_text(scores)} · {strategy_text(reading, mode)}")
    lines.append(f"{mode} {cost_text(strategy)}; the total is an equal-weight portfolio of the tickers ({CAVEAT})")
    return lines


def evaluate_checkpoint(target: str, log_dir: str | Path, split: str = "test", as_json: bool = False,
                        short: bool = False, cost_bps: float = 0.0) -> int:
    """Print the scores of RUN's best checkpoint (or a checkpoint file) on `split`; one JSON document with `as_json`."""
    path = checkpoint_path(target, log_dir)
    state = load_checkpoint(path)
    data = matching_data(state, str(path))
    if not len(data.ends[split]):
        raise InputError("--split", f"the checkpoint's config gives no {split} windows (data.{split}_fraction is 0)")
    result = score_checkpoint(state, data, split, str(path), short, cost_bps)
    period = _period(data, split)
    if as_json:
        print(json.dumps({"checkpoint": str(path), "epoch": state["epoch"], "split": split, "period": period, **result},
                         indent=2))
    else:
        print("\n".join(report_lines(path, state, split, period, result)))
    return 0
