"""The training loop: a callable a worker can run, steer through a ControlChannel, and stop."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import threading
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F

from engine.checkpoint import keep_numbered_copy, save_checkpoint
from engine.config import Config
from engine.controls import Control, ControlChannel
from engine.dataset import PreparedData
from engine.errors import EnvironmentProblem, InputError
from engine.events import (CheckpointSaved, EarlyStopped, EpochEvent, ErrorEvent, Event, HyperparamChanged, Paused,
                           Resumed, RunEnded, RunStarted, SessionNote, StepEvent)
from engine.model import MultitaskLSTM, parameter_groups
from engine.probes import StepProbe
from engine.distributed import (PAUSED_POLL_S, SINGLE, ControlBroadcast, World, device_for, gather_objects, join, leave,
                                rank_share, sum_across)
from engine.runlog import EVENTS_FILE, RunLog, new_run_dir

EventSink = Callable[[Event], None]


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device", f"'{name}' requested but CUDA is not available")
    return torch.device(name)


def run_dir_for(log_dir: str | Path, resume_path: str | None = None) -> Path:
    """A resumed run continues in its checkpoint's run directory (same log); a new run gets a new one."""
    parent = Path(resume_path).resolve().parent.parent if resume_path else None
    if parent is not None and (parent / EVENTS_FILE).exists():
        return parent
    return new_run_dir(log_dir)


