"""`stockpred-tui evaluate`: a run's best checkpoint (or any checkpoint) scored per ticker, its total the logged test
event's, and one-line errors for a checkpoint whose data no longer matches or a file that is not there."""

import json

import pytest

from engine.config import load_config
from engine.data.dataset import prepare_data
from engine.data.synthetic import synthetic_prices
from engine.events import TestEvaluation
from engine.held_out_text import scores_text, strategy_text
from engine.store.checkpoint import load_checkpoint, save_checkpoint
from engine.training.trainer import Trainer
from tui.cli import main

BUNDLED_TINY = ["model.hidden_size=8", "model.num_layers=1", "training.epochs=1", "threads=1", "step_event_interval_s=0"]


def train(tmp_path, overrides):
    config = load_config(None, [*overrides, f"log_dir={tmp_path / 'logs'}"])
    events = []
    trainer = Trainer(config, prepare_data(config), sinks=[events.append])
    trainer.run()
    return trainer, next(e for e in events if isinstance(e, TestEvaluation))


def evaluate(capsys, *args):
    code = main(["evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory):
    """A run of the bundled default data (its four tickers), with a tiny model for one epoch."""
    return train(tmp_path_factory.mktemp("bundled"), BUNDLED_TINY)


def test_evaluate_prints_a_line_per_ticker_and_the_logged_total(bundled_run, capsys):
    trainer, event = bundled_run
    code, out, _ = evaluate(capsys, trainer.run_id, "--log-dir", str(trainer.run_dir.parent))
    lines = out.splitlines()
    assert code == 0 and "best.pt (epoch 1) on the test split" in lines[0]
    tickers = {line.split()[0]: line for line in lines[1:-1]}
    assert list(tickers) == ["AAPL", "GOOG", "IBM", "MSFT", "total"] == [*event.tickers, "total"]
    mode = event.strategy["mode"]
    assert tickers["total"].split(None, 1)[1] == f"{scores_text(event.total)} · {strategy_text(event.strategy['total'], mode)}"
    assert tickers["IBM"].split(None, 1)[1] == (f"{scores_text(event.tickers['IBM'])} · "
                                                f"{strategy_text(event.strategy['tickers']['IBM'], mode)}")
    assert "before costs" in lines[-1] and "one path" in lines[-1]


def test_evaluate_json_total_matches_the_event_to_the_digit(bundled_run, capsys):
    trainer, event = bundled_run
    code, out, _ = evaluate(capsys, str(trainer.run_dir / "checkpoints" / "best.pt"), "--json")
    document = json.loads(out)
    assert code == 0 and document["split"] == "test" and document["epoch"] == event.checkpoint_epoch
    for key, value in event.total.items():
        assert document["total"][key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
    assert sum(t["windows"] for t in document["tickers"].values()) == event.total["windows"]


def test_evaluate_on_val_with_short_and_a_cost(bundled_run, capsys):
    trainer, event = bundled_run
    code, out, _ = evaluate(capsys, str(trainer.run_dir), "--split", "val", "--json", "--short", "--cost-bps", "5")
    document = json.loads(out)
    assert code == 0 and document["total"]["windows"] == len(trainer.data.ends["val"])
    assert document["strategy"]["mode"] == "long/short" and document["strategy"]["cost_bps"] == 5.0


def _train_on_csv(tmp_path):
    frame = synthetic_prices(load_config(None, ["data.synthetic.days=300"]).data.synthetic, 7)
    csv = tmp_path / "prices.csv"
    frame.to_csv(csv, index=False)
    trainer, _ = train(tmp_path, ["data.window=8", "data.volatility_window=5", f"data.source={csv}", "data.tickers=[SYN0, SYN1]",
                                  *BUNDLED_TINY])
    return trainer, frame, csv


def test_a_checkpoint_whose_data_changed_is_one_line_exit_2(tmp_path, capsys):
    trainer, frame, csv = _train_on_csv(tmp_path)
    frame.loc[5, ["close", "adj_close"]] *= 1.01
    frame.to_csv(csv, index=False)
    code, out, err = evaluate(capsys, str(trainer.run_dir))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "best.pt: was trained on other data than" in err and str(csv) in err


def test_a_checkpoint_scaled_otherwise_or_with_other_features_is_refused(tmp_path, capsys):
    trainer, _, _ = _train_on_csv(tmp_path)
    state = load_checkpoint(trainer.run_dir / "checkpoints" / "best.pt")
    state["scaler"]["target_std"] *= 2
    save_checkpoint({k: v for k, v in state.items() if k != "format"}, tmp_path / "scaled.pt")
    code, _, err = evaluate(capsys, str(tmp_path / "scaled.pt"))
    assert code == 2 and "scaled.pt: was scaled with other training statistics (scaler.target_std)" in err
    state["scaler"]["feature_mean"] = state["scaler"]["feature_mean"][:5]
    save_checkpoint({k: v for k, v in state.items() if k != "format"}, tmp_path / "features.pt")
    code, _, err = evaluate(capsys, str(tmp_path / "features.pt"))
    assert code == 2 and "features.pt: was trained on 5 features; this version builds 6" in err


def test_missing_checkpoint_run_or_best_is_one_line_exit_2(tmp_path, capsys):
    code, _, err = evaluate(capsys, str(tmp_path / "gone.pt"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'gone.pt'}: no such file; expected a checkpoint (.pt) written by stockpred-tui"
    code, _, err = evaluate(capsys, "no-such-run", "--log-dir", str(tmp_path))
    assert code == 2 and "no-such-run: no such run" in err
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    code, _, err = evaluate(capsys, str(tmp_path / "run"))
    assert code == 2 and "has no best checkpoint (checkpoints/best.pt)" in err
