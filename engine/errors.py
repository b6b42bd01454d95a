"""Errors that carry a one-line message meant for the user."""

from engine.safe_text import clean_text


class InputError(ValueError):
    """Bad user input (config, CSV, checkpoint, log, typed value), explained in one line."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        # One line, safe to print: a path or value from a file can carry newlines or escape sequences.
        super().__init__(clean_text(f"{source}: {problem}" if source else problem))


class EnvironmentProblem(RuntimeError):
    """The machine, not the input, stopped the run (a log directory that cannot be written, a full disk)."""
