"""The one way in: `stockpred-tui [dashboard|train|replay|diagnose|export]` (argparse)."""

from __future__ import annotations

import argparse
import sys

from engine.errors import InputError

COMMANDS = ("dashboard", "train", "replay", "diagnose", "export")


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="YAML config (default: built-in defaults = config.yaml's)")
    parser.add_argument("--data", metavar="PATH|synthetic|bundled", help="price CSV, 'synthetic' or 'bundled'")
    parser.add_argument("--epochs", type=int, metavar="N", help="total epochs")
    parser.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. training.learning_rate=0.002 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """Argument parser for every command."""
    parser = argparse.ArgumentParser(prog="stockpred-tui", description="Train and watch a multitask LSTM stock predictor.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_options(commands.add_parser("dashboard", help="train with the live dashboard (default)"))
    _run_options(commands.add_parser("train", help="train headless, one line per epoch"))
    replay = commands.add_parser("replay", help="open a saved run in the dashboard")
    replay.add_argument("path", help="run directory, events.jsonl, Keras or Lightning CSV")
    replay.add_argument("--follow", action="store_true", help="keep reading as another process appends")
    diagnose = commands.add_parser("diagnose", help="apply the health rules to a saved run")
    diagnose.add_argument("path")
    diagnose.add_argument("--json", action="store_true", help="one JSON document")
    export = commands.add_parser("export", help="write a run's epoch table")
    export.add_argument("path")
    export.add_argument("--csv", required=True, metavar="OUT")
    export.add_argument("--force", action="store_true", help="overwrite OUT")
    return parser


def _options(args: argparse.Namespace):
    from engine.session import RunOptions

    return RunOptions(args.config, args.data, args.epochs, args.resume, args.overrides)


def dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command; returns the exit code."""
    if args.command == "train":
        from engine.headless import train_headless

        return train_headless(_options(args))
    if args.command == "diagnose":
        from engine.diagnose import diagnose

        return diagnose(args.path, args.json)
    if args.command == "export":
        from engine.diagnose import export_csv

        return export_csv(args.path, args.csv, args.force)
    from tui.launch import launch_dashboard, launch_replay

    if args.command == "replay":
        return launch_replay(args.path, args.follow)
    return launch_dashboard(_options(args))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `stockpred-tui` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "dashboard")
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
