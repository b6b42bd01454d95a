"""The trainer publishes its own figures: a stats event at a step boundary every few seconds, in the log and to every
sink, read back by the log readers without disturbing the epoch table or the rules."""

from __future__ import annotations

import time

from engine.commands.diagnose import diagnose
from engine.data.dataset import prepare_data
from engine.events import DeviceStats, StepEvent
from engine.store.log_reader import read_jsonl
from engine.training.trainer import STATS_INTERVAL_S, Trainer
from tests.run_helpers import events


def trained(config, interval_s: float = STATS_INTERVAL_S) -> tuple[Trainer, list, float]:
    """A tiny run to its end with stats every `interval_s`: the trainer, what reached its sink, and the run's length on
    the loop's own clock."""
    seen = []
    trainer = Trainer(config, prepare_data(config), sinks=[seen.append])
    trainer.stats_interval_s = interval_s
    started = time.monotonic()
    assert trainer.run().reason == "completed"
    return trainer, seen, time.monotonic() - started


def test_a_short_run_logs_plausible_figures_not_once_per_step(tiny):
    trainer, seen, duration = trained(tiny("training.epochs=3"))
    logged = [e for e in events(trainer.run_dir) if e["type"] == "stats"]
    steps = [e for e in seen if isinstance(e, StepEvent)]
    assert len(steps) == trainer.step > 20  # step_event_interval_s=0: a step event at every step
    assert 1 <= len(logged) <= 1 + duration / STATS_INTERVAL_S  # the first step at once, then every 2 s at most
    first = logged[0]
    assert first["name"] == "cpu" and first["rss"] > 10 * 2 ** 20 and first["cpu_percent"] >= 0
    assert first["epoch"] == 0 and first["step"] == 1 and first["util_percent"] is None
    assert [e.to_dict() for e in seen if isinstance(e, DeviceStats)] == logged  # the sinks hear what the log holds


def test_the_interval_holds_between_stats_and_the_readers_keep_them_apart(tiny, capsys):
    trainer, seen, duration = trained(tiny("training.epochs=15"), interval_s=0.05)
    stats = [e for e in seen if isinstance(e, DeviceStats)]
    # Each stats event waits 0.05 s on the loop's clock after the one before: no more than the run's length allows.
    assert 2 <= len(stats) <= 1 + duration / 0.05 and len(stats) < trainer.step / 2
    assert [s.step for s in stats] == sorted(s.step for s in stats) and stats[-1].step <= trainer.step
    history, notices = read_jsonl(trainer.run_dir)
    assert notices == [] and sorted(history.epochs) == list(range(1, 16))
    assert [s.step for s in history.device_stats] == [s.step for s in stats] and history.device.rss > 0
    assert not any(isinstance(e, DeviceStats) for e in history.events)
    assert diagnose(str(trainer.run_dir)) == 0 and "stats" not in capsys.readouterr().out
