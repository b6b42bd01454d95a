"""Building and running the dashboards for the CLI (one factory per mode, also used by the tests)."""

from __future__ import annotations

from engine.errors import InputError
from engine.events import FINISHED
from engine.store.log_follower import LogFollower
from engine.store.history import History
from engine.file_kinds import check_input
from engine.store.log_reader import LOG_EXPECTED, read_any, read_jsonl
from tui.live_app import LiveDashboard
from tui.replay_app import ReplayDashboard
from tui.sources import FollowSource, SocketSource


def dashboard_app(history: History | None = None, source=None, controls=None, trainer=None,
                  attached: bool = False) -> LiveDashboard:
    """The live dashboard over whatever feeds it (the CLI's modes below, and the snapshot tests' fixed streams)."""
    return LiveDashboard(trainer, controls, history, source, attached)


def live_app(options) -> LiveDashboard:
    """A dashboard around a ready trainer (config and data errors surface here, before the screen opens)."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.training.allocator import keep_freed_memory
    from engine.control.channel import ControlChannel
    from engine.commands.trainer_setup import build_trainer
    from engine.store.log_writer import EVENTS_FILE

    controls = ControlChannel()
    keep_freed_memory()  # here, on the main thread, before the threads below take their malloc arenas
    # Built in a thread that exits at once, so the main (UI) thread never runs torch work. OpenMP (libgomp) keeps
    # a parked worker pool for every thread that ran parallel ops; the main thread's pool next to the training
    # worker's makes more OpenMP threads than cores, and libgomp then cuts its spin-wait from 300,000 spins to 100.
    # Errors still reach the caller from result().
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="build-trainer") as builder:
        trainer = builder.submit(build_trainer, options, controls=controls, pause_on_nonfinite=True).result()
    history = History()
    # A resumed run continues its own log: show its earlier epochs from the first frame. (A checkpoint copied
    # out of its run, like a new run, gets a new directory when the run opens.)
    if trainer.run_dir is not None and (trainer.run_dir / EVENTS_FILE).exists():
        history, _ = read_jsonl(trainer.run_dir)
    return dashboard_app(history, controls=controls, trainer=trainer)


def replay_app(path: str, follow: bool = False) -> ReplayDashboard:
    """A dashboard over a saved log, or one that keeps reading a log being written (parsed off the UI thread)."""
    if follow:
        follower = LogFollower(path)
        if check_input(follower.path, LOG_EXPECTED):
            raise InputError(str(follower.path), f"is a directory; expected {LOG_EXPECTED}")
        try:
            follower.poll()
        except OSError as error:
            raise InputError(str(follower.path), f"cannot read ({error.strerror or error})") from None
        return ReplayDashboard(follower.history, follower.notices, FollowSource(follower))
    history, notices = read_any(path)
    return ReplayDashboard(history, notices)


def attach_app(target: str | None, log_dir: str) -> LiveDashboard:
    """The live dashboard of a run in another process, steered over its control socket."""
    from engine.control.client import ControlClient
    from engine.commands.runs import find_socket

    client = ControlClient(find_socket(target, log_dir), "attach")
    history, _ = client.read_backlog()
    return dashboard_app(history, SocketSource(client), client, attached=True)


def _farewell(app: LiveDashboard) -> None:
    from engine.commands.runs import newest_checkpoint, resume_command

    ended = app.history.ended
    run_dir = app.trainer.run_dir if app.trainer else None
    if ended is None or run_dir is None:
        return
    print(f"run {run_dir.name} {ended.reason}\nrun directory: {run_dir}\ncheckpoint: {ended.checkpoint or 'none written'}")
    checkpoint = ended.checkpoint or newest_checkpoint(run_dir)
    if ended.reason not in FINISHED and checkpoint:
        print(f"resume: {resume_command(checkpoint, headless=False)}")


def launch_dashboard(options) -> int:
    """Run the live dashboard; after a hang-up, keep the process (and the training) alive to the run's end."""
    app = live_app(options)
    app.run()
    if app.hung_up:
        app.trainer.finished.wait()
        return 0
    _farewell(app)
    return app.exit_code


def launch_replay(path: str, follow: bool) -> int:
    """Run the replay dashboard until the user quits."""
    replay_app(path, follow).run()
    return 0


def launch_attach(target: str | None, log_dir: str) -> int:
    """Attach to a live run until the person detaches or stops it."""
    app = attach_app(target, log_dir)
    app.run()
    run_id = app.history.run.run_id if app.history.run else "?"
    if app.history.ended is not None:
        print(f"run {run_id} {app.history.ended.reason}; checkpoint: {app.history.ended.checkpoint or 'none written'}")
    else:
        print(f"detached; run {run_id} goes on: stockpred-tui attach {run_id}")
    return 0
