"""Config validation: good files, each class of bad input, overrides through the same checks."""

from pathlib import Path

import pytest
import yaml

from engine.config import Config, load_config
from engine.errors import InputError
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
    ("model:\n  dropout: 1.0\n", "model.dropout: Input should be less than 1"),
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
