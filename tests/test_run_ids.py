"""compare, diagnose, replay and export take a run id as attach does, resolved in --log-dir (default: log_dir of
./config.yaml, else logs); a path still works; an unknown id is one line naming the id and the directory searched."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engine.commands.runs import resolve_run
from engine.errors import InputError
from tests.test_compare import write_run
from tui.cli import main

RUN_A, RUN_B = "20261124-090000-a1b2", "20261124-100000-c3d4"


@pytest.fixture
def logs(tmp_path):
    """Two finished runs in ./logs of 3 and 5 epochs."""
    write_run(tmp_path / "logs", RUN_A, epochs=3)
    write_run(tmp_path / "logs", RUN_B, epochs=5, model__dropout=0.4)
    return tmp_path / "logs"


def test_diagnose_by_id_in_the_default_log_dir(logs, capsys):
    assert main(["diagnose", RUN_A, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == f"logs/{RUN_A}" and report["epochs"] == 3


def test_export_by_id_in_a_given_log_dir(logs, tmp_path, capsys):
    moved = tmp_path / "elsewhere"
    logs.rename(moved)
    assert main(["export", RUN_B, "--log-dir", str(moved), "--csv", "b.csv"]) == 0
    assert pd.read_csv("b.csv").epoch.tolist() == [1, 2, 3, 4, 5]


def test_compare_by_ids_and_a_path_together(logs, capsys):
    assert main(["compare", RUN_A, str(logs / RUN_B), "--csv", "both.csv"]) == 0
    table = pd.read_csv("both.csv")
    assert table.groupby("run").size().to_dict() == {RUN_A: 3, RUN_B: 5}


def test_replay_by_id_in_the_log_dir_of_config_yaml(logs, tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text("log_dir: kept\n")
    logs.rename(tmp_path / "kept")
    opened = []
    monkeypatch.setattr("tui.launch.launch_replay", lambda path, follow: opened.append((path, follow)) or 0)
    assert main(["replay", RUN_A, "--follow"]) == 0
    assert opened == [(f"kept/{RUN_A}", True)]


@pytest.mark.parametrize("argv", [["diagnose", "nosuchrun"], ["export", "nosuchrun", "--csv", "x.csv"],
                                  ["compare", RUN_A, "nosuchrun", "--csv", "x.csv"], ["replay", "nosuchrun"],
                                  ["attach", "nosuchrun"]])
def test_an_unknown_id_is_one_line_naming_it_and_the_directory(logs, capsys, argv):
    assert main([*argv, "--log-dir", "logs"]) == 2
    err = capsys.readouterr().err
    assert err == "error: nosuchrun: no such run (neither a path nor a run id in logs)\n"


def test_a_path_is_taken_as_it_is_and_an_id_only_looked_up_when_needed(logs, tmp_path):
    def no_config():
        raise AssertionError("the log directory was looked up for a path")

    assert resolve_run(str(logs / RUN_A), no_config) == logs / RUN_A
    assert str(resolve_run("missing.jsonl", no_config)) == "missing.jsonl"  # the reader says it is missing
    assert resolve_run(RUN_B, lambda: logs) == logs / RUN_B
    with pytest.raises(InputError, match=f"no such run \\(neither a path nor a run id in {tmp_path}\\)"):
        resolve_run(RUN_B, tmp_path)
