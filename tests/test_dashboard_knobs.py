"""One knob registry: config validation, typed values and key steps agree on every limit."""

import pytest

from engine.config import Config, ModelConfig, TrainingConfig, load_config
from engine.errors import InputError
from engine.knobs import KNOBS, knob_by_path, validate_knob


def _field_limits(model, name):
    limits = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in model.model_fields[name].metadata}
    return limits.get("Ge", limits.get("Gt")), limits.get("Le", limits.get("Lt"))


@pytest.mark.parametrize("name", sorted(KNOBS))
def test_config_limits_are_the_registrys(name):
    knob = KNOBS[name]
    section, field = knob.config_path.split(".")
    model = {"model": ModelConfig, "training": TrainingConfig}[section]
    assert _field_limits(model, field) == (knob.low, knob.high)
    assert knob_by_path(knob.config_path) is knob
    assert getattr(getattr(Config(), section), field) <= knob.high


def test_dropout_key_and_dialog_stop_at_the_same_value():
    dropout = KNOBS["dropout"]
    value = 0.9
    for _ in range(5):
        value = dropout.stepped(value, 1)
    assert value == 0.95 == validate_knob("dropout", "0.95")
    with pytest.raises(InputError, match="dropout: must be at most 0.95"):
        validate_knob("dropout", "0.99")
    with pytest.raises(InputError, match="--set: model.dropout"):
        load_config(None, ["model.dropout=0.99"])
    assert dropout.stepped(0.02, -1) == 0.0


def test_lr_cap_is_the_same_for_config_and_controls():
    assert validate_knob("lr", 10) == 10 and load_config(None, ["training.learning_rate=10"]).training.learning_rate == 10
    with pytest.raises(InputError, match="learning rate: must be at most 10"):
        validate_knob("lr", "11")
    with pytest.raises(InputError, match="less than or equal to 10"):
        load_config(None, ["training.learning_rate=11"])
    with pytest.raises(InputError, match="must be above 0"):
        validate_knob("lr", 0)
    assert KNOBS["lr"].stepped(8.0, 1) == 10.0 and KNOBS["lr"].stepped(0.001, 1) == pytest.approx(0.00125)
    assert KNOBS["lr"].step_label(-1) == "÷1.25" and KNOBS["dropout"].step_label(1) == "+0.05"
