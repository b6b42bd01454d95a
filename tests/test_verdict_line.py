"""Headless says the verdict: a line whenever the most severe finding changes, in stdout and a detached run's
console.log."""

from __future__ import annotations

import io
import re

from engine.commands.headless import ConsolePrinter
from engine.commands.progress_line import ProgressLine
from engine.commands.verdict_line import VerdictLine, verdict_text
from engine.health import Finding, Suggestion
from tests.histories import NOTE_BASELINES, epoch, exploding_paused_run, healthy_run, overfitting_run, start
from tests.run_helpers import events, only_run_dir, set_args, wait_for
from tests.conftest import TINY
from tui.cli import main

OVERFITTING = ("epoch 14 · warning overfitting: val rose 0.02 from its best 0.33 at epoch 8 while train kept falling "
               "(noise threshold 0.017); remedy dropout → 0.35")


def printed(stream_events) -> list[str]:
    """The headless lines of a stream of events."""
    out = io.StringIO()
    printer = ConsolePrinter(out, ProgressLine(out, tty=False))
    for event in stream_events:
        printer(event)
    return out.getvalue().splitlines()


def overfit_then_recover() -> list:
    """The overfitting run on synthetic prices (no leak check), then val falls to a new best from epoch 21."""
    events = [start(baselines=NOTE_BASELINES, source="synthetic"), *overfitting_run()[1:]]
    return events + [epoch(n, 0.29 - 0.002 * (n - 20), 0.30 - 0.004 * (n - 20)) for n in range(21, 31)]


def test_a_line_when_a_warning_appears_and_one_when_it_clears():
    lines = printed(overfit_then_recover())
    verdicts = [line for line in lines if line.startswith("epoch ")]
    assert verdicts == [OVERFITTING, "epoch 21 · ok (was warning overfitting)"]
    # Each right after its epoch's line, though the warning's figures changed at every epoch in between.
    assert lines[lines.index(OVERFITTING) - 1].startswith("Epoch [ 14/100]")


def test_a_healthy_run_says_nothing_and_an_explosion_is_critical_with_its_remedy():
    assert not [line for line in printed(healthy_run()) if line.startswith("epoch ")]
    verdict = VerdictLine()
    said = [text for text in map(verdict.after, exploding_paused_run()) if text]
    assert said == ["epoch 6 · critical exploding: loss exploded (NaN, inf or above 10) at epoch 6; remedy lr → 0.0005"]


def test_the_text_of_a_finding_without_a_remedy_and_of_a_return_to_ok():
    finding = Finding.warning("baseline", "worse than predicting a constant: skill -3.0%")
    assert verdict_text(7, finding, None) == "epoch 7 · warning baseline: worse than predicting a constant: skill -3.0%"
    assert verdict_text(9, None, finding) == "epoch 9 · ok (was warning baseline)"
    remedy = Finding.critical("divergence", "diverging: up 40%", remedy=Suggestion("lr", 0.00025))
    assert verdict_text(3, remedy, finding).endswith("diverging: up 40%; remedy lr → 0.00025")


def test_a_detached_run_tells_the_health_story_in_its_console_log(tmp_path):
    unstable = [*TINY, "training.epochs=4", "training.learning_rate=0.5", "training.grad_clip=0", f"log_dir={tmp_path / 'logs'}"]
    assert main(["train", "--detach", *set_args(unstable)]) == 0
    run_dir = wait_for(lambda: only_run_dir(tmp_path / "logs"), "the run directory")
    wait_for(lambda: any(e["type"] == "run_end" for e in events(run_dir)), "the end of the run")
    console = wait_for(lambda: "completed after 4 epochs" in (text := (run_dir / "console.log").read_text()) and text,
                       "the run's last lines in console.log")
    verdicts = re.findall(r"^epoch (\d+) · (\w+) (\w+): .*; remedy lr → ([0-9.e-]+)$", console, re.M)
    assert verdicts and verdicts[0][1:3] == ("warning", "instability") and float(verdicts[0][3]) < 0.5
