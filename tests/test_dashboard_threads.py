"""threads: auto counts the idle cores of the affinity mask; --threads and the config refuse nonsense."""

import pytest
import torch

from engine.config import load_config
from engine.data.dataset import prepare_data
from engine.errors import InputError
from engine.events import EpochEvent
from engine.training import threads
from engine.training.threads import auto_threads, free_cores, resolve_threads
from engine.training.trainer import Trainer
from tests.run_helpers import events
from tui.cli import build_parser


def readings(*busy):
    """Two /proc/stat-like readings 100 jiffies apart, CPU i `busy[i]` fully busy over the interval."""
    before = {cpu: (0, 0) for cpu in range(len(busy))}
    after = {cpu: (round(100 * (1 - b)), 100) for cpu, b in enumerate(busy)}
    return before, after


def test_a_busy_neighbour_takes_its_core_away():
    before, after = readings(1.0, 0.0)
    assert free_cores([0, 1], before, after) == pytest.approx(1.0)
    reads = iter([before, after])
    assert auto_threads(0, lambda: next(reads), [0, 1]) == 1


def test_quiet_cores_all_count_and_at_least_one_thread_is_left():
    quiet = iter(readings(0.0, 0.05, 0.0, 0.1))
    assert auto_threads(0, lambda: next(quiet), [0, 1, 2, 3]) == 4
    busy = iter(readings(1.0, 1.0))
    assert auto_threads(0, lambda: next(busy), [0, 1]) == 1


def test_cpus_outside_the_mask_do_not_count_and_unreadable_ones_count_as_free():
    before, after = readings(0.0, 0.0, 1.0, 1.0)
    assert free_cores([2, 3], before, after) == pytest.approx(0.0)
    assert free_cores([0, 1], {}, {}) == 2


def test_settings_resolve(monkeypatch):
    assert resolve_threads(3) == 3
    monkeypatch.setenv("STOCKPRED_THREADS", "2")
    assert resolve_threads("auto") == 2


def test_bad_thread_counts_are_refused_naming_who_set_them(capsys):
    with pytest.raises(InputError, match="--set: threads: must be 'auto' or a whole number"):
        load_config(None, ["threads=0"])
    assert load_config(None, ["threads=4"]).threads == 4 and load_config(None, []).threads == "auto"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--threads", "many"])
    assert "--threads: 'many': must be 'auto' or a whole number" in capsys.readouterr().err
    assert build_parser().parse_args(["train", "--threads", "2"]).threads == "2"


def test_the_governor_counts_this_process_as_its_own_and_follows_a_neighbour_that_leaves(monkeypatch):
    monkeypatch.delenv("STOCKPRED_THREADS", raising=False)
    monkeypatch.setattr(threads, "allowed_cpus", lambda: [0, 1])
    clock, own, stat = [0.0], [0.0], [{0: (0, 0), 1: (0, 0)}]
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(threads, "own_cpu_seconds", lambda: own[0])
    governor = threads.ThreadGovernor("auto", reader=lambda: stat[0])

    def epoch(seconds, own_cores, idle_fraction):
        """Both CPUs `idle_fraction` idle; this process used `own_cores` of them."""
        clock[0] += seconds
        own[0] += own_cores * seconds
        stat[0] = {cpu: (idle + int(idle_fraction * 100 * seconds), total + int(100 * seconds))
                   for cpu, (idle, total) in stat[0].items()}
        return governor.review()

    assert epoch(2.0, own_cores=2.0, idle_fraction=0.0) == 2  # we kept both busy: nobody else is there
    assert epoch(2.0, own_cores=1.0, idle_fraction=0.0) == 1  # a neighbour took a core
    assert epoch(2.0, own_cores=1.0, idle_fraction=0.5) == 2  # it left
    assert threads.ThreadGovernor(3).review() is None  # a fixed setting is never changed


def test_auto_threads_are_decided_again_at_epoch_ends_and_each_change_is_noted(tiny, monkeypatch):
    """A neighbour takes one of two cores from the end of epoch 1 until the end of epoch 3: the run goes down to one
    thread and back up, each epoch logs the count it ran with and each change leaves a note in the log."""
    monkeypatch.delenv("STOCKPRED_THREADS", raising=False)
    monkeypatch.setattr(threads, "allowed_cpus", lambda: [0, 1])
    monkeypatch.setattr(threads, "own_cpu_seconds", lambda: 0.0)  # only the neighbour's load decides
    neighbours = [0]
    # What the governor measures as idle: its view of the neighbours' load, whatever the machine really does.
    monkeypatch.setattr(threads, "free_cores", lambda cpus, before, after: len(cpus) - neighbours[0])

    def neighbour_comes_and_goes(event):
        if isinstance(event, EpochEvent) and event.epoch in (1, 3):
            neighbours[0] = 1 if event.epoch == 1 else 0

    config = tiny("threads=auto", "training.epochs=5", "training.early_stopping.enabled=false")
    trainer = Trainer(config, prepare_data(config), sinks=[neighbour_comes_and_goes])
    kept = torch.get_num_threads()
    try:
        assert trainer.run().reason == "completed"
    finally:
        torch.set_num_threads(kept)  # the trainer set this (the test's) thread's count
    logged = events(trainer.run_dir)
    assert next(e for e in logged if e["type"] == "run_start")["data"]["threads"] == 2
    counts = [e["threads"] for e in logged if e["type"] == "epoch"]
    assert counts[0] == 2 and [c for i, c in enumerate(counts) if i == 0 or c != counts[i - 1]] == [2, 1, 2]
    notes = [e["what"] for e in logged if e["type"] == "note" and e["source"] == "threads: auto"]
    assert [note.split(" (")[0] for note in notes] == ["threads 2 -> 1", "threads 1 -> 2"]
