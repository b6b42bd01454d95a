"""The runs browser shows branches under their parents; the compare view of a parent and a branch (snapshot)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import wait_until
from tests.lineage_runs import PARENT, write_family
from tests.test_runs_browser import _drawn, loaded, pinned_health, row_ids  # noqa: F401  (pinned_health: a fixture)
from tui.runs_app import compare_app, runs_app
from tui.widgets.runs_table import RunsTable


@pytest.fixture
def family(tmp_path, monkeypatch):
    """The root, an unrelated run, two branches and a branch of a branch, in ./logs (UTC, for the start column)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    yield write_family(tmp_path / "logs")
    monkeypatch.delenv("TZ")
    time.tzset()


async def test_the_browser_lists_each_branch_under_its_parent_until_a_column_is_sorted(family):
    app = runs_app("logs")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot)
        assert row_ids(screen) == [PARENT, "└ 20261124-100000-b1", "  └ 20261124-120000-b3", "└ 20261124-110000-b2",
                                   "20261124-093000-q"]
        table = screen.query_one(RunsTable)
        table.sort_on("started")
        table.show(screen.runs, set())
        await wait_until(pilot, lambda: row_ids(screen)[1] == "20261124-093000-q")
        assert row_ids(screen) == [PARENT, "20261124-093000-q", "20261124-100000-b1", "20261124-110000-b2",
                                   "20261124-120000-b3"]


@pytest.mark.usefixtures("pinned_health")
def test_compare_snapshot_parent_and_branch_aligned_at_the_fork(snap_compare, family):
    app = compare_app([str(family[0]), str(family[2])])
    assert snap_compare(app, terminal_size=(100, 30), run_before=_drawn)
