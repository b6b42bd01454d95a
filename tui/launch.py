"""Building and running the dashboards for the CLI (one factory per mode, also used by the tests)."""

from __future__ import annotations

import sys

from engine.commands.farewell import farewell
from engine.commands.run_plan import plan_run
from engine.errors import InputError
from engine.events import StartupPhase
from engine.store.log_follower import LogFollower
from engine.store.history import History
from engine.file_kinds import check_input
from engine.store.log_reader import LOG_EXPECTED, read_any, read_jsonl
from tui.app import StockpredApp
from tui.modes.live_mode import LiveMode
from tui.modes.replay_mode import ReplayMode
from tui.screens.dashboard_screen import REDRAW_INTERVAL_S, DashboardScreen
from tui.sources import FollowSource, SocketSource, TrainerSource
from tui.trainer_source import TrainerProcessSource

STARTUP_EXIT_WAIT_S = 10.0


def live_screen(history: History | None = None, source=None, controls=None, trainer=None, attached: bool = False,
                run_dir=None) -> DashboardScreen:
    """A live run's dashboard screen over whatever feeds it."""
    history = history or History()
    if source is None and trainer is not None:  # the tests' in-process trainer, run by the screen's thread worker
        source = TrainerSource(trainer, max(REDRAW_INTERVAL_S, trainer.config.step_event_interval_s))
    return DashboardScreen(LiveMode(controls, attached, trainer, history.hparams), history, source, run_dir)


def dashboard_app(history: History | None = None, source=None, controls=None, trainer=None,
                  attached: bool = False) -> StockpredApp:
    """The app showing a live dashboard over whatever feeds it (the CLI's modes below, and the snapshot tests' fixed
    streams)."""
    return StockpredApp(live_screen(history, source, controls, trainer, attached))


def live_app(options) -> StockpredApp:
    """A dashboard around a trainer in this process: for the Pilot tests that read the trainer's own modules (users
    get a trainer process: `client_app`)."""
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


def replay_screen(path: str, follow: bool = False) -> DashboardScreen:
    """A dashboard over a saved log, or one that keeps reading a log being written (parsed off the UI thread)."""
    if follow:
        follower = LogFollower(path)
        if check_input(follower.path, LOG_EXPECTED):
            raise InputError(str(follower.path), f"is a directory; expected {LOG_EXPECTED}")
        try:
            follower.poll()
        except OSError as error:
            raise InputError(str(follower.path), f"cannot read ({error.strerror or error})") from None
        return DashboardScreen(ReplayMode(follower.history, follower.notices, following=True), follower.history,
                               FollowSource(follower))
    history, notices = read_any(path)
    return DashboardScreen(ReplayMode(history, notices), history)


def history_replay_app(history: History, notices: list[str] | None = None) -> StockpredApp:
    """The app replaying a history already read (the tests' fixed streams)."""
    return StockpredApp(DashboardScreen(ReplayMode(history, notices), history))


def replay_app(path: str, follow: bool = False) -> StockpredApp:
    """The app showing one replay (or follow) dashboard."""
    return StockpredApp(replay_screen(path, follow))


def attach_screen(target: str | None, log_dir: str = "logs") -> DashboardScreen:
    """The live dashboard of a run in another process, steered over its control socket."""
    from engine.control.client import ControlClient
    from engine.commands.runs import find_socket

    socket_path = find_socket(target, log_dir)
    client = ControlClient(socket_path, "attach")
    history, _ = client.read_backlog()
    return live_screen(history, SocketSource(client), client, attached=True, run_dir=client.path.parent)


def attach_app(target: str | None, log_dir: str) -> StockpredApp:
    """The app showing an attached dashboard."""
    return StockpredApp(attach_screen(target, log_dir))


def client_app(options) -> tuple[StockpredApp, TrainerProcessSource]:
    """The dashboard of a new trainer process (its worker starts it); the config is checked here, without torch."""
    plan = plan_run(options, needs_socket=True)  # a bad config or no socket: one line, exit 2, nothing started
    history = History()
    if not plan.fresh:  # a resumed run: its earlier epochs from the first frame, and "RESUMING", not "FINISHED"
        history, _ = read_jsonl(plan.run_dir)
    history.apply(StartupPhase("starting the trainer"))
    source = TrainerProcessSource(options, plan)
    return StockpredApp(live_screen(history, source, run_dir=plan.run_dir)), source


def crash_line(app: StockpredApp) -> str:
    """One line after a UI crash: where the traceback is, and that the run goes on."""
    run_dir = app.dashboard.run_dir if app.dashboard is not None else None
    run = run_dir.name if run_dir is not None else None
    goes_on = f"; the run goes on: stockpred-tui attach {run}" if run else ""
    return f"error: the dashboard crashed (traceback in {app.crash_log}){goes_on}"


def _after_failed_start(app: StockpredApp, source: TrainerProcessSource) -> int:
    """The trainer process found a problem before training: its one line; a new run leaves nothing behind."""
    line = app.first.mode.startup_error or f"error: {app.first.history.fatal_error}"
    print(line if line.startswith("error: ") else f"error: {line}", file=sys.stderr)
    status = source.exit_status(STARTUP_EXIT_WAIT_S)
    if status is not None:
        source.plan.remove()
    return status if status in (1, 2) else 2


def launch_dashboard(options) -> int:
    """Start the trainer process and be its client: leaving (detach, a crash, a hang-up) never ends the run."""
    app, source = client_app(options)
    app.run()
    screen = app.first
    if app.crash_log is not None:
        print(crash_line(app), file=sys.stderr)
        return 1
    if screen.mode.startup_error or screen.mode.failed_before_training:
        return _after_failed_start(app, source)
    ended, run_dir = screen.history.ended, source.plan.run_dir
    if ended is not None:
        print(f"run {run_dir.name} {ended.reason}\n{farewell(run_dir, ended, headless=False)}")
    else:
        print(f"detached; run {run_dir.name} goes on: stockpred-tui attach {run_dir.name}")
    return screen.mode.exit_code


def launch_replay(path: str, follow: bool) -> int:
    """Run the replay dashboard until the user quits."""
    replay_app(path, follow).run()
    return 0


def launch_attach(target: str | None, log_dir: str) -> int:
    """Attach to a live run until the person detaches or stops it."""
    app = attach_app(target, log_dir)
    app.run()
    screen = app.first
    run_id = screen.history.run.run_id if screen.history.run else "?"
    if app.crash_log is not None:
        print(crash_line(app), file=sys.stderr)
        return 1
    if screen.history.ended is not None:
        print(f"run {run_id} {screen.history.ended.reason}; checkpoint: {checkpoint_written(screen.history)}")
    else:
        print(f"detached; run {run_id} goes on: stockpred-tui attach {run_id}")
    return screen.mode.exit_code


def checkpoint_written(history: History) -> str:
    """The run's newest checkpoint as its run_end names it (manual saves included)."""
    return history.ended.checkpoint or "none written"
