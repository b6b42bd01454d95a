"""The one way in: `stockpred-tui [dashboard|train|replay|diagnose|evaluate|export]` (argparse)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from engine.errors import EnvironmentProblem, InputError
from engine.safe_text import clean_text

# Path options and arguments, by the attribute argparse gives them and the name an error calls them.
PATH_ARGUMENTS = {"config": "--config", "data": "--data", "resume": "--resume", "log_dir": "--log-dir",
                  "csv": "--csv", "path": "PATH", "paths": "PATH", "run": "RUN"}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag or command is one line (like every other error) rather than the usage block."""

    def error(self, message: str):
        """Print 'error: <what argparse found>; see <prog> --help' and exit 2."""
        self.exit(2, f"error: {clean_text(message)}; see '{self.prog} --help'\n")


def _thread_count(text: str) -> str:
    """'auto' or a whole number from 1 to 1024, for --threads."""
    if text != "auto" and not (text.isdigit() and 1 <= int(text) <= 1024):
        raise argparse.ArgumentTypeError(f"{text[:20]!r}: must be 'auto' or a whole number from 1 to 1024")
    return text


def _cost_bps(text: str) -> float:
    """A cost per trade in basis points, from 0 to 10000, for --cost-bps."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 10_000:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text[:20]!r}: must be a number of basis points from 0 to 10000")
    return value


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="YAML config (default: ./config.yaml when present, else built-in defaults)")
    parser.add_argument("--data", metavar="PATH|synthetic|bundled", help="price CSV, 'synthetic' or 'bundled'")
    parser.add_argument("--epochs", type=int, metavar="N", help="total epochs")
    parser.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. training.learning_rate=0.002 (repeatable)")
    parser.add_argument("--threads", type=_thread_count, metavar="N|auto",
                        help="torch CPU threads (default: config's threads, 'auto': the idle cores of the affinity mask)")
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)  # set by --detach for its background process
    parser.add_argument("--parent", help=argparse.SUPPRESS)  # set by `branch`: the run id the checkpoint came from


def _log_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-dir", metavar="DIR", help="where runs live (default: log_dir of ./config.yaml, else logs)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stockpred-tui")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """Argument parser for every command."""
    parser = OneLineParser(prog="stockpred-tui", description="Train and watch a multitask LSTM stock predictor.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_options(commands.add_parser("dashboard", help="train with the live dashboard (default)"))
    train = commands.add_parser("train", help="train headless, one line per epoch")
    _run_options(train)
    train.add_argument("--detach", action="store_true", help="train in the background; print the run id and return")
    train.add_argument("--nproc", type=int, default=1, metavar="N",
                       help="data-parallel processes on this machine (torchrun; gloo on CPU, nccl on GPUs)")
    attach = commands.add_parser("attach", help="open the dashboard of a live run, with full control")
    attach.add_argument("run", nargs="?", help="run id, run directory or socket (default: the newest live run)")
    _log_dir_option(attach)
    branch = commands.add_parser("branch", help="fork a run at a checkpoint into a new run with edited knobs")
    branch.add_argument("run", metavar="RUN", help="run id or run directory")
    branch.add_argument("--from", dest="start", metavar="now|last|best|EPOCH",
                        help="the fork point (default: now for a live run, asked over its socket; else last)")
    branch.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a knob or setting the branch changes, e.g. training.learning_rate=0.0005 (repeatable)")
    branch.add_argument("--pause-parent", action="store_true", help="pause the parent once the branch has its checkpoint")
    branch.add_argument("--detach", action="store_true", help="train the branch in the background")
    _log_dir_option(branch)
    sweep = commands.add_parser("sweep", help="search the config's sweep.params with Optuna; trials pruned by diagnosis")
    _run_options(sweep)
    sweep.add_argument("--trials", type=int, metavar="N", help="trials this process runs (default: sweep.trials)")
    sweep.add_argument("--jobs", type=int, metavar="K", help="trials at once, CPU threads split between them (default: sweep.jobs)")
    sweep.add_argument("--study", metavar="NAME", help="the study to create or join (default: sweep.study, else a new one)")
    sweep.add_argument("--storage", metavar="URL|PATH", help="an Optuna database URL or a journal file (default: log_dir/sweeps.journal)")
    sweep.add_argument("--headless", action="store_true", help="no screen: one line per trial")
    runs = commands.add_parser("runs", help="list runs: state, progress, best val, findings, resume command")
    runs.add_argument("--json", action="store_true", help="one JSON document")
    runs.add_argument("--tui", action="store_true", help="browse them: sort, filter, mark, compare, open")
    runs.add_argument("paths", nargs="*", metavar="PATH", help="with --tui: more runs, events.jsonl, Keras or Lightning CSVs")
    _log_dir_option(runs)
    compare = commands.add_parser("compare", help="overlay runs' curves (or write their aligned epoch table)")
    compare.add_argument("paths", nargs="+", metavar="RUN", help="run id, run directory, events.jsonl, Keras or Lightning CSV")
    compare.add_argument("--csv", metavar="OUT", help="write one row per run and epoch instead of opening the view")
    compare.add_argument("--force", action="store_true", help="overwrite OUT")
    _log_dir_option(compare)
    replay = commands.add_parser("replay", help="open a saved run in the dashboard")
    replay.add_argument("path", metavar="RUN", help="run id, run directory, events.jsonl, Keras or Lightning CSV")
    replay.add_argument("--follow", action="store_true", help="keep reading as another process appends")
    _log_dir_option(replay)
    diagnose = commands.add_parser("diagnose", help="apply the health rules to a saved run")
    diagnose.add_argument("path", metavar="RUN", help="run id, run directory, events.jsonl, Keras or Lightning CSV")
    diagnose.add_argument("--json", action="store_true", help="one JSON document")
    diagnose.add_argument("--fail-on", choices=("warning", "critical"), help="exit 1 when a finding this severe or worse is present")
    _log_dir_option(diagnose)
    evaluate = commands.add_parser("evaluate", help="score a checkpoint on the held-out test split, per ticker and in total")
    evaluate.add_argument("run", metavar="RUN|CHECKPOINT", help="run id or directory (its best.pt), or a checkpoint file")
    evaluate.add_argument("--split", choices=("test", "val"), default="test", help="the split to score (default: test)")
    evaluate.add_argument("--json", action="store_true", help="one JSON document")
    evaluate.add_argument("--short", action="store_true", help="the strategy goes short when P(up) <= 0.5 (default: flat)")
    evaluate.add_argument("--cost-bps", type=_cost_bps, default=0.0, metavar="N",
                          help="cost per trade in basis points of the amount traded (default: 0, before costs)")
    _log_dir_option(evaluate)
    export = commands.add_parser("export", help="write a run's epoch table")
    export.add_argument("path", metavar="RUN", help="run id, run directory, events.jsonl, Keras or Lightning CSV")
    export.add_argument("--csv", required=True, metavar="OUT")
    export.add_argument("--force", action="store_true", help="overwrite OUT")
    _log_dir_option(export)
    return parser


def _options(args: argparse.Namespace):
    """The run options of `dashboard` and `train`."""
    from engine.commands.run_plan import RunOptions

    threads = [f"threads={args.threads}"] if args.threads else []  # argparse checked it: the label is never blamed
    return RunOptions(args.config, args.data, args.epochs, args.resume, [*args.overrides, *threads], args.run_dir,
                      args.parent)


def _log_dir(args: argparse.Namespace) -> str:
    """--log-dir, else log_dir of ./config.yaml (read by the run's own loader, so with its default); torch stays out."""
    if args.log_dir:
        return args.log_dir
    from engine.config import load_config
    from engine.config_file import default_config_file

    return load_config(default_config_file()).log_dir


def refuse_empty_paths(args: argparse.Namespace) -> None:
    """An empty path ('') would quietly mean the current directory or the default; name the option instead."""
    for attribute, label in PATH_ARGUMENTS.items():
        value = getattr(args, attribute, None)
        for text in value if isinstance(value, list) else [value]:
            if text is not None and not text.strip():
                raise InputError(label, "empty path; give a file or directory")


def resolve_run_arguments(args: argparse.Namespace) -> None:
    """compare, diagnose, replay and export take run ids as attach does: each RUN becomes a path."""
    if args.command not in ("compare", "diagnose", "replay", "export"):
        return
    from engine.commands.runs import resolve_run

    def resolve(target: str) -> str:
        return str(resolve_run(target, lambda: _log_dir(args)))

    if args.command == "compare":
        args.paths = [resolve(target) for target in args.paths]
    else:
        args.path = resolve(args.path)


def dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command; returns the exit code."""
    refuse_empty_paths(args)
    resolve_run_arguments(args)
    if args.command == "train" and args.nproc > 1:
        from engine.commands.multiproc import launch_local

        return launch_local(_options(args), args.nproc)
    if args.command == "train" and args.detach:
        from engine.commands.detach import start_detached

        return start_detached(_options(args))
    if args.command == "train":
        from engine.commands.trainer_process import serve_then_train

        return serve_then_train(_options(args))
    if args.command == "sweep":
        from engine.commands.sweep import SweepRequest

        request = SweepRequest(_options(args), args.trials, args.jobs, args.study, args.storage)
        if args.headless:
            from engine.commands.sweep import sweep_headless

            return sweep_headless(request)
        from tui.sweep_app import launch_sweep

        return launch_sweep(request)
    if args.command == "branch":
        from engine.commands.branch import BranchRequest, start_branch

        return start_branch(BranchRequest(args.run, _log_dir(args), args.start, args.overrides, args.pause_parent,
                                          args.detach))
    if args.command == "runs" and args.tui:
        from tui.runs_app import runs_app

        runs_app(_log_dir(args), args.paths).run()
        return 0
    if args.command == "runs" and args.paths:
        raise InputError(args.paths[0], "extra paths are listed only in the browser: add --tui")
    if args.command == "compare" and args.csv:
        from engine.commands.compare import compare_csv

        return compare_csv(args.paths, args.csv, args.force)
    if args.command == "compare":
        from tui.runs_app import compare_app

        compare_app(args.paths).run()
        return 0
    if args.command == "runs":
        from engine.commands.runs import print_runs

        return print_runs(_log_dir(args), args.json)
    if args.command == "diagnose":
        from engine.commands.diagnose import diagnose

        return diagnose(args.path, args.json, args.fail_on)
    if args.command == "evaluate":
        from engine.commands.evaluate import evaluate_checkpoint

        return evaluate_checkpoint(args.run, _log_dir(args), args.split, args.json, args.short, args.cost_bps)
    if args.command == "export":
        from engine.commands.export import export_csv

        return export_csv(args.path, args.csv, args.force)
    if args.command == "replay":
        from tui.launch import launch_replay

        return launch_replay(args.path, args.follow)
    if args.command == "attach":
        from tui.launch import launch_attach

        return launch_attach(args.run, _log_dir(args))
    from tui.launch import launch_dashboard

    return launch_dashboard(_options(args))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `stockpred-tui` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "dashboard")
    args = build_parser().parse_args(argv)
    if args.command != "train":
        # A UI holds no training: a hang-up ends it at once, even when started from a shell that ignores SIGHUP.
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        return dispatch(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except EnvironmentProblem as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: say nothing more, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
