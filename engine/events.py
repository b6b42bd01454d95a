"""Typed training events: plain dataclasses of Python numbers, one JSON object each."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

EVENT_TYPES: dict[str, type["Event"]] = {}


@dataclass
class Event:
    """Base of all events; `time` is wall-clock seconds when it happened."""

    kind: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.kind] = cls

    def to_dict(self) -> dict:
        """A JSON-ready mapping whose first key is the event type."""
        return {"type": self.kind, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        """One line of JSON; NaN and Infinity are kept (pandas and json read them)."""
        return json.dumps(self.to_dict())


@dataclass
class RunStarted(Event):
    """A run (or a resumed run) begins."""

    kind: ClassVar[str] = "run_start"
    run_id: str
    config: dict
    data: dict
    baselines: dict
    device: str
    parameters: int
    start_epoch: int = 0
    resumed_from: str | None = None
    hparams: dict | None = None
    parent: dict | None = None  # a branch: {run_id, epoch, checkpoint} of the run it was forked from
    trial: dict | None = None  # a sweep's trial: {study, number}


@dataclass
class StartupPhase(Event):
    """The trainer process is getting ready: importing torch, loading prices, building windows, building the model."""

    kind: ClassVar[str] = "starting"
    phase: str


@dataclass
class StepEvent(Event):
    """A throttled sample of the training loss; `step` and `loss` stay last for fast parsing."""

    kind: ClassVar[str] = "step"
    epoch: int
    batch: int
    batches: int
    step: int
    loss: float


@dataclass
class EpochEvent(Event):
    """Everything measured over one epoch."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    step: int
    train_loss: float
    val_loss: float
    train_reg: float
    train_clf: float
    val_reg: float
    val_clf: float
    val_acc: float
    lr: float
    weight_decay: float
    dropout: float
    clf_weight: float
    grad_norm: float
    update_ratio: dict[str, float]
    wd_grad_ratio: dict[str, float]
    weight_norm: float
    pred_std: float
    prob_std: float
    samples_per_s: float
    seconds: float
    threads: int | None = None


@dataclass
class HyperparamChanged(Event):
    """A hyperparameter took a new value, effective from the next step."""

    kind: ClassVar[str] = "hparam"
    name: str
    old: float
    new: float
    epoch: int
    step: int
    source: str = "user"


@dataclass
class Paused(Event):
    """Training paused at a step boundary."""

    kind: ClassVar[str] = "paused"
    epoch: int
    step: int
    reason: str = "user"
    source: str = "user"


@dataclass
class Resumed(Event):
    """Training resumed after a pause."""

    kind: ClassVar[str] = "resumed"
    epoch: int
    step: int
    source: str = "user"


@dataclass
class CheckpointSaved(Event):
    """A checkpoint was written atomically."""

    kind: ClassVar[str] = "checkpoint"
    path: str
    reason: str
    epoch: int
    step: int
    source: str = ""


@dataclass
class EarlyStopped(Event):
    """Validation loss stopped improving; best weights were restored."""

    kind: ClassVar[str] = "early_stop"
    epoch: int
    best_epoch: int
    best_val_loss: float


class EndReason(StrEnum):
    """Why a run ended (the log stores the plain string)."""

    COMPLETED = "completed"
    EARLY_STOP = "early_stop"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    DIVERGED = "diverged"
    ERROR = "error"


FINISHED = frozenset({EndReason.COMPLETED, EndReason.EARLY_STOP})  # ended as planned: nothing to resume
FAILED = frozenset({EndReason.DIVERGED, EndReason.ERROR})  # the training itself went wrong (exit status 1)


@dataclass
class RunEnded(Event):
    """The run is over; `reason` is completed, early_stop, stopped, interrupted, diverged or error."""

    kind: ClassVar[str] = "run_end"
    reason: str
    epoch: int
    step: int
    best_val_loss: float | None = None
    checkpoint: str | None = None
    source: str = ""


@dataclass
class TestEvaluation(Event):
    """The best checkpoint scored once, after training, on the held-out split (never used for stopping, remedies or
    selection). `total` and each of `tickers` hold windows, loss, baseline, skill with skill_low/high (95%), acc with
    acc_low/high (Wilson) and majority (the split's own majority rate); `strategy` is the direction head's economic
    reading (engine/data/direction_strategy.py)."""

    __test__ = False  # a name pytest would otherwise try to collect as a test class
    kind: ClassVar[str] = "test"
    split: str
    checkpoint: str
    checkpoint_epoch: int
    epoch: int
    step: int
    total: dict
    tickers: dict[str, dict]
    strategy: dict


@dataclass
class SessionNote(Event):
    """Something about who watches or steers the run: the terminal hung up, a client attached or detached."""

    kind: ClassVar[str] = "note"
    what: str
    source: str
    epoch: int = 0
    step: int = 0


@dataclass
class ErrorEvent(Event):
    """Something went wrong; `fatal` errors end the run."""

    kind: ClassVar[str] = "error"
    message: str
    epoch: int = 0
    step: int = 0
    fatal: bool = False


@dataclass
class DeviceStats(Event):
    """The trainer's own figures, every few seconds at a step boundary: its CPU% (all threads, so up to 100 × cores)
    and resident memory; on CUDA the GPU's utilisation, memory, temperature and power. None where not available."""

    kind: ClassVar[str] = "stats"
    name: str = ""  # "cpu" or "gpu": which figures the device has
    util_percent: float | None = None
    mem_used: float | None = None
    mem_total: float | None = None
    temperature_c: float | None = None
    power_w: float | None = None
    cpu_percent: float | None = None
    rss: float | None = None
    epoch: int = 0
    step: int = 0


class UnknownEventType(ValueError):
    """A log line whose type this version does not know."""


def event_from_dict(data: dict) -> Event:
    """Rebuild a typed event from its JSON mapping; unknown fields are ignored."""
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None:
        raise UnknownEventType(str(data.get("type")))
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
