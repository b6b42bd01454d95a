"""Config validation: good files, each class of bad input, overrides through the same checks, one loader for all."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.config import Config, Override, load_config
from engine.errors import InputError
from tests.histories import healthy_run
from tests.test_logs import write_log
from tui.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_config_yaml_carries_the_notes_settings_as_defaults():
    config = Config.model_validate(yaml.safe_load((REPO / "config.yaml").read_text()))
    assert config == Config()
    assert (config.model.hidden_size, config.model.num_layers, config.model.dropout) == (128, 2, 0.3)
    t = config.training
    assert (t.learning_rate, t.weight_decay, t.batch_size, t.epochs, t.reg_weight, t.clf_weight) == (0.001, 0.0001, 256, 100, 1.0, 0.5)
    assert (t.early_stopping.patience, t.early_stopping.min_delta, t.warmup.enabled) == (30, 0.00001, False)


@pytest.mark.parametrize("text, message", [
    ("training:\n  learnig_rate: 0.1\n", "unknown key 'training.learnig_rate' (did you mean 'training.learning_rate'?)"),
    ("training:\n  learning_rate: 0\n", "training.learning_rate: Input should be greater than 0"),
    ("model:\n  dropout: 1.0\n", "model.dropout: Input should be less than"),
    ("training:\n  batch_size: 0\n", "training.batch_size: Input should be greater than or equal to 1"),
    ("training:\n  batch_size: many\n", "training.batch_size: Input should be a valid integer"),
    ("training:\n  optimizer: sgd\n", "training.optimizer: Input should be 'adam' or 'adamw'"),
    ("model: [1, 2\n", "line 2: invalid YAML"),
    ("- just\n- a list\n", "top level must be a mapping"),
])
def test_bad_config_files_give_one_line_naming_the_key(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_overrides_are_typed_and_validated():
    assert load_config(None, ["training.learning_rate=0.002"]).training.learning_rate == 0.002
    assert load_config(None, ["data.tickers=[AAPL]"]).data.tickers == ["AAPL"]
    with pytest.raises(InputError, match="training.learning_rate: Input should be greater than 0"):
        load_config(None, ["training.learning_rate=-1"])
    with pytest.raises(InputError, match="did you mean 'data.window'"):
        load_config(None, ["data.windw=3"])


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("training:\n  epochs: -3\n")
    assert main(["train", "--config", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "training.epochs" in err


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" \
       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"


@pytest.mark.parametrize("content, message", [
    (BOMB, "YAML expands to more than 10,000 values"),
    ("a: &a [*a]\n", "a YAML alias refers to itself"),
    ("training: {learning_rate: " + "x" * 5000 + "}\n", "training.learning_rate: Input should be a valid number"),
    ("training: {learning_rate: [" + ", ".join(["1"] * 3000) + "]}\n", "(got [1, 1, 1, 1, 1, 1, 1, 1, ...])"),
    ("? " + "x" * 5000 + "\n: 1\n", "unknown key 'xxxx"),
    ("# padding\n" * 120_000, "larger than 1 MB; not a config file"),
    (b"\xff\xfe\x00", "not UTF-8 text"),
])
def test_hostile_config_files_give_a_short_line(tmp_path, capsys, content, message):
    path = tmp_path / "c.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and len(err) - len(str(path)) < 260


@pytest.mark.parametrize("argv, expected", [
    (["--set", "training.lr=0.1"], "error: --set: unknown key 'training.lr' (did you mean 'training.learning_rate'?)"),
    (["--epochs", "0"], "error: --epochs: training.epochs: Input should be greater than or equal to 1 (got 0)"),
    (["--set", "training.epochs=0"], "error: --set: training.epochs: Input should be greater than or equal to 1 (got 0)"),
    (["--set", "trainng.epochs=3"], "error: --set: unknown key 'trainng' (did you mean 'training'?)"),
    (["--config", "c.yaml"], "error: c.yaml: training.batch_size: Input should be greater than or equal to 1 (got 0)"),
    (["--config", "c.yaml", "--epochs", "5"], "error: c.yaml: training.batch_size: Input should be greater than or equal to 1 (got 0)"),
    (["--config", "c.yaml", "--resume", "x.pt"], "error: --config: cannot be combined with --resume"),
])
def test_errors_blame_the_option_or_file_that_set_the_value(tmp_path, capsys, argv, expected):
    (tmp_path / "c.yaml").write_text("training:\n  batch_size: 0\n")
    assert main(["train", *argv]) == 2
    assert capsys.readouterr().err.startswith(expected)


def test_a_set_value_overrides_the_file_and_is_not_blamed_on_it(tmp_path):
    from engine.commands.trainer_setup import RunOptions, resolve_config

    (tmp_path / "c.yaml").write_text("training:\n  batch_size: 0\n")
    config, _ = resolve_config(RunOptions("c.yaml", "prices 2024.csv", 7, None, ["training.batch_size=32"]))
    assert (config.training.batch_size, config.training.epochs, config.data.source) == (32, 7, "prices 2024.csv")


def test_an_override_parses_as_typed_yaml_and_the_loader_applies_them_in_order():
    assert Override.parse("training.learning_rate=0.002") == Override(("training", "learning_rate"), 0.002, "--set")
    assert Override.parse("data.tickers=[A, B]", "--x").value == ["A", "B"]
    base = {"training": {"epochs": 4}}
    config = load_config(None, [Override(("training", "epochs"), 0, "--epochs"), "training.epochs=9"], base=base)
    assert config.training.epochs == 9 and base == {"training": {"epochs": 4}}  # the last one wins; the base is copied
    with pytest.raises(InputError, match=r"^--epochs: training\.epochs: .* \(got 0\)$"):
        load_config(None, ["training.epochs=9", Override(("training", "epochs"), 0, "--epochs")])
    with pytest.raises(InputError, match=r"^x\.pt \(config\): training\.epochs"):
        load_config(None, base={"training": {"epochs": 0}}, base_label="x.pt (config)")


def test_data_goes_in_verbatim_but_set_is_typed():
    from engine.commands.trainer_setup import RunOptions, resolve_config

    assert resolve_config(RunOptions(data="2024"))[0].data.source == "2024"
    with pytest.raises(InputError, match=r"^--set: data\.source: Input should be a valid string \(got 2024\)"):
        resolve_config(RunOptions(overrides=["data.source=2024"]))


@pytest.fixture
def loader_calls(monkeypatch):
    """Every call of the one loader, whoever makes it: (file, base label, override labels)."""
    import engine.commands.trainer_setup as trainer_setup
    import engine.config as config_module

    calls, real = [], config_module.load_config

    def spy(path=None, overrides=(), base=None, base_label=config_module.DEFAULTS_LABEL):
        calls.append((path, base_label if base is not None else None, [o.label for o in overrides]))
        return real(path, overrides, base, base_label)

    monkeypatch.setattr(config_module, "load_config", spy)
    monkeypatch.setattr(trainer_setup, "load_config", spy)
    import engine.commands.run_plan as run_plan  # the trainer process and the dashboard check a new run's config here

    monkeypatch.setattr(run_plan, "load_config", spy)
    return calls


def _checkpoint(path, config):
    import torch

    torch.save({"format": 1, "model": {}, "optimizer": {}, "epoch": 1, "step": 10, "config": config, "scaler": {},
                "hparams": {}, "rng": {}}, path)


def test_train_resume_and_runs_all_go_through_the_one_loader_and_blame_who_set_the_value(tmp_path, capsys, loader_calls):
    assert main(["train", "--epochs", "0", "--threads", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: --epochs: training.epochs: Input should be greater than or equal to 1")
    assert loader_calls[-1] == (None, None, ["--set", "--epochs"])

    (tmp_path / "config.yaml").write_text("training:\n  batch_size: 0\n")
    assert main(["dashboard", "--data", "synthetic"]) == 2
    assert capsys.readouterr().err.startswith("error: config.yaml: training.batch_size: Input should be greater")
    assert loader_calls[-1] == ("config.yaml", None, ["--data"])

    _checkpoint(tmp_path / "c.pt", {"training": {"epochs": 0}})
    assert main(["train", "--resume", "c.pt", "--set", "seed=3"]) == 2  # ./config.yaml is not read when resuming
    assert capsys.readouterr().err.startswith("error: c.pt (config): training.epochs: Input should be greater")
    assert loader_calls[-1] == (None, "c.pt (config)", ["--set"])

    run = tmp_path / "elsewhere" / "run-1"
    run.mkdir(parents=True)
    write_log(run / "events.jsonl", healthy_run(3))
    (tmp_path / "config.yaml").write_text(f"log_dir: {run.parent}\n")
    assert main(["runs", "--json"]) == 0
    assert [row["path"] for row in json.loads(capsys.readouterr().out)] == [str(run)]
    assert loader_calls[-1] == ("config.yaml", None, [])

    (tmp_path / "config.yaml").write_text("log_dir: 5\n")
    assert main(["runs"]) == 2
    assert capsys.readouterr().err == "error: config.yaml: log_dir: Input should be a valid string (got 5)\n"


def test_runs_without_a_config_file_looks_in_the_models_default_log_dir(capsys, loader_calls):
    assert main(["runs"]) == 2
    assert capsys.readouterr().err == f"error: {Config().log_dir}: no such log directory\n"
    assert loader_calls == [(None, None, [])]


def test_runs_reads_config_yaml_without_importing_torch(tmp_path):
    (tmp_path / "config.yaml").write_text("log_dir: nowhere\n")
    code = "import sys\nfrom tui.cli import main\ncode = main(['runs'])\nprint(code, 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert (result.stdout.split(), result.stderr) == (["2", "False"], "error: nowhere: no such log directory\n")
