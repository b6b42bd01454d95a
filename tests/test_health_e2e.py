"""Train the tiny model three ways and check the verdicts: healthy, nothing to learn, exploding."""

from engine.dataset import prepare_data
from engine.health import evaluate
from engine.history import History
from engine.trainer import Trainer


def train_and_judge(config):
    history = History()
    trainer = Trainer(config, prepare_data(config), sinks=[history.apply])
    ended = trainer.run()
    return {f.rule: f for f in evaluate(history)}, history, ended


def alarms(findings):
    return sorted(rule for rule, f in findings.items() if f.severity in ("critical", "warning"))


def test_signal_trains_healthily_and_beats_the_baseline(tiny):
    findings, history, _ = train_and_judge(tiny("data.synthetic.days=1200", "model.hidden_size=16",
                                                "training.learning_rate=0.005", "training.epochs=8"))
    assert findings["baseline"].severity == "ok" and findings["baseline"].evidence["skill"] > 0.05
    assert findings["healthy"].severity == "ok"
    assert alarms(findings) == []


def test_no_signal_is_reported_as_nothing_to_learn_not_frozen_weights(tiny):
    findings, history, _ = train_and_judge(tiny("data.synthetic.days=1200", "data.synthetic.signal=0",
                                                "training.epochs=8"))
    assert findings["baseline"].severity in ("info", "warning")
    assert abs(findings["baseline"].evidence["skill"]) < 0.05
    assert findings["step_size"].severity == "ok"  # the weights do move
    assert "not moving" not in findings["frozen"].message
    assert findings["baseline"].evidence["val_loss"] > 0.97 * findings["baseline"].evidence["baseline"]


def test_absurd_learning_rate_explodes(tiny):
    findings, history, ended = train_and_judge(tiny("training.learning_rate=10", "training.epochs=4"))
    exploding = findings["exploding"]
    assert exploding.first_epoch == 1 and "exploded" in exploding.message
    rows = history.rows()
    assert rows[0]["train_loss"] > 10 or rows[0]["train_loss"] != rows[0]["train_loss"]
    if exploding.severity == "critical":  # still exploded at the end: the note's remedy is offered
        assert exploding.suggestion.value == 0.0005
    assert findings["baseline"].severity == "warning"  # far worse than a constant
