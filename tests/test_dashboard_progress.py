"""Progress inside an epoch (rate, ETA), the headless progress line, and headless printing the data notices."""

import io

import pytest

from engine.events import EpochEvent, HyperparamChanged, RunStarted, StepEvent
from engine.commands.headless import ConsolePrinter
from engine.commands.progress_line import ProgressLine
from engine.store.history import History
from engine.event_text import narrate
from engine.step_meter import StepMeter
from tests import histories


def step(batch, time, batches=100, epoch=1):
    return StepEvent(epoch, batch, batches, batch, 1.0, time=time)


def test_meter_measures_steps_per_second_and_the_epochs_eta():
    meter = StepMeter()
    assert meter.add(step(10, 100.0)).steps_per_s is None
    progress = meter.add(step(30, 102.0))
    assert progress.steps_per_s == pytest.approx(10.0) and progress.eta_s == pytest.approx(7.0)
    assert progress.text() == "epoch 1 · 30/100 steps · 10.0 steps/s · epoch ETA 7s"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_one_line_rewritten_and_cleared_before_the_epoch_line():
    out, clock = Tty(), Clock()
    printer = ConsolePrinter(out, ProgressLine(out, clock=clock))
    printer(step(10, 0.0))
    clock.now = 0.1
    printer(step(20, 1.0))  # within the throttle: not written
    clock.now = 0.6
    printer(step(30, 2.0))
    assert out.getvalue().count("\r\x1b[K  epoch 1") == 2 and "30/100 steps · 10.0 steps/s" in out.getvalue()
    printer(histories.epoch(1, 1.0, 1.1))
    assert out.getvalue().endswith("\r\x1b[KEpoch [  1/100] - Loss: 1.0000/1.1000 | Acc: 53.0% | lr 1.0e-03 | "
                                   "2,500 samples/s | 3.2s\n")


def test_a_log_file_gets_rare_plain_lines_and_no_escape_codes():
    out, clock = io.StringIO(), Clock()
    printer = ConsolePrinter(out, ProgressLine(out, clock=clock))
    for i in range(1, 50):
        clock.now = i
        printer(step(i, float(i)))
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert out.getvalue().count("steps/s") == 1  # at 31 s: nothing in the first 30 s, so short epochs add no lines
    assert "  epoch 1 · 31/100 steps · 1.0 steps/s · epoch ETA 1m09s\n" == out.getvalue()


def test_headless_prints_the_data_notices_and_the_thread_count():
    start = histories.start()
    start = RunStarted(start.run_id, start.config, {**start.data, "notices": ["no 'Adj Close' column, using Close"],
                       "threads": 3}, start.baselines, "cpu", 1, time=0.0)
    out = io.StringIO()
    ConsolePrinter(out)(start)
    lines = out.getvalue().splitlines()
    assert "on cpu (3 threads)" in lines[0]
    assert "warning: no 'Adj Close' column, using Close" in lines


def test_a_change_is_told_once_in_the_epoch_it_acts_in():
    change = HyperparamChanged("lr", 0.001, 0.002, 1, 45, "user", time=0.0)  # made during epoch 2 (1 completed)
    history = History()
    history.apply(change)
    out = io.StringIO()
    ConsolePrinter(out)(change)
    said = "lr: 0.001 -> 0.002 (user) from epoch 2"
    assert [s.text for s in narrate(change)] == [said] == [line.text for line in history.log]
    assert out.getvalue() == said + "\n"
    assert not narrate(histories.epoch(1, 1.0, 1.0)) and isinstance(histories.epoch(1, 1.0, 1.0), EpochEvent)
