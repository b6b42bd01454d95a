"""The runs table over any mix of runs: generated configs (keys named like built-in columns, configs that differ in
every key), runs without a config and foreign CSVs; every run is a row, every column says what it holds."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from engine.commands.compare import LoadedRun, differing_keys, flatten, format_value, gather, short_name
from engine.config import Config
from engine.events import RunStarted
from tests.histories import BASELINES, epoch
from tests.test_compare import KERAS
from tests.test_logs import write_log
from tui.widgets.runs_table import BASE_COLUMNS, RunsTable

SUFFIX = " (config)"
# Names a config key could share with a built-in column or a short name, beside arbitrary ones.
KEYS = st.sampled_from([*BASE_COLUMNS, "lr", "dropout", "training", "model", "epochs", "a.", "."]) | st.text(
    alphabet="abxy._[", min_size=1, max_size=5)
LEAVES = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2, width=32) | st.text("ab[]", max_size=3) | \
    st.lists(st.integers(0, 2), max_size=2)
ANY_CONFIG = st.dictionaries(KEYS, st.recursive(LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3),
                                                max_leaves=6), max_size=4)


@st.composite
def real_config(draw) -> dict:
    """Our own config with a few values changed, --epochs among them (the column that collided)."""
    config = Config().model_dump()
    config["training"]["epochs"] = draw(st.sampled_from([1, 2, 5, 100]))
    config["training"]["learning_rate"] = draw(st.sampled_from([0.001, 0.002]))
    config["model"]["dropout"] = draw(st.sampled_from([0.3, 0.35]))
    return config


RUN = st.tuples(st.just("ours"), real_config() | ANY_CONFIG) | st.tuples(st.sampled_from(["no config", "keras"]), st.none())


def write_runs(root: Path, kinds: list[tuple[str, dict | None]]) -> tuple[list[LoadedRun], int]:
    """Each generated run on disk (our logs under logs/, Keras CSVs beside), read back as the browser reads them."""
    extra = []
    for i, (kind, config) in enumerate(kinds):
        if kind == "keras":
            extra.append(root / f"keras-{i}.csv")
            extra[-1].write_text(KERAS)
            continue
        (root / "logs" / f"run-{i}").mkdir(parents=True)
        start = [RunStarted(f"run-{i}", config, {"source": "synthetic"}, BASELINES, "cpu", 1000, time=1e9 + i)]
        write_log(root / "logs" / f"run-{i}" / "events.jsonl",
                  [*(start if kind == "ours" else []), epoch(1, 1.3, 1.31), epoch(2, 1.2, 1.25)])
    (root / "logs").mkdir(exist_ok=True)
    runs, problems = gather(root / "logs", [str(p) for p in extra], judge=False)
    assert problems == []
    return runs, len(kinds)


class TableApp(App):
    """Just the runs table, filled once mounted."""

    def __init__(self, runs: list[LoadedRun]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        yield RunsTable()

    def on_mount(self) -> None:
        self.query_one(RunsTable).show(self.runs, set())


def key_named(label: str, keys: list[str]) -> str:
    """The one config key a column label names: a whole key when there is one by that name, else a short name."""
    name = label
    while name.endswith(SUFFIX):
        name = name.removesuffix(SUFFIX)
    if name in keys:
        return name
    named = [key for key in keys if short_name(key) == name]
    assert len(named) == 1, f"column {label!r} names {named}"
    return named[0]


async def check_table(runs: list[LoadedRun], count: int) -> list[str]:
    """Mount the table over `runs`, check rows, column keys and what each label says; the labels."""
    async with TableApp(runs).run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        table = pilot.app.query_one(RunsTable)
        assert table.row_count == count == len(runs)
        assert {row.value for row in table.rows} == {run.path for run in runs}
        columns = table.ordered_columns
        keys, labels = [c.key.value for c in columns], [str(c.label) for c in columns]
        assert len(set(keys)) == len(keys) and len(set(labels)) == len(labels)
        differing = differing_keys([run.history.config for run in runs])
        config_labels = [label for label in labels if label not in BASE_COLUMNS]
        assert [label for label in labels if label in BASE_COLUMNS] == list(BASE_COLUMNS)
        assert len(config_labels) == len(differing)  # none lost to a name another column had
        assert sorted(key_named(label, differing) for label in config_labels) == sorted(differing)
        by_path = {run.path: run for run in runs}
        for row in range(table.row_count):
            run = by_path[table.coordinate_to_cell_key((row, 0)).row_key.value]
            cells = dict(zip(labels, (str(cell) for cell in table.get_row_at(row))))
            s = run.summary
            assert cells["run"] == s.run_id and cells["epochs"] == (f"{s.epoch}/{s.epochs}" if s.epochs else str(s.epoch))
            flat = flatten(run.history.config)
            for label in config_labels:
                key = key_named(label, differing)
                assert cells[label] == (format_value(flat.get(key)) if flat else "–"), (label, key)
        return labels


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RUN, min_size=1, max_size=5))
def test_every_run_is_a_row_and_every_column_says_what_it_holds(kinds):
    with tempfile.TemporaryDirectory() as root:
        runs, count = write_runs(Path(root), kinds)
        asyncio.run(check_table(runs, count))


def test_a_differing_epochs_setting_is_its_own_column_beside_the_progress(tmp_path):
    config = [Config().model_dump(), Config().model_dump()]
    config[1]["training"]["epochs"] = 5
    runs, count = write_runs(tmp_path, [("ours", config[0]), ("ours", config[1]), ("keras", None), ("no config", None)])
    labels = asyncio.run(check_table(runs, count))
    assert labels[:4] == ["✓", "run", "state", "training.epochs"] and labels.count("epochs") == 1