def append_line(path: Path, event: Event) -> None:
    """One whole event line appended with a single write (a second writer's lines never interleave with ours)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(descriptor, (event.to_json() + "\n").encode())
    finally:
        os.close(descriptor)


class Trainer:
    """Trains the multitask LSTM, emitting events and obeying controls at step boundaries."""

    def __init__(self, config: Config, data: PreparedData, sinks: list[EventSink] | None = None,
                 controls: ControlChannel | None = None, resume: dict | None = None, resume_path: str | None = None,
                 pause_on_nonfinite: bool = False, run_dir: str | Path | None = None, world: World = SINGLE) -> None:
        self.config = config
        self.world = world
        self.device = resolve_device(device_for(world, config.device))
        join(world, self.device)
        self.data = data.to(self.device)
        self.sinks = list(sinks or [])
        self.controls = controls or ControlChannel()
        self.pause_on_nonfinite = pause_on_nonfinite
        torch.manual_seed(config.seed)
        self.model = MultitaskLSTM(self.data.features.shape[1], config.model).to(self.device)
        self.net = self.model
        self.broadcast = None
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self.net = DistributedDataParallel(self.model, device_ids=[self.device] if self.device.type == "cuda" else None)
            self.broadcast = ControlBroadcast(world, self.controls, self.device)
            torch.manual_seed(config.seed + world.rank)  # same weights everywhere, but each rank its own dropout masks
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
        self._count = 0
        self._last_good: dict | None = None
        self._samples_run, self._clock, self._waited = 0, 0.0, 0.0
        self.run_id = ""
        self.run_dir: Path | None = Path(run_dir) if run_dir else None
        self.endpoint = None
        self.finished = threading.Event()
        self._end_source = ""
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
        """Training batches in one epoch (global batches of batch_size per rank)."""
        return math.ceil(len(self.data.ends["train"]) / (self.config.training.batch_size * self.world.size))

    # -- events and controls -----------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Send an event to every sink (log file first)."""
        for sink in self.sinks:
            sink(event)

    def _apply_control(self, control: Control) -> str | None:
        """Apply one control; returns a run-ending reason for stop/interrupt."""
        if control.action == "pause" and not self.paused:
            self.paused = True
            self.emit(Paused(self.epoch, self.step, "user", control.source))
        elif control.action == "resume" and self.paused:
            self.paused = False
            self.emit(Resumed(self.epoch, self.step, control.source))
        elif control.action in ("stop", "interrupt"):
            self._end_source = control.source
            return "stopped" if control.action == "stop" else "interrupted"
        elif control.action == "save":
            self.save("manual", source=control.source)
        elif control.action == "note":
            self.emit(SessionNote(control.name, control.source, self.epoch, self.step))
        elif control.action == "set":
            old = self.hparams[control.name]
            self._set_knob(control.name, control.value)
            self.emit(HyperparamChanged(control.name, old, control.value, self.epoch, self.step, control.source))
        return None

    def _obey_controls(self) -> str | None:
        """Drain pending controls; while paused, wait here for more."""
        if self.broadcast is not None:
            return self._obey_broadcast_controls()
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

    def _obey_broadcast_controls(self) -> str | None:
        """Every rank applies what rank 0 sends, at the same step; paused ranks wait on rank 0's heartbeats."""
        while True:
            local = []
            if self.world.is_main:
                waited_from = time.perf_counter()
                wait = PAUSED_POLL_S if self.paused and not self.broadcast.has_pending else None
                first = self.controls.take(timeout=wait)
                if self.paused:
                    self._waited += time.perf_counter() - waited_from
                while first is not None:
                    if first.action == "note":  # notes are rank 0's log lines; nothing to apply elsewhere
                        self._apply_control(first)
                    else:
                        local.append(first)
                    first = self.controls.take()
            elif self.paused:
                waited_from = time.perf_counter()
            applied = self.broadcast.exchange(self.paused, local)
            if self.paused and not self.world.is_main:
                self._waited += time.perf_counter() - waited_from
            for control in applied:
                self.broadcast.trace(self.step, control)
                outcome = self._apply_control(control)
                if outcome:
                    return outcome
            if not self.paused and not self.broadcast.has_pending:
                return None

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue exactly (with several ranks: a collective, every rank must call it)."""
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle.get_state()}
        if self.world.distributed:
            rng["torch_ranks"] = gather_objects(torch.get_rng_state(), self.world)
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch, "step": self.step, "batch": self.batch, "perm": self._perm, "acc": self._acc,
            "count": self._count,
            "config": self.config.model_dump(), "scaler": dataclasses.asdict(self.data.scaler),
            "fingerprint": self.data.fingerprint, "hparams": self.hparams, "rng": rng, "run_id": self.run_id,
            "world_size": self.world.size,
            "early": {"best_val": self.best_val, "best_epoch": self.best_epoch, "wait": self.wait,
                      "best_model": self.best_model},
        }

    def _restore(self, state: dict) -> None:
        if state.get("fingerprint") != self.data.fingerprint:
            raise InputError(str(self.resume_path or "checkpoint"), "was trained on different data than the configured source")
        saved_world = state.get("world_size", 1)
        if saved_world != self.world.size:
            raise InputError(str(self.resume_path or "checkpoint"), f"was written by {saved_world} process(es); resume it "
                             f"with the same number (this job has {self.world.size}): each rank's data share and "
                             f"random state depend on it")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as error:
            raise InputError(str(self.resume_path or "checkpoint"), f"does not fit this model ({str(error).splitlines()[0][:100]})") from None
        self.epoch, self.step, self.batch = state["epoch"], state["step"], state["batch"]
        self._perm = None if state["perm"] is None else state["perm"].to(self.device)
        self._acc = None if state["acc"] is None else state["acc"].to(self.device)
        self._count = int(state.get("count", 0))
        if self._acc is not None and len(self._acc) == 5:  # written before the count moved to the host
            self._count, self._acc = int(self._acc[3]), self._acc[[0, 1, 2, 4]]
        for name, value in state["hparams"].items():
            self._set_knob(name, value)
        early = state["early"]
        self.best_val, self.best_epoch, self.wait = early["best_val"], early["best_epoch"], early["wait"]
        self.best_model = early["best_model"]
        self.run_id = state.get("run_id", "")
        torch.set_rng_state(state["rng"].get("torch_ranks", [state["rng"]["torch"]] * self.world.size)[self.world.rank])
        self.shuffle.set_state(state["rng"]["shuffle"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)

    def save(self, reason: str, name: str | None = None, source: str = "") -> str:
        """Write a checkpoint atomically into the run directory and announce it (rank 0 writes; all ranks call)."""
        name = name or f"epoch{self.epoch:04d}-step{self.step:07d}.pt"
        state = self.state_dict()
        if not self.world.is_main:
            return ""
        path = save_checkpoint(state, self.run_dir / "checkpoints" / name)
        self.emit(CheckpointSaved(str(path), reason, self.epoch, self.step, source))
        return str(path)

    def _save_periodic(self, improved: bool, rolling: bool = True) -> None:
        """After an epoch: best.pt on a validation gain, the rolling last.pt every N epochs, numbered copies kept."""
        settings = self.config.checkpoint
        if improved:
            self.save("best", "best.pt")
        if rolling and settings.every_epochs and self.epoch % settings.every_epochs == 0:
            last = Path(self.save("periodic", "last.pt"))
            if settings.keep_last and self.world.is_main:
                keep_numbered_copy(last, settings.keep_last, self.epoch)

    # -- the loop ----------------------------------------------------------------------------------
    def _open_run(self) -> None:
        self.log = None
        if self.world.is_main and self.run_dir is None:
            self.run_dir = run_dir_for(self.config.log_dir, self.resume_path)
        if self.world.distributed:  # every rank learns where the log is, to record its own fatal error there
            shared = [str(self.run_dir) if self.world.is_main else None]
            dist.broadcast_object_list(shared, src=0)
            self.run_dir = Path(shared[0])
        if not self.world.is_main:
            self.run_id = self.run_dir.name
            return
        self.run_id = self.run_dir.name
        self.log = RunLog(self.run_dir, self.config.model_dump())
        self.sinks.insert(0, self.log)

    def _open_endpoint(self) -> None:
        """Serve events and take controls on the run's socket; a run without one still trains."""
        if not self.config.control_socket or not self.world.is_main:
            return
        from engine.control_server import ControlServer

        server = ControlServer(self.run_dir, self.controls, self.log.path, self.run_id)
        try:
            server.start()
        except OSError as error:
            self.emit(ErrorEvent(f"{server.path}: control socket unavailable ({error.strerror or error}); "
                                 f"the run goes on without attach", self.epoch, self.step))
            return
        self.endpoint = server
        self.sinks.append(server)

    def _close(self) -> None:
        if self.log is not None:
            self.log.close()
        if self.endpoint is not None:
            self.endpoint.close()

    def _pending_end(self) -> str | None:
        """A stop or interrupt that arrived during the last epoch's evaluation still counts."""
        while (control := self.controls.take()) is not None:
            outcome = self._apply_control(control)
            if outcome:
                return outcome
        return None

    def run(self) -> RunEnded:
        """Train until done, stopped, early-stopped or diverged; always ends with a RunEnded event."""
        try:
            return self._run()
        finally:
            leave(self.world)
            self.finished.set()

    def _fail_before_log(self, error: OSError) -> None:
        """The run directory could not be made: tell the other sinks (the dashboard) and stop with one line."""
        where = error.filename or self.config.log_dir
        message = f"{where}: cannot create the run directory ({error.strerror or error})"
        self.sinks = [sink for sink in self.sinks if not isinstance(sink, RunLog)]
        self.emit(ErrorEvent(message, fatal=True))
        self.emit(RunEnded("error", self.epoch, self.step))
        raise EnvironmentProblem(message) from None

    def _run(self) -> RunEnded:
        try:
            self._open_run()
        except OSError as error:
            self._fail_before_log(error)
        self._open_endpoint()
        self.emit(RunStarted(self.run_id, self.config.model_dump(), self.data.summary, self.data.baselines,
                             str(self.device), sum(p.numel() for p in self.model.parameters()), self.epoch,
                             self.resume_path, dict(self.hparams)))
        reason = "completed"
        try:
            while self.epoch < self.config.training.epochs:
                outcome = self._train_epoch() or self._end_epoch()
                if outcome == "retry":
                    continue
                if outcome:
                    reason = outcome
                    break
            if reason == "completed":
                reason = self._pending_end() or reason
        except Exception as error:
            message = f"{type(error).__name__}: {error}".splitlines()[0]
            if isinstance(error, torch.OutOfMemoryError):
                message += f" (batch_size {self.config.training.batch_size}: lower training.batch_size or model.hidden_size)"
            if self.world.distributed:
                message = f"rank {self.world.rank}: {message}"
                if not self.world.is_main:  # rank 0 owns the log; one whole line appended is safe beside its writes
                    append_line(self.run_dir / EVENTS_FILE, ErrorEvent(message, self.epoch, self.step, fatal=True))
            self.emit(ErrorEvent(message, self.epoch, self.step, fatal=True))
            ended = RunEnded("error", self.epoch, self.step, self._best_or_none())
            self.emit(ended)
            self._close()
            raise
        # A user's stop saves only if they asked (the save control comes first); divergence has nothing worth saving.
        checkpoint = None
        if reason in ("completed", "early_stop", "interrupted"):
            checkpoint = self.save(reason, "interrupt.pt" if reason == "interrupted" else "last.pt", self._end_source)
        ended = RunEnded(reason, self.epoch, self.step, self._best_or_none(), checkpoint, self._end_source)
        self.emit(ended)
        self._close()
        return ended

    def _best_or_none(self) -> float | None:
        return self.best_val if math.isfinite(self.best_val) else None

    def _start_epoch(self) -> None:
        self._perm = torch.randperm(len(self.data.ends["train"]), generator=self.shuffle, device=self.device)
        self._acc = torch.zeros(4, device=self.device)
        self._count = 0
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
            size = training.batch_size * self.world.size
            chosen = self._perm[self.batch * size:(self.batch + 1) * size]
            ends = self.data.ends["train"][rank_share(chosen, self.world) if self.world.distributed else chosen]
            inputs, target, up = self.data.batch(ends)
            self._apply_lr()
            prediction, logit = self.net(inputs)
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
            self._acc.add_(torch.stack([loss.detach() * n, reg.detach() * n, clf.detach() * n, grad_norm.detach()]))
            self._count += n
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
        totals = torch.cat([self._acc, torch.tensor([float(self._count)], device=self.device)])
        loss_sum, reg_sum, clf_sum, grad_sum, count = sum_across(totals, self.world).tolist()
        grad_sum /= self.world.size  # every rank measured the same all-reduced gradient
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
            self._samples_run * self.world.size / seconds if seconds > 0 else 0.0, seconds))
        if not (math.isfinite(loss_sum) and math.isfinite(val_loss)):
            if self.pause_on_nonfinite:
                self._perm = None
                self.epoch -= 1
                return self._recover_nonfinite(loss_sum if not math.isfinite(loss_sum) else val_loss)
            return "diverged"
        early = training.early_stopping
        improved = val_loss < self.best_val - early.min_delta
        if improved:
            self.best_val, self.best_epoch, self.wait = val_loss, self.epoch, 0
            self.best_model = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.wait += 1
        stopping = early.enabled and self.wait >= early.patience
        # The run's own end writes last.pt anyway; a periodic copy of the same epoch would be a second write.
        self._save_periodic(improved, rolling=not stopping and self.epoch < training.epochs)
        if stopping:
            self.model.load_state_dict(self.best_model)
            self.emit(EarlyStopped(self.epoch, self.best_epoch, self.best_val))
            return "early_stop"
        return None
