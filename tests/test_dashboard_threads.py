"""threads: auto counts the idle cores of the affinity mask; --threads and the config refuse nonsense."""

import pytest

from engine.config import load_config
from engine.errors import InputError
from engine.training import threads
from engine.training.threads import auto_threads, free_cores, resolve_threads
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
