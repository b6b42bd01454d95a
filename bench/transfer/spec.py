"""One run's factors, drawn at random from its seed: writer, data and task, model, optimiser and schedule, fault."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

WRITERS = {"engine": 0.27, "keras": 0.25, "lightning": 0.25, "tb_torch": 0.115, "tb_keras": 0.115}
# Fault kind -> weight; fault-free kinds (healthy, spike, nothing) make up about 40%.
KINDS = {"healthy": 0.21, "spike": 0.09, "nothing": 0.10, "overfit": 0.13, "explode": 0.09, "unstable": 0.13, "frozen": 0.10,
         "overreg": 0.12, "leak": 0.03}
INTENDED = {"healthy": "healthy", "spike": "healthy", "nothing": "nothing-learnable", "overfit": "overfitting",
            "explode": "exploding", "unstable": "unstable-lr", "frozen": "frozen", "overreg": "over-regularised", "leak": "leak"}
TICKERS = ["AAPL", "IBM", "MSFT", "GOOG", "FB"]
FAMILIES = ["lstm", "gru", "mlp", "cnn", "linear"]
OPTIMISERS = {"adam": (5e-4, 3e-3), "adamw": (5e-4, 3e-3), "sgd": (0.01, 0.06), "sgd_momentum": (0.003, 0.02),
              "rmsprop": (3e-4, 2e-3)}
SCHEDULES = ["constant", "step", "exponential", "cosine", "plateau", "warmup"]
BATCHES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
# The machine is shared: every run is kept to a few seconds of one core.
MAX_STEPS = 250  # optimiser steps over the whole run
MAX_SEQUENCE_WORK = 100_000  # windows x epochs x window length x layers, for the recurrent models


@dataclass
class RunSpec:
    """Everything that decides one run; `plan` holds the fault's per-epoch actions."""

    seed: int
    writer: str
    kind: str
    variant: str = ""
    source: str = "synthetic"  # synthetic AR returns, or "prices" (the bundled real prices)
    tickers: list[str] = field(default_factory=list)
    start: str = ""
    end: str = ""
    signal: float = 0.6
    days: int = 1500
    syn_tickers: int = 1
    task: str = "return"  # return, direction, multitask, volatility
    target: str = "standardised"  # standardised, raw (unscaled returns) or price-like (offset + gain x)
    offset: float = 0.0
    gain: float = 1.0
    noise: float = 0.0
    window: int = 10
    n_train: int = 1500
    n_val: int = 400
    family: str = "lstm"
    hidden: int = 32
    layers: int = 1
    dropout: float = 0.0
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    batch: int = 32
    epochs: int = 30
    grad_clip: float = 0.0
    plan: dict = field(default_factory=dict)

    def factors(self) -> dict:
        """The spec as plain JSON for labels.json."""
        return asdict(self)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return float(f"{low * (high / low) ** rng.random():.3g}")


def _data(rng: random.Random, spec: RunSpec) -> None:
    """Real prices (random tickers and dates) or a synthetic AR series; task and target scaling."""
    if rng.random() < 0.35:
        spec.source = "prices"
        spec.tickers = sorted(rng.sample(TICKERS, rng.choice([1, 1, 2, 3])))
        first = rng.randint(2000, 2009)
        spec.start, spec.end = f"{first}-{rng.randint(1, 12):02d}-01", f"{min(2014, first + rng.randint(3, 8))}-01-01"
        if spec.tickers == ["FB"]:  # listed from May 2012: its one short range
            spec.start, spec.end = "2012-05-01", "2014-01-01"
        spec.task = rng.choice(["volatility", "volatility", "return", "direction", "multitask"])
    else:
        spec.signal = round(rng.uniform(0.35, 0.8), 2)
        spec.days = rng.randint(800, 3000)
        spec.syn_tickers = rng.choice([1, 1, 2, 3])
        spec.task = rng.choice(["return", "return", "direction", "multitask", "volatility"])
    spec.target = "raw" if rng.random() < 0.25 and spec.task != "direction" else "standardised"
    spec.noise = round(rng.choice([0.0, 0.0, rng.uniform(0.1, 0.8)]), 2)
    spec.window = rng.choice([5, 10, 15, 20, 30])
    spec.n_train = rng.randint(400, 2000)
    spec.n_val = rng.randint(150, 500)


