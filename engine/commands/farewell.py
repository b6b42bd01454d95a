"""What a person reads when a run stops (headless, detached or in a dashboard): one farewell for all (torch-free)."""

from __future__ import annotations

from engine.commands.runs import newest_checkpoint, resume_command
from engine.events import FINISHED, RunEnded


def farewell(run_dir, ended: RunEnded, headless: bool = True) -> str:
    """What a person needs after a run stops: where it lives, what was saved, how to continue."""
    lines = [f"run directory: {run_dir}", f"checkpoint: {ended.checkpoint or 'none written'}"]
    if ended.reason not in FINISHED:
        checkpoint = ended.checkpoint or newest_checkpoint(run_dir)
        if checkpoint:
            lines.append(f"resume: {resume_command(checkpoint, headless)}")
    return "\n".join(lines)
