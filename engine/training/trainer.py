"""The training loop: a callable a worker can run, steer through a ControlChannel, and stop."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F

from engine.training import training_state
from engine.store.checkpoint import keep_numbered_copy, save_checkpoint
from engine.config import Config
from engine.control.channel import ControlChannel
from engine.data.dataset import PreparedData
from engine.training.distributed import (SINGLE, ControlBroadcast, World, device_for, join, leave, rank_share, resolve_device,
                                sum_across)
from engine.training.epoch_sums import EpochSums
from engine.training.evaluation import evaluate
from engine.errors import EnvironmentProblem
from engine.events import (CheckpointSaved, EarlyStopped, EndReason, EpochEvent, ErrorEvent, Event, Paused, RunEnded,
                           RunStarted, SessionNote, StepEvent)
from engine.training.model import MultitaskLSTM, parameter_groups
from engine.training.probes import StepProbe
from engine.training.rollback import RollbackPoint
from engine.store.log_writer import EVENTS_FILE, RunLog, append_line, run_dir_for
from engine.training.schedule import lr_at_step
from engine.training.steering import Steering
from engine.training.threads import ThreadGovernor, apply_threads

EventSink = Callable[[Event], None]


class Trainer(Steering):
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
        self._sums: EpochSums | None = None
        self._rollback: RollbackPoint | None = None
        self._samples_run, self._clock, self._waited = 0, 0.0, 0.0
        self.run_id = ""
        self.run_dir: Path | None = Path(run_dir) if run_dir else None
        self.endpoint = None
        self.finished = threading.Event()
        self._last_step_event = -math.inf  # the first step of a run is sampled at once
        self._end_source = ""
        self.resume_path = resume_path
        if resume is not None:
            training_state.restore(self, resume, str(resume_path or "checkpoint"))

    # -- knobs -------------------------------------------------------------------------------------
    @property
    def hparams(self) -> dict[str, float]:
        """Current learning rate, weight decay, dropout and clf_weight."""
        return {"lr": self.base_lr, "weight_decay": self.optimizer.param_groups[0]["weight_decay"],
                "dropout": self.model.dropout_p, "clf_weight": self.clf_weight}

    def set_knob(self, name: str, value: float) -> None:
        """Put a knob's new value into force from the next step."""
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

    @property
    def warmup_steps(self) -> float:
        """Steps of linear warmup (0 when off)."""
        warmup = self.config.training.warmup
        return warmup.epochs * self.batches_per_epoch if warmup.enabled else 0.0

    def _apply_lr(self) -> None:
        lr = lr_at_step(self.base_lr, self.step, self.warmup_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @property
    def batches_per_epoch(self) -> int:
        """Training batches in one epoch (global batches of batch_size per rank)."""
        return math.ceil(len(self.data.ends["train"]) / (self.config.training.batch_size * self.world.size))

    # -- events and controls -----------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Send an event to every sink (log file first)."""
        for sink in self.sinks:
            sink(event)

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue exactly (engine/training/training_state.py; a collective with several ranks)."""
        return training_state.capture(self)

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
        from engine.control.server import ControlServer

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

    def run(self) -> RunEnded:
        """Train until done, stopped, early-stopped or diverged; always ends with a RunEnded event."""
        try:
            ended = self._run()
            leave(self.world)  # not after a failure: a group with a dead rank can hang on its way out
            return ended
        finally:
            self.finished.set()

    def _fail_before_log(self, error: OSError) -> None:
        """The run directory could not be made: tell the other sinks (the dashboard) and stop with one line."""
        where = error.filename or self.config.log_dir
        message = f"{where}: cannot create the run directory ({error.strerror or error})"
        self.sinks = [sink for sink in self.sinks if not isinstance(sink, RunLog)]
        self.emit(ErrorEvent(message, fatal=True))
        self.emit(RunEnded(EndReason.ERROR, self.epoch, self.step))
        raise EnvironmentProblem(message) from None

    def _run(self) -> RunEnded:
        try:
            self._open_run()
        except OSError as error:
            self._fail_before_log(error)
        self._open_endpoint()
        # Here, in the training thread: torch's OpenMP thread count is a per-thread setting.
        threads = torch.get_num_threads() if self.world.distributed else apply_threads(self.config.threads)
        self.governor = ThreadGovernor("fixed" if self.world.distributed else self.config.threads)
        self.emit(RunStarted(self.run_id, self.config.model_dump(), {**self.data.summary, "threads": threads}, self.data.baselines,
                             str(self.device), sum(p.numel() for p in self.model.parameters()), self.epoch,
                             self.resume_path, dict(self.hparams)))
        reason = EndReason.COMPLETED
        try:
            while self.epoch < self.config.training.epochs:
                outcome = self._train_epoch() or self._end_epoch()
                if outcome:
                    reason = outcome
                    break
            if reason == EndReason.COMPLETED:
                reason = self._pending_end() or reason
        except Exception as error:
            message = f"{type(error).__name__}: {error}".splitlines()[0]
            if isinstance(error, torch.OutOfMemoryError):
                message += f" (batch_size {self.config.training.batch_size}: lower training.batch_size or model.hidden_size)"
            if self.world.distributed:
                message = f"rank {self.world.rank}: {message}"
                if not self.world.is_main:  # rank 0 owns the log; one whole line appended is safe beside its writes
                    append_line(self.run_dir / EVENTS_FILE, ErrorEvent(message, self.epoch, self.step, fatal=True))
            self._emit_despite_the_log(ErrorEvent(message, self.epoch, self.step, fatal=True))
            self._emit_despite_the_log(RunEnded(EndReason.ERROR, self.epoch, self.step, self._best_or_none()))
            self._close()
            if isinstance(error, OSError):  # the machine refused (a full disk): one line for the person, exit 1
                raise EnvironmentProblem(message) from None
            raise
        # A user's stop saves only if they asked (the save control comes first); divergence has nothing worth saving.
        checkpoint = None
        if reason in (EndReason.COMPLETED, EndReason.EARLY_STOP, EndReason.INTERRUPTED):
            last = "interrupt.pt" if reason == EndReason.INTERRUPTED else "last.pt"
            checkpoint = self.save(reason, last, self._end_source)
        ended = RunEnded(reason, self.epoch, self.step, self._best_or_none(), checkpoint, self._end_source)
        self.emit(ended)
        self._close()
        return ended

    def _emit_despite_the_log(self, event: Event) -> None:
        """On the failure path: a log that cannot be written any more must not keep the UI from hearing the end."""
        try:
            self.emit(event)
        except OSError:
            self.sinks = [sink for sink in self.sinks if not isinstance(sink, RunLog)]
            self.emit(event)

    def _best_or_none(self) -> float | None:
        return self.best_val if math.isfinite(self.best_val) else None

    def _start_epoch(self) -> None:
        self._perm = torch.randperm(len(self.data.ends["train"]), generator=self.shuffle, device=self.device)
        self._sums = EpochSums(self.device)
        self.batch = 0
        if self.pause_on_nonfinite:
            self._rollback = RollbackPoint(self.model, self.optimizer, self.shuffle)
        self.probe.reset()
        self._apply_lr()

    def _train_epoch(self) -> str | None:
        """Run the rest of the current epoch's batches; returns a reason to end the run, if any."""
        if self._perm is None:
            self._start_epoch()
        training = self.config.training
        batches = self.batches_per_epoch
        probe_every = max(1, batches // training.probes_per_epoch)
        params = list(self.model.parameters())
        warmup_steps = self.warmup_steps
        self.model.train()
        self._samples_run, self._clock, self._waited = 0, time.perf_counter(), 0.0
        order = self.data.ends["train"][self._perm]  # window ends in this epoch's order: one gather, then slices
        size = training.batch_size * self.world.size
        while self.batch < batches:
            outcome = self._obey_controls()
            if outcome:
                return outcome
            chosen = order[self.batch * size:(self.batch + 1) * size]
            ends = rank_share(chosen, self.world) if self.world.distributed else chosen
            inputs, target, up = self.data.batch(ends)
            if self.step < warmup_steps:  # after warmup the lr changes only when a person sets it
                self._apply_lr()
            prediction, logit = self.net(inputs)
            reg = F.mse_loss(prediction, target)
            clf = F.binary_cross_entropy_with_logits(logit, up)
            loss = (reg if training.reg_weight == 1 else training.reg_weight * reg) + self.clf_weight * clf
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
            self._sums.add(loss, reg, clf, grad_norm, n)
            self.batch += 1
            self.step += 1
            self._samples_run += n
            now = time.monotonic()
            # The clock runs across epochs: epochs shorter than the interval still get their step samples.
            if now - self._last_step_event >= self.config.step_event_interval_s:
                self._last_step_event = now
                value = loss.item()
                self.emit(StepEvent(self.epoch + 1, self.batch, batches, self.step, value))
                if not math.isfinite(value) and self.pause_on_nonfinite:
                    self._recover_nonfinite(value)
                    return None  # the epoch starts again (paused); no epoch end for the discarded one
        return None

    def _review_threads(self) -> None:
        """`threads: auto`: follow the neighbours' load as it was over the epoch just ended."""
        count, old = self.governor.review(), torch.get_num_threads()
        if count is not None and count != old:
            torch.set_num_threads(count)
            self.emit(SessionNote(f"threads {old} -> {count} (what other processes left free over the last epoch)",
                                  "threads: auto", self.epoch, self.step))

    def _recover_nonfinite(self, value: float) -> None:
        """Roll back to the start of the epoch and pause, so a person can lower the learning rate."""
        message = (f"non-finite loss ({value}) at epoch {self.epoch + 1} step {self.step}: weights restored to the "
                   f"start of the epoch and training paused; lower the learning rate, then resume")
        self.emit(ErrorEvent(message, self.epoch, self.step, fatal=False))
        if self._rollback is not None:
            self._rollback.restore(self.model, self.optimizer, self.shuffle)
        self._perm, self._sums = None, None
        self.paused = True
        self.emit(Paused(self.epoch, self.step, "non-finite loss"))

    def _end_epoch(self) -> str | None:
        """Evaluate, emit the epoch event, apply early stopping; returns a reason to end, if any."""
        if self._perm is None:  # rolled back mid-epoch: nothing to end
            return None
        totals = torch.cat([self._sums.totals(), torch.tensor([float(self._sums.count)], device=self.device)])
        loss_sum, reg_sum, clf_sum, grad_sum, count = sum_across(totals, self.world).tolist()
        grad_sum /= self.world.size  # every rank measured the same all-reduced gradient
        seconds = time.perf_counter() - self._clock - self._waited
        val_reg, val_clf, val_acc, pred_std, prob_std = evaluate(self.model, self.data, "val").tolist()
        training = self.config.training
        val_loss = training.reg_weight * val_reg + self.clf_weight * val_clf
        if self.pause_on_nonfinite and not (math.isfinite(loss_sum) and math.isfinite(val_loss)):
            self._recover_nonfinite(loss_sum if not math.isfinite(loss_sum) else val_loss)
            return None  # the discarded epoch is not logged as if it happened
        update_ratio, wd_ratio = self.probe.read()
        weight_norm = torch.linalg.vector_norm(torch.stack([p.detach().norm() for p in self.model.parameters()])).item()
        self.epoch += 1
        self._perm, self._sums = None, None
        hp = self.hparams
        self.emit(EpochEvent(
            self.epoch, training.epochs, self.step, loss_sum / count, val_loss, reg_sum / count, clf_sum / count,
            val_reg, val_clf, val_acc, hp["lr"], hp["weight_decay"], hp["dropout"], hp["clf_weight"],
            grad_sum / self.batches_per_epoch, update_ratio, wd_ratio, weight_norm, pred_std, prob_std,
            self._samples_run * self.world.size / seconds if seconds > 0 else 0.0, seconds, torch.get_num_threads()))
        self._review_threads()
        if not (math.isfinite(loss_sum) and math.isfinite(val_loss)):
            return EndReason.DIVERGED
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
            return EndReason.EARLY_STOP
        return None