def _model(rng: random.Random, spec: RunSpec) -> None:
    spec.family = rng.choice(FAMILIES)
    spec.hidden = rng.choice([8, 16, 24, 32, 48, 64])
    spec.layers = rng.choice([1, 1, 2])
    spec.dropout = rng.choice([0.0, 0.0, 0.1, 0.2, 0.3])
    spec.optimizer = rng.choice(list(OPTIMISERS))
    spec.lr = _log_uniform(rng, *OPTIMISERS[spec.optimizer])
    spec.weight_decay = rng.choice([0.0, 0.0, 1e-5, 1e-4, 1e-3 if spec.optimizer == "adamw" else 1e-4])
    spec.schedule = rng.choice(SCHEDULES)
    spec.batch = rng.choice(BATCHES)
    spec.epochs = rng.randint(10, 30)
    if spec.batch <= 16:  # many steps per epoch: fewer windows and epochs keep the run to seconds
        spec.n_train, spec.epochs = min(spec.n_train, 900), min(spec.epochs, 25)
    spec.plan["schedule"] = _schedule_params(rng, spec)


def _schedule_params(rng: random.Random, spec: RunSpec) -> dict:
    """A gentle schedule: it never collapses the lr (that is the frozen fault's job)."""
    return {"step": {"every": rng.randint(5, 15), "gamma": rng.choice([0.5, 0.3])},
            "exponential": {"gamma": round(rng.uniform(0.9, 0.98), 3)},
            "cosine": {"floor": rng.choice([0.01, 0.05, 0.1])},
            "plateau": {"factor": 0.5, "patience": rng.randint(2, 5)},
            "warmup": {"epochs": rng.randint(2, 5)}}.get(spec.schedule, {})


def draw(seed: int) -> RunSpec:
    """The factors of run `seed`: the writer and fault kind first, then everything else, then the fault's own settings."""
    rng = random.Random(f"transfer-suite:{seed}")
    writer = _pick(rng, WRITERS)
    kinds = dict(KINDS) if writer == "engine" else {k: v for k, v in KINDS.items() if k != "leak"}
    spec = RunSpec(seed, writer, _pick(rng, kinds))
    _data(rng, spec)
    _model(rng, spec)
    if writer == "engine":
        from bench.transfer.engine_faults import shape_engine_run

        shape_engine_run(rng, spec)
    else:
        from bench.transfer.foreign_faults import shape_foreign_run

        shape_foreign_run(rng, spec)
    _fit_budget(spec)
    return spec


def _fit_budget(spec: RunSpec) -> None:
    """Fewer windows (never fewer epochs: onsets are drawn against them) until the run fits the budget."""
    recurrent = spec.family in ("lstm", "gru")
    if recurrent and spec.layers > 1:
        spec.window = min(spec.window, 15)
    windows = spec.n_train
    if spec.writer == "engine":
        windows = spec.days * spec.syn_tickers * 0.7 if spec.source == "synthetic" else 250 * max(1, len(spec.tickers)) * 0.7 * (
            int(spec.end[:4]) - int(spec.start[:4]))
    limit = min(MAX_STEPS * spec.batch / spec.epochs, MAX_SEQUENCE_WORK / (spec.epochs * spec.window * spec.layers) if recurrent else 1e12)
    if windows <= limit:
        return
    if spec.writer != "engine":
        spec.n_train = max(150, int(limit))
    elif spec.source == "synthetic":
        spec.days = max(300, int(limit / (0.7 * spec.syn_tickers)))
    else:
        years = max(2, round(limit / (250 * 0.7 * max(1, len(spec.tickers)))))
        spec.end = f"{min(2014, int(spec.start[:4]) + years)}{spec.end[4:]}"
