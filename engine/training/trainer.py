"""The training loop: a callable a worker can run, steer through a ControlChannel, and stop.

Its collaborators each hold one job: RunResources (run directory, log, control endpoint), Steering (controls at
step boundaries), LiveKnobs (the knobs in force), EarlyStop (patience and the best weights), EpochInProgress
(an epoch begun and not ended) and training_state (what a checkpoint holds).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from engine.config import Config
from engine.control.channel import ControlChannel
from engine.data.dataset import PreparedData
from engine.errors import EnvironmentProblem, InputError
from engine.events import (CheckpointSaved, EarlyStopped, EndReason, EpochEvent, ErrorEvent, Event, RunEnded, RunStarted,
                           SessionNote, StepEvent, TestEvaluation)
from engine.store.checkpoint import save_checkpoint
from engine.training import training_state
from engine.training.checkpoint_policy import CheckpointPolicy
from engine.training.device_stats import provider_for
from engine.training.distributed import (SINGLE, ControlBroadcast, World, data_parallel, device_for, join, leave,
                                         rank_share, resolve_device, sum_across)
from engine.training.early_stop import EarlyStop
from engine.training.epoch import ROLLED_BACK, EpochInProgress, EpochOutcome
from engine.training.epoch_sums import EpochSums
from engine.training.evaluation import evaluate
from engine.training.failure import failure_message, run_dir_failure
from engine.training.live_knobs import LiveKnobs
from engine.training.model import MultitaskLSTM, make_optimizer, parameter_groups
from engine.training.probes import StepProbe
from engine.training.rollback import RollbackPoint
from engine.training.run_resources import EventSink, RunResources
from engine.training.steering import Steering
from engine.training.test_evaluation import held_out_evaluation
from engine.training.threads import ThreadGovernor, apply_threads

__all__ = ["EventSink", "Trainer"]

STATS_INTERVAL_S = 2.0  # how often the trainer publishes its CPU, memory and GPU figures (a DeviceStats event)


class Trainer:
    """Trains the multitask LSTM, emitting events and obeying controls at step boundaries."""

    def __init__(self, config: Config, data: PreparedData, sinks: list[EventSink] | None = None,
                 controls: ControlChannel | None = None, resume: dict | None = None, resume_path: str | None = None,
                 pause_on_nonfinite: bool = False, run_dir: str | Path | None = None, world: World = SINGLE,
                 resources: RunResources | None = None, parent: str | None = None) -> None:
        self.config = config
        self.world = world
        self.device = resolve_device(device_for(world, config.device))
        join(world, self.device)
        self.data = data.to(self.device)
        self.sinks = list(sinks or [])
        self.controls = controls or ControlChannel()
        self.pause_on_nonfinite = pause_on_nonfinite
        self.resume_path = resume_path
        self.parent_run = parent  # a branch's parent run id: the run this one was forked from, at its checkpoint
        torch.manual_seed(config.seed)
        self.model = MultitaskLSTM(self.data.features.shape[1], config.model).to(self.device)
        self.net = data_parallel(self.model, world, self.device)  # the model itself in a single process
        broadcast = ControlBroadcast(world, self.controls, self.device) if world.distributed else None
        if world.distributed:
            torch.manual_seed(config.seed + world.rank)  # same weights everywhere, but each rank its own dropout masks
        training = config.training
        self.optimizer = make_optimizer(self.model, training)
        self.shuffle = torch.Generator(device=self.device)
        self.shuffle.manual_seed(config.seed)
        self.probe = StepProbe(parameter_groups(self.model))
        # Training batches in one epoch: global batches of batch_size per rank.
        self.batches_per_epoch = math.ceil(len(self.data.ends["train"]) / (training.batch_size * world.size))
        warmup = training.warmup
        self.knobs = LiveKnobs(self.model, self.optimizer, training,
                               warmup.epochs * self.batches_per_epoch if warmup.enabled else 0.0)
        self.early_stop = EarlyStop(training.early_stopping)
        self.checkpoints = CheckpointPolicy(config.checkpoint, self.save)
        self.steering = Steering(self, self.controls, broadcast, world.is_main)
        # A trainer process opens its run (log, socket) before torch is imported, and hands it over here.
        self.resources = resources or RunResources(config, world, self.controls, resume_path, run_dir)
        self.last_checkpoint: str | None = None  # the newest checkpoint this run wrote, manual saves included
        self.epoch, self.step = 0, 0
        self.in_progress: EpochInProgress | None = None
        self.governor: ThreadGovernor | None = None  # set when the run starts: it measures from there
        self.finished = threading.Event()
        self.test_evaluation: TestEvaluation | None = None  # the held-out split's scores, once the run has ended
        self._last_step_event = -math.inf  # the first step of a run is sampled at once
        # Rank 0 speaks for the run; its figures, read at a step boundary every few seconds (the first step at once).
        self.stats = provider_for(str(self.device)) if world.is_main else None
        self.stats_interval_s = STATS_INTERVAL_S
        self._next_stats = -math.inf
        if resume is not None:
            training_state.restore(self, resume, str(resume_path or "checkpoint"))

    # -- what others read --------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path | None:
        """The run's directory: known before the run when given or resumed, else from the moment the run opens."""
        return self.resources.run_dir

    @property
    def run_id(self) -> str:
        """The run directory's name."""
        return self.resources.run_id

    @property
    def paused(self) -> bool:
        """Whether training waits at a step boundary."""
        return self.steering.paused

    @property
    def batch(self) -> int:
        """The next batch of the epoch in progress (0 between epochs)."""
        return self.in_progress.batch if self.in_progress is not None else 0

    @property
    def hparams(self) -> dict[str, float]:
        """Every knob of engine.knobs.KNOBS with the value in force."""
        return self.knobs.values()

    def set_knob(self, name: str, value: float) -> None:
        """Put a knob's new value into force from the next step."""
        self.knobs.set(name, value, self.step)

    def emit(self, event: Event) -> None:
        """Send an event to the log, then every sink, then the control endpoint."""
        for sink in self.resources.sinks_around(self.sinks):
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
        self.last_checkpoint = str(path)
        self.emit(CheckpointSaved(str(path), reason, self.epoch, self.step, source))
        return str(path)

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> RunEnded:
        """Train until done, stopped, early-stopped or diverged; always ends with a RunEnded event."""
        try:
            ended = self._run()
            leave(self.world)  # not after a failure: a group with a dead rank can hang on its way out
            return ended
        finally:
            self.finished.set()

    def _run(self) -> RunEnded:
        try:
            resources = self.resources.open()
        except OSError as error:  # the dashboard still hears why; the person gets one line
            message = run_dir_failure(error, self.config.log_dir)
            self.emit(ErrorEvent(message, fatal=True))
            self.emit(RunEnded(EndReason.ERROR, self.epoch, self.step))
            raise EnvironmentProblem(message) from None
        with resources:
            if resources.endpoint_problem:
                self.emit(ErrorEvent(resources.endpoint_problem, self.epoch, self.step))
            # Here, in the training thread: torch's OpenMP thread count is a per-thread setting.
            threads = torch.get_num_threads() if self.world.distributed else apply_threads(self.config.threads)
            self.governor = ThreadGovernor("fixed" if self.world.distributed else self.config.threads)
            self.emit(RunStarted(self.run_id, self.config.model_dump(), {**self.data.summary, "threads": threads},
                                 self.data.baselines, str(self.device), sum(p.numel() for p in self.model.parameters()),
                                 self.epoch, self.resume_path, dict(self.hparams), self._parent(),
                                 self.config.trial.model_dump() if self.config.trial else None))
            try:
                reason = self._train()
            except Exception as error:
                message = failure_message(error, self.world, self.config.training.batch_size)
                self._report_failure(message)
                if isinstance(error, OSError):  # the machine refused (a full disk): one line for the person, exit 1
                    raise EnvironmentProblem(message) from None
                raise
            source, final = self.steering.end_source, self.checkpoints.final_name(reason)
            checkpoint = self.save(reason, final, source) if final else self.last_checkpoint
            self._score_held_out(reason)
            ended = RunEnded(reason, self.epoch, self.step, self.early_stop.best_or_none, checkpoint, source)
            self.emit(ended)
            return ended

    def _score_held_out(self, reason: EndReason) -> None:
        """Score the best checkpoint on the test split once, on rank 0; a failure there is said, never fatal."""
        if not self.world.is_main:
            return
        try:
            self.test_evaluation = held_out_evaluation(self.run_dir, self.data, reason, self.epoch, self.step)
        except (InputError, RuntimeError) as error:
            self.emit(ErrorEvent(f"test split not evaluated: {str(error).splitlines()[0]}", self.epoch, self.step))
            return
        if self.test_evaluation is not None:
            self.emit(self.test_evaluation)

    def _parent(self) -> dict | None:
        """Where a branch was forked: its parent's run id, the epoch and the checkpoint it starts from."""
        if self.parent_run is None:
            return None
        return {"run_id": self.parent_run, "epoch": self.epoch, "checkpoint": self.resume_path}

    def _train(self) -> EndReason:
        """Epochs until the configured number, or the first outcome that ends the run."""
        while self.epoch < self.config.training.epochs:
            outcome = self.run_epoch()
            if outcome.end is not None:
                return outcome.end
        return self.steering.pending_end() or EndReason.COMPLETED

    def _report_failure(self, message: str) -> None:
        """Log the fatal error and the end of the run; a log the disk refuses must not keep the UI from hearing it."""
        error = ErrorEvent(message, self.epoch, self.step, fatal=True)
        if self.world.distributed and not self.world.is_main:  # rank 0 owns the log
            self.resources.record_from_other_rank(error)
        for event in (error, RunEnded(EndReason.ERROR, self.epoch, self.step, self.early_stop.best_or_none)):
            try:
                self.emit(event)
            except OSError:
                self.resources.drop_log()
                self.emit(event)

    # -- one epoch ---------------------------------------------------------------------------------
    def run_epoch(self) -> EpochOutcome:
        """The epoch in progress (or a new one) from its next batch to its end, or to what cut it short.

        `run()` calls it epoch after epoch inside the open run (tests call it on its own, with `resources` open).
        """
        epoch = self.in_progress or self._start_epoch()
        cut_short = self._train_steps(epoch)
        return cut_short if cut_short is not None else self._end_epoch(epoch)

    def _start_epoch(self) -> EpochInProgress:
        order = torch.randperm(len(self.data.ends["train"]), generator=self.shuffle, device=self.device)
        # Taken after the permutation: a rolled-back epoch draws a new order.
        rollback = RollbackPoint(self.model, self.optimizer, self.shuffle) if self.pause_on_nonfinite else None
        self.in_progress = EpochInProgress(order, EpochSums(self.device), rollback=rollback)
        self.probe.reset()
        self.knobs.apply_lr(self.step)
        return self.in_progress

    def _train_steps(self, epoch: EpochInProgress) -> EpochOutcome | None:
        """Run the epoch's remaining batches; an outcome when a control or a non-finite loss cuts them short."""
        training = self.config.training
        batches = self.batches_per_epoch
        probe_every = max(1, batches // training.probes_per_epoch)
        params = list(self.model.parameters())
        warmup_steps, reg_weight, interval = self.knobs.warmup_steps, training.reg_weight, self.config.step_event_interval_s
        self.model.train()
        epoch.restart_clock(self.steering.paused_seconds)
        order = self.data.ends["train"][epoch.order]  # window ends in this epoch's order: one gather, then slices
        size = training.batch_size * self.world.size
        while epoch.batch < batches:
            end = self.steering.obey()
            if end is not None:
                return EpochOutcome.ends_run(end)
            chosen = order[epoch.batch * size:(epoch.batch + 1) * size]
            ends = rank_share(chosen, self.world) if self.world.distributed else chosen
            inputs, target, up = self.data.batch(ends)
            if self.step < warmup_steps:  # after warmup the lr changes only when a person sets it
                self.knobs.apply_lr(self.step)
            prediction, logit = self.net(inputs)
            reg = F.mse_loss(prediction, target)
            clf = F.binary_cross_entropy_with_logits(logit, up)
            loss = (reg if reg_weight == 1 else reg_weight * reg) + self.knobs.clf_weight * clf
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = (torch.nn.utils.clip_grad_norm_(params, training.grad_clip) if training.grad_clip > 0
                         else torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None]))
            probing = epoch.batch % probe_every == probe_every - 1
            if probing:
                group = self.optimizer.param_groups[0]
                self.probe.before_step(group["weight_decay"], group["lr"], training.optimizer == "adamw")
            self.optimizer.step()
            if probing:
                self.probe.after_step()
            n = len(ends)
            epoch.sums.add(loss, reg, clf, grad_norm, n)
            epoch.batch += 1
            self.step += 1
            epoch.samples += n
            now = time.monotonic()
            # The clock runs across epochs: epochs shorter than the interval still get their step samples.
            if now - self._last_step_event >= interval:
                self._last_step_event = now
                value = loss.item()
                self.emit(StepEvent(self.epoch + 1, epoch.batch, batches, self.step, value))
                if not math.isfinite(value) and self.pause_on_nonfinite:
                    return self._roll_back(value)
            if now >= self._next_stats:
                self._publish_stats(now)
        return None

    def _publish_stats(self, now: float) -> None:
        """Emit this process's figures (and the GPU's): os.times, /proc and NVML, never a torch call or a host sync."""
        self._next_stats = now + self.stats_interval_s
        if self.stats is not None:
            self.emit(dataclasses.replace(self.stats.read(), epoch=self.epoch, step=self.step))

    def _roll_back(self, value: float) -> EpochOutcome:
        """Back to the start of the epoch, paused, so a person can lower the learning rate."""
        message = (f"non-finite loss ({value}) at epoch {self.epoch + 1} step {self.step}: weights restored to the "
                   f"start of the epoch and training paused; lower the learning rate, then resume")
        self.emit(ErrorEvent(message, self.epoch, self.step, fatal=False))
        if self.in_progress is not None and self.in_progress.rollback is not None:
            self.in_progress.rollback.restore(self.model, self.optimizer, self.shuffle)
        self.in_progress = None
        self.steering.pause("non-finite loss")
        return ROLLED_BACK

    def _end_epoch(self, epoch: EpochInProgress) -> EpochOutcome:
        """Evaluate, emit the epoch event, then early stopping and the epoch's checkpoints."""
        totals = torch.cat([epoch.sums.totals(), torch.tensor([float(epoch.sums.count)], device=self.device)])
        loss_sum, reg_sum, clf_sum, grad_sum, count = sum_across(totals, self.world).tolist()
        grad_sum /= self.world.size  # every rank measured the same all-reduced gradient
        seconds = epoch.training_seconds(self.steering.paused_seconds)
        val_reg, val_clf, val_acc, pred_std, prob_std = evaluate(self.model, self.data, "val").tolist()
        training = self.config.training
        val_loss = training.reg_weight * val_reg + self.knobs.clf_weight * val_clf
        finite = math.isfinite(loss_sum) and math.isfinite(val_loss)
        if self.pause_on_nonfinite and not finite:  # the discarded epoch is not logged as if it happened
            return self._roll_back(loss_sum if not math.isfinite(loss_sum) else val_loss)
        update_ratio, wd_ratio = self.probe.read()
        weight_norm = torch.linalg.vector_norm(torch.stack([p.detach().norm() for p in self.model.parameters()])).item()
        self.epoch += 1
        self.in_progress = None
        hp = self.hparams
        event = EpochEvent(
            self.epoch, training.epochs, self.step, loss_sum / count, val_loss, reg_sum / count, clf_sum / count,
            val_reg, val_clf, val_acc, hp["lr"], hp["weight_decay"], hp["dropout"], hp["clf_weight"],
            grad_sum / self.batches_per_epoch, update_ratio, wd_ratio, weight_norm, pred_std, prob_std,
            epoch.samples * self.world.size / seconds if seconds > 0 else 0.0, seconds, torch.get_num_threads())
        self.emit(event)
        note = self.governor.retune() if self.governor else None  # `threads: auto` follows the neighbours' load
        if note:
            self.emit(SessionNote(note, "threads: auto", self.epoch, self.step))
        if not finite:
            return EpochOutcome.ended(event, EndReason.DIVERGED)
        improved = self.early_stop.update(self.epoch, val_loss, self.model)
        stopping = self.early_stop.should_stop
        # The run's own end writes last.pt anyway; a periodic copy of the same epoch would be a second write.
        self.checkpoints.after_epoch(self.epoch, improved, rolling=not stopping and self.epoch < training.epochs)
        if not stopping:
            return EpochOutcome.ended(event)
        self.early_stop.restore_best(self.model)
        patience = self.early_stop.patience
        self.emit(EarlyStopped(self.epoch, patience.best_epoch, patience.best))
        return EpochOutcome.ended(event, EndReason.EARLY_STOP)
