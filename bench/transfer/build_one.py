"""Build one run of the transfer suite: draw its factors, train it with its writer, check its label against the log."""

from __future__ import annotations

import math
import re
import shutil
import traceback
from pathlib import Path

from bench.transfer.facts import check
from bench.transfer.spec import INTENDED, draw

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = {"engine": ".jsonl", "keras": ".csv", "lightning": ".csv", "tb_torch": "", "tb_keras": ""}
FORMATS = {"engine": "stockpred", "keras": "keras", "lightning": "lightning", "tb_torch": "tensorboard", "tb_keras": "tensorboard"}


def log_name(seed: int, writer: str) -> str:
    """File (or, for TensorBoard, folder) name of a run's log: the seed and the writer, not the label."""
    return f"t{seed:04d}_{writer}{EXTENSIONS[writer]}"


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else str(value)
    return value


def _tidy_event_files(folder: Path, seed: int) -> None:
    """Event files named without the host and clock (events.out.tfevents.<seed>.suite), so a rebuild is comparable."""
    for index, path in enumerate(sorted(folder.rglob("events.out.tfevents.*"))):
        path.rename(path.with_name(f"events.out.tfevents.{seed}.{index}.suite"))


def _write(spec, path: Path) -> tuple[list[dict], dict]:
    if spec.writer == "engine":
        from bench.transfer.write_engine import engine_run

        return engine_run(spec, path)
    from bench.transfer.data import windows

    data = windows(spec)
    levels = {"constant_val": data.constant_val, "constant_train": data.constant_train, "majority_acc": data.majority_acc}
    if spec.writer in ("keras", "tb_keras"):
        from bench.transfer.write_keras import keras_run

        table = keras_run(spec, data, path, tensorboard=spec.writer == "tb_keras")
    elif spec.writer == "lightning":
        from bench.transfer.write_torch import lightning_run

        table = lightning_run(spec, data, path)
    else:
        from bench.transfer.write_torch import tensorboard_torch_run

        table = tensorboard_torch_run(spec, data, path)
    if spec.writer.startswith("tb_"):
        _tidy_event_files(path, spec.seed)
    return table, levels


def _trace() -> str:
    """The end of the current traceback, its paths relative to the repository or to site-packages (no machine's paths)."""
    text = traceback.format_exc().replace(f"{ROOT}/", "")
    return re.sub(r'"[^"]*/site-packages/', '"site-packages/', text)[-1500:]


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def build_one(seed: int, suite: str) -> dict:
    """The labels.json entry of run `seed` ({"name", "dropped": rule} when its facts contradict every label)."""
    import torch

    torch.set_num_threads(1)
    spec = draw(seed)
    name = log_name(seed, spec.writer)
    path = Path(suite) / name
    _remove(path)
    intended = "frozen-weights" if spec.writer == "engine" and spec.kind == "frozen" else INTENDED[spec.kind]
    try:
        table, levels = _write(spec, path)
        label, onset, facts, rule = check(spec, table, levels)
    except Exception as error:  # a writer that failed: reported and left out, the build goes on
        _remove(path)
        return {"name": name, "seed": seed, "writer": spec.writer, "intended": intended,
                "dropped": f"error: {type(error).__name__}: {error}".splitlines()[0][:300], "trace": _trace()}
    if label is None:
        _remove(path)
        return {"name": name, "seed": seed, "writer": spec.writer, "intended": intended, "dropped": rule}
    entry = {"name": name, "label": label, "onset": onset, "writer": spec.writer, "format": FORMATS[spec.writer], "seed": seed,
             "intended": intended, "kind": spec.kind, "variant": spec.variant, "rule": rule,
             "checks": {k: _rounded(v) for k, v in facts.items()}, "factors": {k: _rounded(v) for k, v in spec.factors().items()}}
    if spec.kind == "spike":
        entry["spike_epoch"] = spec.plan["onset"]
    if label == "over-regularised" and spec.writer != "engine":
        # The log holds no weight decay: the flat loss at the constant level is all it shows, and "frozen" names that.
        entry["accepts"] = ["over-regularised", "frozen"]
    return entry
