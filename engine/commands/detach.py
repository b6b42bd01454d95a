"""`stockpred-tui train --detach`: a trainer process in its own session, outliving the terminal that started it.

It returns as soon as the trainer's control socket answers (before torch and the data load): a data error after
that is in console.log, and `runs` shows the run as error with its message."""

from __future__ import annotations

from engine.commands.run_plan import RunOptions, plan_run
from engine.commands.trainer_spawn import CONSOLE_FILE, TrainerProcess, child_argv  # noqa: F401 (importers)

START_TIMEOUT_S = 300.0


def start_detached(options: RunOptions) -> int:
    """Validate in the foreground, start the trainer process, print how to reach it once it answers."""
    plan = plan_run(options)  # bad config: one line, exit 2, nothing started
    trainer = TrainerProcess(options, plan)
    trainer.wait_until_ready(START_TIMEOUT_S)
    print(f"Run {plan.run_dir.name} is training in the background (pid {trainer.pid}); output in {trainer.console}")
    print(f"  watch and steer: stockpred-tui attach {plan.run_dir.name}")
    print("  list runs:       stockpred-tui runs")
    return 0
