"""Building and running the dashboard for the CLI (one factory, also used by tests)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from engine.allocator import keep_freed_memory
from engine.controls import ControlChannel
from engine.errors import InputError
from engine.follow import LogFollower
from engine.logreader import read_any
from engine.session import RunOptions, build_trainer
from tui.live_app import LiveDashboard
from tui.replay_app import ReplayDashboard


def live_app(options: RunOptions) -> LiveDashboard:
    """A dashboard around a ready trainer (config and data errors surface here, before the screen opens)."""
    controls = ControlChannel()
    keep_freed_memory()  # here, on the main thread, before the threads below take their malloc arenas
    # Built in a thread that exits at once, so the main (UI) thread never runs torch work. OpenMP (libgomp) keeps
    # a parked worker pool for every thread that ran parallel ops; the main thread's pool next to the training
    # worker's makes more OpenMP threads than cores, and libgomp then cuts its spin-wait from 300,000 spins to 100:
    # about 6% slower CPU training (bench/bench_dashboard_overhead.py). Errors still reach the caller from result().
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="build-trainer") as builder:
        trainer = builder.submit(build_trainer, options, controls=controls, pause_on_nonfinite=True).result()
    return LiveDashboard(trainer, controls)


def replay_app(path: str, follow: bool = False) -> ReplayDashboard:
    """A dashboard over a saved log, or one that keeps reading a log being written."""
    if follow:
        follower = LogFollower(path)
        if not follower.path.exists():
            raise InputError(str(follower.path), "file not found")
        follower.poll()
        return ReplayDashboard(follower.history, follower.notices, follower)
    history, notices = read_any(path)
    return ReplayDashboard(history, notices)


def launch_dashboard(options: RunOptions) -> int:
    """Run the live dashboard until the user quits."""
    app = live_app(options)
    app.run()
    return 0


def launch_replay(path: str, follow: bool) -> int:
    """Run the replay dashboard until the user quits."""
    replay_app(path, follow).run()
    return 0
