"""A resumed run keeps its first start time (the runs list and browser), and the resume shows in the event log."""

from __future__ import annotations

import dataclasses

from engine.commands.runs import summarize_history
from tests.histories import epoch, history_of, start


def resumed_events():
    """Five epochs from a start at t=1000, then a resume at t=5000 that trains two more."""
    first = dataclasses.replace(start(), time=1000.0)
    again = dataclasses.replace(start(), time=5000.0, start_epoch=5, resumed_from="logs/demo/last.pt")
    return [first, *(epoch(n, 1.0, 1.0) for n in range(1, 6)), again, epoch(6, 0.9, 0.9), epoch(7, 0.9, 0.9)]


def test_a_resumed_run_keeps_its_first_start_time(tmp_path):
    history = history_of(resumed_events())
    assert history.started == 1000.0
    assert history.run.time == 5000.0  # the segment in force is still the resumed one
    assert summarize_history(history, tmp_path, live=False, judge=False).started == 1000.0


def test_the_resume_is_a_line_of_the_event_log():
    lines = [line.text for line in history_of(resumed_events()).log]
    assert "run 20261125-120000-demo resumed from logs/demo/last.pt on cpu" in lines


def test_a_log_without_a_start_time_has_none():
    assert history_of([start()]).started is None  # time=0.0: a fixed stream, no wall clock
