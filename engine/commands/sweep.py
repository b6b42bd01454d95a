"""`stockpred-tui sweep`: an Optuna study over the config's `sweep.params`, K trials at once, each an ordinary run,
pruned by Optuna's median rule and by diagnosis; `--headless` prints one line per trial."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

import optuna

from engine.commands.sweep_prune import check_rule_names
from engine.commands.sweep_study import (TrialRow, as_override, default_study_name, open_storage, open_study, suggest,
                                         trial_row, trial_rows)
from engine.commands.sweep_trial import TrialRun
from engine.commands.trainer_setup import RunOptions, resolve_config
from engine.config import Config
from engine.config_file import default_config_file
from engine.errors import InputError


@dataclass
class SweepRequest:
    """What `stockpred-tui sweep` was asked; None takes the config's sweep section."""

    options: RunOptions
    trials: int | None = None
    jobs: int | None = None
    study: str | None = None
    storage: str | None = None


@dataclass
class SweepPlan:
    """The validated sweep: the base config, the study and how many trials to run how many at a time."""

    config: Config
    study: optuna.Study
    trials: int
    jobs: int
    storage_label: str
    base: RunOptions = field(default_factory=RunOptions)


def plan_sweep(request: SweepRequest) -> SweepPlan:
    """Validate the config and its sweep section, open (or join) the study; one-line InputErrors."""
    if request.options.resume:
        raise InputError("--resume", "a sweep starts new runs; resume a trial as any run")
    config, _ = resolve_config(request.options)
    source = request.options.config or default_config_file() or "config"
    if config.sweep is None or not config.sweep.params:
        raise InputError(source, "sweep.params: nothing to search (e.g. training.learning_rate: {log_uniform: [1e-5, 1e-1]})")
    check_rule_names(config.sweep.prune, source)
    sweep = config.sweep
    for label, value in (("--trials", request.trials), ("--jobs", request.jobs)):
        if value is not None and not 1 <= value <= 100_000:
            raise InputError(label, f"must be a whole number from 1 to 100000 (got {value})")
    storage_url = request.storage or sweep.storage
    study = open_study(request.study or sweep.study or default_study_name(), open_storage(storage_url, config.log_dir), sweep)
    jobs = request.jobs or sweep.jobs
    threads = [] if config.threads != "auto" else [f"threads={max(1, len(os.sched_getaffinity(0)) // jobs)}"]
    base = RunOptions(request.options.config, request.options.data, request.options.epochs, None,
                      [*request.options.overrides, *threads])
    return SweepPlan(config, study, request.trials or sweep.trials, jobs,
                     storage_url or f"{config.log_dir}/sweeps.journal", base)


class Sweep:
    """Runs a planned sweep on `jobs` worker threads, each asking Optuna for a trial and running it to its end.

    `stop()` ends it cleanly: no new trials; running ones are saved and stopped, or left running with `leave_running`.
    `on_trial` hears each trial's row when it starts and when it ends (from the worker threads).
    """

    def __init__(self, plan: SweepPlan, on_trial: Callable[[TrialRow], None] | None = None) -> None:
        self.plan = plan
        self.on_trial = on_trial or (lambda row: None)
        self.stopping = threading.Event()
        self.leave_running = threading.Event()
        self._lock = threading.Lock()
        self._claimed = 0
        self.errors: list[BaseException] = []

    @property
    def study(self) -> optuna.Study:
        """The Optuna study the sweep writes to."""
        return self.plan.study

    def stop(self, leave_running: bool = False) -> None:
        """Start no more trials; stop (saving) or leave running the ones in progress."""
        if leave_running:
            self.leave_running.set()
        self.stopping.set()

    def _claim(self) -> bool:
        with self._lock:
            if self.stopping.is_set() or self._claimed >= self.plan.trials:
                return False
            self._claimed += 1
            return True

    def _one_trial(self) -> None:
        plan = self.plan
        with self._lock:  # one trial draws all its values before the next: a sampler seed gives the same trials
            trial = self.study.ask()
            values = suggest(trial, plan.config.sweep.params)
        label = [f"trial.study={self.study.study_name}", f"trial.number={trial.number}"]
        run = TrialRun(trial, plan.base, plan.config.log_dir, [*(as_override(k, v) for k, v in values.items()), *label],
                       plan.config.sweep.prune, self.stopping, self.leave_running)
        self.on_trial(TrialRow(trial.number, "running", values, None, 0, "", "", run.run_dir.name))
        try:
            outcome = run.run()
        except BaseException:
            run.kill()
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        for key, value in outcome.attrs.items():
            trial.set_user_attr(key, value)
        if outcome.state == optuna.trial.TrialState.COMPLETE:
            self.study.tell(trial, outcome.value)
        else:
            self.study.tell(trial, state=outcome.state)
        self.on_trial(next(trial_row(t) for t in self.study.get_trials(deepcopy=False) if t.number == trial.number))

    def _worker(self) -> None:
        try:
            while self._claim():
                self._one_trial()
        except BaseException as error:  # the sweep stops; run() raises it in the caller's thread
            self.errors.append(error)
            self.stopping.set()

    def run(self) -> list[TrialRow]:
        """Run until the trials are done or `stop()`; returns every trial of the study."""
        workers = [threading.Thread(target=self._worker, name=f"sweep-job-{n}", daemon=True) for n in range(self.plan.jobs)]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.2)  # a bounded join keeps Ctrl-C deliverable to the main thread
        except KeyboardInterrupt:
            self.stop()
            for worker in workers:
                worker.join()
            raise
        if self.errors:
            raise self.errors[0]
        return trial_rows(self.study)


def summary(plan: SweepPlan, rows: list[TrialRow]) -> str:
    """'study S in STORAGE: 6 trials (4 complete, 2 pruned, 0 failed); best trial 3: val 0.9123 (lr=…)'."""
    counts = {state: sum(row.state == state for row in rows) for state in ("complete", "pruned", "failed")}
    done = [row for row in rows if row.state == "complete" and row.best_val is not None]
    best = min(done, key=lambda row: row.best_val, default=None)
    best_text = f"; best trial {best.number}: val {best.best_val:.4f} ({best.params_text()})" if best else ""
    return (f"study {plan.study.study_name} in {plan.storage_label}: {len(rows)} trials ({counts['complete']} complete, "
            f"{counts['pruned']} pruned, {counts['failed']} failed){best_text}")


def sweep_headless(request: SweepRequest) -> int:
    """One line per finished trial, then the study's summary; Ctrl-C stops the sweep cleanly (exit 130)."""
    plan = plan_sweep(request)
    print(f"sweep: study {plan.study.study_name}, {plan.trials} trials, {plan.jobs} at a time", flush=True)

    def finished(row: TrialRow) -> None:
        if row.state != "running":
            print(row.line(), flush=True)

    sweep = Sweep(plan, finished)
    try:
        rows = sweep.run()
    except KeyboardInterrupt:
        print(summary(plan, trial_rows(plan.study)), file=sys.stdout, flush=True)
        return 130
    print(summary(plan, rows), flush=True)
    return 0
