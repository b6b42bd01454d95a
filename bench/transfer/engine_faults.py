"""Each fault kind's settings for our engine: `--set` overrides, steering over the control socket at given epochs
(lr, dropout, pause/resume), and a kill -9 followed by `--resume` of the newest checkpoint."""

from __future__ import annotations

import random

from bench.transfer.spec import BATCHES, RunSpec, _log_uniform

MAX_STEPS_PER_EPOCH = 150  # keeps batch 8 runs to seconds


def _steer(spec: RunSpec, epoch: int, *action) -> None:
    """After `epoch` ends, send `action` (("set", knob, value), ("pause",), ("resume",)) over the socket."""
    spec.plan.setdefault("steer", {}).setdefault(str(epoch), []).append(list(action))


def _learnable(rng: random.Random, spec: RunSpec) -> None:
    spec.source, spec.signal = "synthetic", round(rng.uniform(0.4, 0.85), 2)


def _healthy(rng: random.Random, spec: RunSpec) -> None:
    if spec.source == "synthetic" or rng.random() < 0.5:
        _learnable(rng, spec)
    spec.variant = rng.choice(["plain", "plain", "tweak", "pause_resume"])
    at = rng.randint(2, max(2, spec.epochs - 3))
    if spec.variant == "tweak":
        knob = rng.choice(["lr", "dropout"])
        _steer(spec, at, "set", knob, round(spec.lr * rng.choice([1.25, 0.8]), 6) if knob == "lr" else round(min(0.9, spec.dropout + 0.05), 2))
    elif spec.variant == "pause_resume":
        _steer(spec, at, "pause")
        _steer(spec, at, "resume")


def _spike(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.variant, spec.epochs = "lr_bump", max(spec.epochs, 16)
    at = rng.randint(int(spec.epochs * 0.3), int(spec.epochs * 0.65))
    _steer(spec, at, "set", "lr", min(10.0, round(spec.lr * _log_uniform(rng, 3, 30), 6)))
    _steer(spec, at + 1, "set", "lr", spec.lr)
    spec.plan["onset"] = at + 1


def _nothing(rng: random.Random, spec: RunSpec) -> None:
    if spec.source == "synthetic":
        spec.signal = 0.0


def _overfit(rng: random.Random, spec: RunSpec) -> None:
    spec.source, spec.signal, spec.days, spec.syn_tickers = "synthetic", round(rng.uniform(0.2, 0.5), 2), rng.randint(250, 350), 1
    spec.hidden, spec.layers, spec.dropout, spec.weight_decay = 48, 1, 0.0, 0.0
    spec.lr, spec.batch, spec.epochs = _log_uniform(rng, 3e-3, 1e-2), 16, rng.randint(25, 40)


def _explode(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.lr, spec.grad_clip, spec.hidden = round(rng.uniform(5, 10), 2), 0.0, rng.choice([32, 48, 64])
    spec.days, spec.epochs = rng.randint(800, 1200), rng.randint(5, 10)


def _unstable(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.variant = rng.choice(["high_lr", "jump"])
    if spec.variant == "high_lr":
        spec.lr, spec.grad_clip, spec.plan["onset"] = _log_uniform(rng, 0.3, 2.0), rng.choice([0.0, 1.0]), 1
    else:
        spec.grad_clip, spec.epochs = 0.0, rng.randint(14, 25)
        at = rng.randint(3, spec.epochs - 5)
        _steer(spec, at, "set", "lr", _log_uniform(rng, 0.5, 2.0))
        spec.plan["onset"] = at + 1


def _frozen(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.variant = rng.choice(["tiny_lr", "lr_cut"])
    if spec.variant == "tiny_lr":
        spec.lr, spec.plan["onset"] = _log_uniform(rng, 1e-8, 1e-7), 1
    else:
        at = rng.randint(3, 8)
        spec.epochs = rng.randint(at + 8, at + 20)
        _steer(spec, at, "set", "lr", _log_uniform(rng, 3e-9, 3e-8))
        spec.plan["onset"] = at + 1


def _overreg(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.variant = rng.choice(["l2", "dropout_095"])
    if spec.variant == "l2":
        spec.optimizer, spec.weight_decay = "adam", round(rng.uniform(0.1, 0.3), 2)
        spec.hidden, spec.layers, spec.plan["onset"] = rng.choice([32, 48, 64]), 2, 1
    else:  # a model that has learnt something first, then the heads train on 5% of the hidden state
        spec.signal, spec.hidden, spec.layers, spec.dropout = round(rng.uniform(0.7, 0.85), 2), rng.choice([32, 48, 64]), 1, 0.0
        at = rng.randint(5, 8)
        spec.epochs = rng.randint(at + 10, at + 20)
        _steer(spec, at, "set", "dropout", 0.95)
        spec.plan["onset"] = at + 1


def _leak(rng: random.Random, spec: RunSpec) -> None:
    spec.source, spec.plan["leak"], spec.plan["onset"] = "prices", True, 1
    spec.epochs = rng.randint(5, 12)
    if not spec.tickers:
        spec.tickers = sorted(rng.sample(["AAPL", "IBM", "MSFT", "GOOG"], 2))
        spec.start, spec.end = "2003-01-01", "2010-01-01"


SHAPERS = {"healthy": _healthy, "spike": _spike, "nothing": _nothing, "overfit": _overfit, "explode": _explode,
           "unstable": _unstable, "frozen": _frozen, "overreg": _overreg, "leak": _leak}


def _fit_batch(rng: random.Random, spec: RunSpec) -> None:
    """Batch 8 ... 2048, with fewer days when a small batch would make an epoch long."""
    windows = spec.days * spec.syn_tickers * 0.7 if spec.source == "synthetic" else 1500
    if windows / spec.batch > MAX_STEPS_PER_EPOCH and spec.source == "synthetic":
        spec.days = max(300, int(MAX_STEPS_PER_EPOCH * spec.batch / (0.7 * spec.syn_tickers)))
    if spec.source == "prices":
        spec.batch = max(spec.batch, 16)
        spec.epochs = min(spec.epochs, 25)


def shape_engine_run(rng: random.Random, spec: RunSpec) -> None:
    """The engine's own model and task, the fault's settings, warmup, adamw, batch size and an optional kill -9."""
    spec.family, spec.task, spec.noise = "lstm", "multitask", 0.0
    spec.target = "raw" if rng.random() < 0.2 else "standardised"
    spec.optimizer = "adamw" if rng.random() < 0.3 else "adam"
    spec.lr, spec.schedule = _log_uniform(rng, 5e-4, 3e-3), "constant"
    spec.weight_decay, spec.grad_clip = rng.choice([0.0, 1e-5, 1e-4]), rng.choice([1.0, 1.0, 0.0])
    spec.batch = rng.choice(BATCHES)
    if rng.random() < 0.25:
        spec.schedule, spec.plan["warmup_epochs"] = "warmup", rng.randint(2, 5)
    SHAPERS[spec.kind](rng, spec)
    if spec.kind in ("explode", "overfit"):
        spec.batch = rng.choice([16, 32]) if spec.kind == "overfit" else rng.choice([32, 64, 128])
    _fit_batch(rng, spec)
    if rng.random() < 0.25 and spec.epochs >= 6:
        steered = {int(e) for e in spec.plan.get("steer", {})}
        choices = [e for e in range(2, spec.epochs - 1) if e not in steered and e + 1 not in steered]
        if choices:
            spec.plan["kill_at"] = rng.choice(choices)
