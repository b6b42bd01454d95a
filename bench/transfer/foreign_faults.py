"""Each fault kind's settings for the Keras, Lightning and TensorBoard writers, strength and onset drawn at random;
and each writer's own habits (Lightning's LearningRateMonitor and sparse validation, TensorBoard tag names)."""

from __future__ import annotations

import random

from bench.transfer.spec import RunSpec, _log_uniform

TB_TAGS = [("loss", "val_loss", "lr"), ("train/loss", "val/loss", "learning_rate"), ("train_loss", "val_loss", "lr"),
           ("loss", "val/loss", "learning_rate")]


def _learnable(rng: random.Random, spec: RunSpec) -> None:
    """Something to learn: real prices predict their own volatility, synthetic AR returns their sign and size."""
    if spec.source == "prices":
        spec.task = "volatility"
    else:
        spec.signal = round(rng.uniform(0.45, 0.85), 2)


def _onset(rng: random.Random, spec: RunSpec, low: float = 0.3, high: float = 0.65) -> int:
    return max(2, min(spec.epochs - 4, rng.randint(int(spec.epochs * low), int(spec.epochs * high))))


def _healthy(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.variant = rng.choice(["plain", "plain", "dropout_below", "converged"] + (["sparse_val"] * 2 if spec.writer == "lightning" else []))
    if spec.variant == "dropout_below" and spec.family != "linear":
        spec.dropout = round(rng.uniform(0.4, 0.6), 2)
    elif spec.variant == "converged":
        spec.epochs, spec.schedule = rng.randint(30, 50), rng.choice(["cosine", "step", "exponential"])
        spec.plan["schedule"] = {"cosine": {"floor": 0.05}, "step": {"every": 15, "gamma": 0.5},
                                 "exponential": {"gamma": 0.97}}[spec.schedule]
        spec.batch = max(spec.batch, 64)
    elif spec.variant == "sparse_val":
        spec.plan["val_every"] = rng.randint(2, 5)
    else:
        spec.variant = "plain"


def _spike(rng: random.Random, spec: RunSpec) -> None:
    _healthy(rng, spec)
    spec.epochs = max(spec.epochs, 16)
    onset = _onset(rng, spec)
    if spec.schedule == "plateau":
        spec.schedule = "constant"
    if spec.writer in ("lightning", "tb_torch") and spec.task != "direction" and rng.random() < 0.5:
        spec.variant += "+bad_batch"
        spec.plan["bad_batch"] = {"epoch": onset, "batch": 0, "factor": _log_uniform(rng, 30, 300)}
    else:
        spec.variant += "+lr_bump"
        spec.plan["lr_at"] = {str(onset): _log_uniform(rng, 10, 100)}
    spec.plan["onset"] = onset


def _overfit(rng: random.Random, spec: RunSpec) -> None:
    spec.source, spec.task = "synthetic", rng.choice(["return", "return", "multitask", "volatility"])
    spec.signal, spec.noise = round(rng.uniform(0.3, 0.6), 2), round(rng.uniform(0.5, 1.0), 2)
    spec.n_train, spec.n_val = rng.randint(80, 300), rng.randint(250, 500)
    spec.family, spec.hidden, spec.layers = rng.choice(["mlp", "mlp", "lstm", "gru", "cnn"]), 64, 2
    spec.window = rng.choice([15, 20, 30])
    spec.dropout, spec.weight_decay, spec.schedule = 0.0, 0.0, "constant"
    spec.optimizer, spec.lr = rng.choice(["adam", "adamw", "rmsprop"]), _log_uniform(rng, 3e-3, 1e-2)
    spec.batch, spec.epochs = rng.choice([16, 32]), rng.randint(25, 45)


def _explode(rng: random.Random, spec: RunSpec) -> None:
    spec.optimizer, spec.schedule, spec.grad_clip = "sgd", "constant", 0.0
    spec.task = rng.choice(["return", "volatility", "multitask"])
    if rng.random() < 0.5:
        spec.variant, spec.target = "sgd_price_like", "price-like"
        spec.offset, spec.gain = rng.choice([20.0, 40.0, 60.0]), rng.choice([5.0, 10.0])
        spec.lr, spec.epochs = _log_uniform(rng, 0.02, 0.2), rng.randint(8, 15)
    else:
        spec.variant, spec.target = "lr_growth", "standardised"
        spec.lr, spec.epochs = _log_uniform(rng, 1e-3, 5e-3), rng.randint(14, 22)
        spec.plan["growth"] = {"from": rng.randint(2, 6), "factor": round(rng.uniform(2.5, 4.0), 2)}


def _unstable(rng: random.Random, spec: RunSpec) -> None:
    spec.schedule, spec.grad_clip, spec.dropout = "constant", 0.0, 0.0
    spec.variant = rng.choice(["adam_high", "adam_high", "sgd_high", "late_after_early_explosion", "jump"])
    spec.task = rng.choice(["return", "multitask", "volatility"]) if spec.variant != "adam_high" else spec.task
    spec.target = "standardised"
    if spec.variant == "adam_high":
        spec.optimizer, spec.lr, spec.plan["onset"] = rng.choice(["adam", "adamw"]), _log_uniform(rng, 0.02, 0.1), 1
    elif spec.variant == "sgd_high":
        spec.optimizer, spec.lr, spec.plan["onset"] = "sgd", _log_uniform(rng, 0.3, 0.8), 1
    else:
        spec.epochs = rng.randint(20, 35)
        if spec.variant == "late_after_early_explosion":
            spec.target, spec.offset, spec.gain = "price-like", rng.choice([30.0, 50.0]), rng.choice([5.0, 8.0])
            spec.optimizer, spec.lr = "adam", _log_uniform(rng, 3e-3, 1e-2)
        else:
            spec.optimizer, spec.lr = rng.choice(["adam", "rmsprop"]), _log_uniform(rng, 5e-4, 2e-3)
        onset = _onset(rng, spec, 0.55, 0.8)
        spec.plan["lr_from"] = {str(onset): _log_uniform(rng, 15, 60)}
        spec.plan["onset"] = onset


def _frozen(rng: random.Random, spec: RunSpec) -> None:
    _learnable(rng, spec)
    spec.schedule, spec.n_train, spec.target = "constant", max(spec.n_train, 1200), "standardised"
    spec.optimizer, spec.lr, spec.batch = rng.choice(["adam", "rmsprop"]), _log_uniform(rng, 2e-4, 8e-4), rng.choice([32, 64, 128, 256])
    spec.variant = rng.choice(["schedule_decay", "schedule_decay", "lr_cut"] + (["not_trainable"] if spec.writer == "keras" else []))
    onset = rng.randint(3, 8)
    spec.epochs = rng.randint(onset + 8, onset + 16)
    if spec.variant == "schedule_decay":
        gamma = _log_uniform(rng, 0.01, 0.3)
        spec.plan["decay"] = {"from": onset, "gamma": gamma}
        spec.plan["onset"] = next(e for e in range(onset, spec.epochs + 1) if gamma ** (e - onset + 1) <= 0.1)
        spec.plan["freeze_from"] = onset
    elif spec.variant == "lr_cut":
        spec.plan["lr_from"] = {str(onset): 0.0}
        spec.plan["onset"] = onset
    else:
        spec.plan["onset"] = 1


def _overreg(rng: random.Random, spec: RunSpec) -> None:
    spec.variant = "adamw_heavy_decay"
    spec.family = rng.choice(["gru", "gru", "lstm", "mlp"])
    spec.task, spec.target, spec.schedule = rng.choice(["return", "return", "multitask"]), "standardised", "constant"
    spec.optimizer, spec.lr, spec.weight_decay = "adamw", _log_uniform(rng, 1e-3, 3e-3), _log_uniform(rng, 10.0, 150.0)
    spec.epochs = rng.randint(15, 30)


SHAPERS = {"healthy": _healthy, "spike": _spike, "overfit": _overfit, "explode": _explode, "unstable": _unstable,
           "frozen": _frozen, "overreg": _overreg, "nothing": None}


def _nothing(rng: random.Random, spec: RunSpec) -> None:
    if spec.source == "prices":
        spec.task = rng.choice(["return", "direction", "multitask"])
    else:
        spec.signal = 0.0


def shape_foreign_run(rng: random.Random, spec: RunSpec) -> None:
    """Settle the fault's settings, then the writer's habits."""
    (SHAPERS[spec.kind] or _nothing)(rng, spec)
    if spec.writer == "lightning":
        spec.plan["lr_monitor"] = rng.choice([None, "step", "step", "epoch"])
        spec.plan["on_epoch"] = rng.random() < 0.5
        spec.plan.setdefault("val_every", 1)
        if spec.plan["val_every"] > 1 and spec.schedule == "plateau":
            spec.schedule = "constant"
    elif spec.writer == "tb_torch":
        spec.plan["tags"] = list(rng.choice(TB_TAGS))
        spec.plan["step_axis"] = rng.choice(["epoch", "global_step"])
        spec.plan["step_scalars"] = rng.random() < 0.4
