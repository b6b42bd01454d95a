"""The training loop: a callable a worker can run, steer through a ControlChannel, and stop."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from engine.checkpoint import save_checkpoint
from engine.config import Config
from engine.controls import Control, ControlChannel
from engine.dataset import PreparedData
from engine.errors import InputError
from engine.events import (CheckpointSaved, EarlyStopped, EpochEvent, ErrorEvent, Event, HyperparamChanged, Paused,
                           Resumed, RunEnded, RunStarted, StepEvent)
from engine.model import MultitaskLSTM, parameter_groups
from engine.probes import StepProbe
from engine.runlog import EVENTS_FILE, RunLog, new_run_dir

EventSink = Callable[[Event], None]


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device", f"'{name}' requested but CUDA is not available")
    return torch.device(name)


class Trainer:
    """Trains the multitask LSTM, emitting events and obeying controls at step boundaries."""

    def __init__(self, config: Config, data: PreparedData, sinks: list[EventSink] | None = None,
                 controls: ControlChannel | None = None, resume: dict | None = None, resume_path: str | None = None,
                 pause_on_nonfinite: bool = False) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.data = data.to(self.device)
        self.sinks = list(sinks or [])
        self.controls = controls or ControlChannel()
        self.pause_on_nonfinite = pause_on_nonfinite
        torch.manual_seed(config.seed)
        self.model = MultitaskLSTM(self.data.features.shape[1], config.model).to(self.device)
        training = config.training
        optimizer_class = torch.optim.AdamW if training.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = optimizer_class(self.model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
        self.shuffle = torch.Generator(device=self.device)
        self.shuffle.manual_seed(config.seed)
        self.probe = StepProbe(parameter_groups(self.model))
        self.base_lr = training.learning_rate
        self.clf_weight = training.clf_weight
        self.epoch, self.step, self.batch = 0, 0, 0
        self.paused = False
        self.best_val, self.best_epoch, self.wait, self.best_model = math.inf, 0, 0, None
        self._perm: torch.Tensor | None = None
        self._acc: torch.Tensor | None = None
        self._last_good: dict | None = None
        self._samples_run, self._clock, self._waited = 0, 0.0, 0.0
        self.run_id = ""
        self.run_dir: Path | None = None
        self.resume_path = resume_path
        if resume is not None:
            self._restore(resume)

    # -- knobs -------------------------------------------------------------------------------------
    @property
    def hparams(self) -> dict[str, float]:
        """Current learning rate, weight decay, dropout and clf_weight."""
        return {"lr": self.base_lr, "weight_decay": self.optimizer.param_groups[0]["weight_decay"],
                "dropout": self.model.dropout_p, "clf_weight": self.clf_weight}

    def _set_knob(self, name: str, value: float) -> None:
        if name == "lr":
            self.base_lr = value
            self._apply_lr()
        elif name == "weight_decay":
            for group in self.optimizer.param_groups:
                group["weight_decay"] = value
        elif name == "dropout":
            self.model.set_dropout(value)
        elif name == "clf_weight":
            self.clf_weight = value

    def _apply_lr(self) -> None:
        warmup = self.config.training.warmup
        factor = 1.0
        if warmup.enabled:
            factor = min(1.0, (self.step + 1) / max(1.0, warmup.epochs * self.batches_per_epoch))
        for group in self.optimizer.param_groups:
            group["lr"] = self.base_lr * factor

    @property
    def batches_per_epoch(self) -> int:
        """Training batches in one epoch."""
        return math.ceil(len(self.data.ends["train"]) / self.config.training.batch_size)

    # -- events and controls -----------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Send an event to every sink (log file first)."""
        for sink in self.sinks:
            sink(event)

    def _apply_control(self, control: Control) -> str | None:
        """Apply one control; returns a run-ending reason for stop/interrupt."""
        if control.action == "pause" and not self.paused:
            self.paused = True
            self.emit(Paused(self.epoch, self.step, "user"))
        elif control.action == "resume" and self.paused:
            self.paused = False
            self.emit(Resumed(self.epoch, self.step))
        elif control.action in ("stop", "interrupt"):
            return "stopped" if control.action == "stop" else "interrupted"
        elif control.action == "save":
            self.save("manual")
        elif control.action == "set":
            old = self.hparams[control.name]
            self._set_knob(control.name, control.value)
            self.emit(HyperparamChanged(control.name, old, control.value, self.epoch, self.step, control.source))
        return None

    def _obey_controls(self) -> str | None:
        """Drain pending controls; while paused, wait here for more."""
        while True:
            waited_from = time.perf_counter()
            control = self.controls.take(timeout=0.1 if self.paused else None)
            if self.paused:
                self._waited += time.perf_counter() - waited_from
            if control is None:
                if self.paused:
                    continue
                return None
            outcome = self._apply_control(control)
            if outcome:
                return outcome

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue exactly."""
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch, "step": self.step, "batch": self.batch, "perm": self._perm, "acc": self._acc,
            "config": self.config.model_dump(), "scaler": dataclasses.asdict(self.data.scaler),
            "fingerprint": self.data.fingerprint, "hparams": self.hparams, "rng": rng, "run_id": self.run_id,
            "early": {"best_val": self.best_val, "best_epoch": self.best_epoch, "wait": self.wait,
                      "best_model": self.best_model},
        }

    def _restore(self, state: dict) -> None:
        if state.get("fingerprint") != self.data.fingerprint:
            raise InputError(str(self.resume_path or "checkpoint"), "was trained on different data than the configured source")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as error:
            raise InputError(str(self.resume_path or "checkpoint"), f"does not fit this model ({str(error).splitlines()[0][:100]})") from None
        self.epoch, self.step, self.batch = state["epoch"], state["step"], state["batch"]
        self._perm = None if state["perm"] is None else state["perm"].to(self.device)
        self._acc = None if state["acc"] is None else state["acc"].to(self.device)
        for name, value in state["hparams"].items():
            self._set_knob(name, value)
        early = state["early"]
        self.best_val, self.best_epoch, self.wait = early["best_val"], early["best_epoch"], early["wait"]
        self.best_model = early["best_model"]
        self.run_id = state.get("run_id", "")
        torch.set_rng_state(state["rng"]["torch"])
        self.shuffle.set_state(state["rng"]["shuffle"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)

    def save(self, reason: str, name: str | None = None) -> str:
        """Write a checkpoint atomically into the run directory and announce it."""
        name = name or f"epoch{self.epoch:04d}-step{self.step:07d}.pt"
        path = save_checkpoint(self.state_dict(), self.run_dir / "checkpoints" / name)
        self.emit(CheckpointSaved(str(path), reason, self.epoch, self.step))
        return str(path)

    # -- the loop ----------------------------------------------------------------------------------
    def _open_run(self) -> None:
        parent = Path(self.resume_path).resolve().parent.parent if self.resume_path else None
        if parent is not None and (parent / EVENTS_FILE).exists():
            self.run_dir = parent
        else:
            self.run_dir = new_run_dir(self.config.log_dir)
        self.run_id = self.run_dir.name
        self.log = RunLog(self.run_dir, self.config.model_dump())
        self.sinks.insert(0, self.log)

    def run(self) -> RunEnded:
        """Train until done, stopped, early-stopped or diverged; always ends with a RunEnded event."""
        self._open_run()
        self.emit(RunStarted(self.run_id, self.config.model_dump(), self.data.summary, self.data.baselines,
                             str(self.device), sum(p.numel() for p in self.model.parameters()), self.epoch,
                             self.resume_path))
        reason = "completed"
        try:
            while self.epoch < self.config.training.epochs:
                outcome = self._train_epoch() or self._end_epoch()
                if outcome == "retry":
                    continue
                if outcome:
                    reason = outcome
                    break
        except Exception as error:
            message = f"{type(error).__name__}: {error}".splitlines()[0]
            if isinstance(error, torch.OutOfMemoryError):
                message += f" (batch_size {self.config.training.batch_size}: lower training.batch_size or model.hidden_size)"
            self.emit(ErrorEvent(message, self.epoch, self.step, fatal=True))
            ended = RunEnded("error", self.epoch, self.step, self._best_or_none())
            self.emit(ended)
            self.log.close()
            raise
        # A user's stop saves only if they asked (the save control comes first); divergence has nothing worth saving.
        checkpoint = None
        if reason in ("completed", "early_stop", "interrupted"):
            checkpoint = self.save(reason, "interrupt.pt" if reason == "interrupted" else "last.pt")
        ended = RunEnded(reason, self.epoch, self.step, self._best_or_none(), checkpoint)
        self.emit(ended)
        self.log.close()
        return ended

    def _best_or_none(self) -> float | None:
        return self.best_val if math.isfinite(self.best_val) else None

    def _start_epoch(self) -> None:
        self._perm = torch.randperm(len(self.data.ends["train"]), generator=self.shuffle, device=self.device)
        self._acc = torch.zeros(5, device=self.device)
        self.batch = 0
        if self.pause_on_nonfinite:
            # state_dict() returns live references; the rollback point must be a copy.
            self._last_good = {"model": {k: v.clone() for k, v in self.model.state_dict().items()},
                               "optimizer": copy.deepcopy(self.optimizer.state_dict()), "rng": self.shuffle.get_state()}
        self.probe.reset()

    def _train_epoch(self) -> str | None:
        """Run the rest of the current epoch's batches; returns a reason to end the run, if any."""
        if self._perm is None:
            self._start_epoch()
        training = self.config.training
        batches = self.batches_per_epoch
        probe_every = max(1, batches // training.probes_per_epoch)
        params = list(self.model.parameters())
        self.model.train()
        self._samples_run, self._clock, self._waited = 0, time.perf_counter(), 0.0
        last_emit = time.monotonic()
        while self.batch < batches:
            outcome = self._obey_controls()
            if outcome:
                return outcome
            ends = self.data.ends["train"][self._perm[self.batch * training.batch_size:(self.batch + 1) * training.batch_size]]
            inputs, target, up = self.data.batch(ends)
            self._apply_lr()
            prediction, logit = self.model(inputs)
            reg = F.mse_loss(prediction, target)
            clf = F.binary_cross_entropy_with_logits(logit, up)
            loss = training.reg_weight * reg + self.clf_weight * clf
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = (torch.nn.utils.clip_grad_norm_(params, training.grad_clip) if training.grad_clip > 0
                         else torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None]))
            probing = self.batch % probe_every == probe_every - 1
            if probing:
                group = self.optimizer.param_groups[0]
                self.probe.before_step(group["weight_decay"], group["lr"], training.optimizer == "adamw")
            self.optimizer.step()
            if probing:
                self.probe.after_step()
            n = len(ends)
            self._acc += torch.stack([loss.detach() * n, reg.detach() * n, clf.detach() * n,
                                      torch.tensor(float(n), device=self.device), grad_norm.detach()])
            self.batch += 1
            self.step += 1
            self._samples_run += n
            now = time.monotonic()
            if now - last_emit >= self.config.step_event_interval_s:
                last_emit = now
                value = loss.item()
                self.emit(StepEvent(self.epoch + 1, self.batch, batches, self.step, value))
                if not math.isfinite(value) and self.pause_on_nonfinite:
                    return self._recover_nonfinite(value)
        return None

    def _recover_nonfinite(self, value: float) -> str:
        """Roll back to the start of the epoch and pause, so a person can lower the learning rate."""
        message = (f"non-finite loss ({value}) at epoch {self.epoch + 1} step {self.step}: weights restored to the "
                   f"start of the epoch and training paused; lower the learning rate, then resume")
        self.emit(ErrorEvent(message, self.epoch, self.step, fatal=False))
        good = self._last_good
        if good is not None:
            self.model.load_state_dict(good["model"])
            self.optimizer.load_state_dict(good["optimizer"])
            self.shuffle.set_state(good["rng"])
        self._perm = None
        self.paused = True
        self.emit(Paused(self.epoch, self.step, "non-finite loss"))
        return "retry"

    @torch.no_grad()
    def _evaluate(self, split: str) -> torch.Tensor:
        """reg, clf, accuracy, prediction std and probability std on a split, as one device tensor."""
        self.model.eval()
        predictions, logits = [], []
        ends = self.data.ends[split]
        for start in range(0, len(ends), 4096):
            inputs, _, _ = self.data.batch(ends[start:start + 4096])
            prediction, logit = self.model(inputs)
            predictions.append(prediction)
            logits.append(logit)
        self.model.train()
        prediction, logit = torch.cat(predictions), torch.cat(logits)
        target, up = self.data.target_return[ends], self.data.target_up[ends]
        return torch.stack([F.mse_loss(prediction, target), F.binary_cross_entropy_with_logits(logit, up),
                            ((logit > 0).float() == up).float().mean(), prediction.std(), torch.sigmoid(logit).std()])

    def _end_epoch(self) -> str | None:
        """Evaluate, emit the epoch event, apply early stopping; returns a reason to end, if any."""
        loss_sum, reg_sum, clf_sum, count, grad_sum = self._acc.tolist()
        seconds = time.perf_counter() - self._clock - self._waited
        val_reg, val_clf, val_acc, pred_std, prob_std = self._evaluate("val").tolist()
        update_ratio, wd_ratio = self.probe.read()
        weight_norm = torch.linalg.vector_norm(torch.stack([p.detach().norm() for p in self.model.parameters()])).item()
        self.epoch += 1
        self._perm, self._acc = None, None
        training = self.config.training
        val_loss = training.reg_weight * val_reg + self.clf_weight * val_clf
        hp = self.hparams
        self.emit(EpochEvent(
            self.epoch, training.epochs, self.step, loss_sum / count, val_loss, reg_sum / count, clf_sum / count,
            val_reg, val_clf, val_acc, hp["lr"], hp["weight_decay"], hp["dropout"], hp["clf_weight"],
            grad_sum / self.batches_per_epoch, update_ratio, wd_ratio, weight_norm, pred_std, prob_std,
            self._samples_run / seconds if seconds > 0 else 0.0, seconds))
        if not (math.isfinite(loss_sum) and math.isfinite(val_loss)):
            if self.pause_on_nonfinite:
                self._perm = None
                self.epoch -= 1
                return self._recover_nonfinite(loss_sum if not math.isfinite(loss_sum) else val_loss)
            return "diverged"
        early = training.early_stopping
        if val_loss < self.best_val - early.min_delta:
            self.best_val, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_model = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.wait += 1
        if early.enabled and self.wait >= early.patience:
            self.model.load_state_dict(self.best_model)
            self.emit(EarlyStopped(self.epoch, self.best_epoch, self.best_val))
            return "early_stop"
        return None
