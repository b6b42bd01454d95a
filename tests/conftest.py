"""Shared fixtures: a tiny CPU model on small synthetic data, runs written under tmp_path."""

from __future__ import annotations

import pytest

from engine.config import Config, load_config

TINY = ["data.source=synthetic", "data.synthetic.days=400", "data.window=8", "data.volatility_window=5",
        "model.hidden_size=8", "model.num_layers=2", "training.batch_size=64", "training.epochs=3",
        "step_event_interval_s=0", "threads=1"]


def tiny_config(tmp_path, *overrides: str) -> Config:
    """A config that trains in a fraction of a second."""
    return load_config(None, [*TINY, f"log_dir={tmp_path / 'logs'}", *overrides])


@pytest.fixture
def tiny(tmp_path):
    """Factory for tiny configs bound to this test's directory."""
    return lambda *overrides: tiny_config(tmp_path, *overrides)


@pytest.fixture(autouse=True)
def _isolate_cwd(tmp_path, monkeypatch):
    """Tests never read the user's config.yaml or write to the repo's logs/."""
    monkeypatch.chdir(tmp_path)


async def wait_until(pilot, predicate, tries=600):
    """Let the app and the worker run until predicate() holds (bounded; no timing assertions)."""
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


@pytest.fixture
def make_run(tmp_path):
    """Start FakeRuns (tests/control_harness.py) under tmp_path; each is stopped at teardown (the control socket tests)."""
    from tests.control_harness import FakeRun

    runs = []

    def make(name: str = "run", **options):
        run = FakeRun(tmp_path / name, **options).start()
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.stop()
        assert not [r for r in run.server.dropped if r.startswith("internal error")]  # abuse never hit a bug
