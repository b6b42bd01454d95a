"""One trial of a sweep as an ordinary run: its own directory and process (started as `train --detach` starts one),
followed through its log, reported to Optuna each epoch, and stopped through its control socket when pruned."""

from __future__ import annotations

import math
import statistics
import subprocess
import threading
from dataclasses import dataclass, field, replace

import optuna

from engine.commands.trainer_spawn import CONSOLE_FILE, child_argv
from engine.commands.runs import worst_finding
from engine.commands.sweep_prune import HealthPruning
from engine.commands.trainer_setup import RunOptions
from engine.control.client import ControlClient
from engine.errors import InputError
from engine.events import FINISHED
from engine.store.log_follower import LogFollower
from engine.store.log_writer import new_run_dir
from engine.sweep_config import PruneConfig

POLL_S = 0.1
END_WAIT_S = 60.0  # a stopped trial saves and closes its log; past this it is killed


@dataclass
class TrialOutcome:
    """How a trial ended: Optuna's state, its value (the best val loss) and why, when pruned or failed."""

    state: optuna.trial.TrialState
    value: float | None = None
    reason: str = ""
    attrs: dict = field(default_factory=dict)


def leads(trial: optuna.Trial, epoch: int, val: float) -> bool:
    """Whether `val` beats the median of the val losses the study's other trials reported at `epoch` (no other trial
    got there yet: it leads)."""
    others = [frozen.intermediate_values[epoch] for frozen in trial.study.get_trials(deepcopy=False)
              if frozen.number != trial.number and epoch in frozen.intermediate_values
              and math.isfinite(frozen.intermediate_values[epoch])]
    return not others or val < statistics.median(others)


class TrialRun:
    """Trains one trial's run in a child process and decides, epoch by epoch, whether it goes on."""

    def __init__(self, trial: optuna.Trial, base: RunOptions, log_dir: str, overrides: list[str], prune: PruneConfig,
                 stopping: threading.Event, leave_running: threading.Event) -> None:
        self.trial = trial
        self.run_dir = new_run_dir(log_dir)
        self.options = replace(base, overrides=[*base.overrides, *overrides], run_dir=str(self.run_dir))
        self.health = HealthPruning(prune)
        self.stopping = stopping
        self.leave_running = leave_running
        self.follower = LogFollower(self.run_dir)
        self.process: subprocess.Popen | None = None
        trial.set_user_attr("run_id", self.run_dir.name)
        trial.set_user_attr("run_dir", str(self.run_dir))

    def start(self) -> None:
        """Start the run's process in its own session: a Ctrl-C meant for the sweep does not reach it."""
        console = self.run_dir / CONSOLE_FILE
        with open(console, "ab") as output:
            self.process = subprocess.Popen(child_argv(self.options, self.run_dir), stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def run(self) -> TrialOutcome:
        """Follow the run to its end, a prune, or the sweep's stop; the outcome to tell Optuna."""
        self.start()
        reported = 0
        while True:
            exited = self.process.poll() is not None
            self.follower.poll()
            history = self.follower.history
            for epoch in sorted(e for e in history.epochs if e > reported):
                reported = epoch
                reason = self._judge(epoch)
                if reason:
                    return self._pruned(reason, exited)
            if exited:
                return self._ended()
            if self.stopping.is_set():
                return self._stopped_by_sweep()
            self.stopping.wait(POLL_S)

    def _judge(self, epoch: int) -> str:
        """Why to prune after `epoch`: a health rule first (it says why), else Optuna's pruner on the val loss."""
        history = self.follower.history
        val = history.epochs[epoch].val_loss
        finite = isinstance(val, (int, float)) and math.isfinite(val)
        reason = self.health.judge(history.upto(epoch) if epoch != max(history.epochs) else history,
                                   leads=lambda: finite and leads(self.trial, epoch, val))
        if reason:
            return reason
        if not finite:
            return ""
        self.trial.report(val, epoch)
        if self.trial.should_prune():
            return f"median — val loss {val:.4f} at epoch {epoch} is worse than the median of earlier trials"
        return ""

    def _best_val(self) -> float | None:
        values = [row.val_loss for row in self.follower.history.rows()
                  if isinstance(row.val_loss, (int, float)) and math.isfinite(row.val_loss)]
        return min(values) if values else None

    def _attrs(self, **more) -> dict:
        history = self.follower.history
        best = self._best_val()
        return {"epochs": max(history.epochs, default=0), "best_val": best, "verdict": worst_finding(history), **more}

    def _pruned(self, reason: str, exited: bool) -> TrialOutcome:
        if not exited:
            self._stop(save=False, source="sweep: pruned")
        return TrialOutcome(optuna.trial.TrialState.PRUNED, reason=reason, attrs=self._attrs(prune_reason=reason))

    def _ended(self) -> TrialOutcome:
        self.follower.poll()
        ended = self.follower.history.ended
        best = self._best_val()
        if ended is not None and ended.reason in FINISHED and best is not None:
            return TrialOutcome(optuna.trial.TrialState.COMPLETE, best, attrs=self._attrs())
        why = self.follower.history.fatal_error or (f"the run ended: {ended.reason}" if ended else
                                                    f"the run's process exited ({self.process.returncode}) without ending its log")
        return TrialOutcome(optuna.trial.TrialState.FAIL, reason=why, attrs=self._attrs(fail_reason=why))

    def _stopped_by_sweep(self) -> TrialOutcome:
        if self.leave_running.is_set():
            why = f"left running when the sweep stopped (stockpred-tui attach {self.run_dir.name})"
        else:
            self._stop(save=True, source="sweep: stopped")
            why = "stopped with the sweep (saved; resume it as any run)"
        return TrialOutcome(optuna.trial.TrialState.FAIL, reason=why, attrs=self._attrs(fail_reason=why))

    def _stop(self, save: bool, source: str) -> None:
        """Stop the run through its control socket (saving first when asked); SIGTERM when it has no socket yet."""
        try:
            client = ControlClient(self.run_dir, client_name="sweep", backlog=False)
            try:
                if save:
                    client.save(source=source)
                client.stop(source=source)
            finally:
                client.close()
        except InputError:  # not listening yet or any more: the signal also saves and ends the log
            self.process.terminate()
        try:
            self.process.wait(END_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.follower.poll()

    def kill(self) -> None:
        """Make sure no trial process outlives a sweep that failed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
