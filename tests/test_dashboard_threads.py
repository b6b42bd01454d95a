"""threads: auto counts the idle cores of the affinity mask; --threads and the config refuse nonsense."""

import pytest

from engine.config import load_config
from engine.errors import InputError
from engine.threads import auto_threads, free_cores, resolve_threads
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
