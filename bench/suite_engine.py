"""Engine runs for the diagnosis suite: faults induced through config overrides (the same keys as `--set`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from engine.config import load_config
from engine.control.channel import ControlChannel
from engine.data.dataset import prepare_data
from engine.events import EpochEvent
from engine.training.trainer import Trainer

SMALL = ["data.source=synthetic", "data.window=10", "data.volatility_window=5", "model.hidden_size=16", "model.num_layers=1",
         "training.batch_size=64", "step_event_interval_s=100000", "checkpoint.every_epochs=0", "control_socket=false"]

# name, label, onset (None: computed from the log, or no fault), epochs, overrides, mid-run changes {epoch: {knob: value}}
RUNS = [
    ("healthy_syn_s1", "healthy", None, 20, ["data.synthetic.days=1200", "seed=1"], {}),
    ("healthy_syn_s2_big", "healthy", None, 15, ["data.synthetic.days=2000", "model.hidden_size=32", "seed=2"], {}),
    ("healthy_syn_s3_2layer", "healthy", None, 25, ["data.synthetic.days=900", "model.num_layers=2", "seed=3",
                                                    "training.learning_rate=0.002"], {}),
    ("healthy_syn_nodropout", "healthy", None, 20, ["data.synthetic.days=1500", "model.dropout=0", "seed=4"], {}),
    ("healthy_syn_notes_mistake", "healthy", None, 20, ["data.synthetic.days=1200", "training.learning_rate=0.0005",
                                                        "training.weight_decay=0.001", "model.dropout=0.4", "seed=5"], {}),
    ("healthy_syn_pause_tweak", "healthy", None, 20, ["data.synthetic.days=1200", "seed=6"],
     {8: {"dropout": 0.35, "weight_decay": 0.0002}}),
    ("healthy_syn_unscaled", "healthy", None, 15, ["data.synthetic.days=1200", "data.scale_target=false", "seed=7"], {}),
    ("noisy_syn_small_val", "noisy-fine", None, 25, ["data.synthetic.days=500", "data.synthetic.signal=0.3", "seed=8",
                                                     "training.batch_size=32"], {}),
    ("healthy_bundled_aapl", "healthy", None, 8, ["data.source=bundled", "data.tickers=[AAPL]", "seed=9"], {}),
    ("healthy_bundled_two", "healthy", None, 6, ["data.source=bundled", "data.tickers=[IBM, MSFT]", "seed=10"], {}),
    ("nothing_syn_signal0", "nothing-learnable", None, 15, ["data.synthetic.days=1200", "data.synthetic.signal=0", "seed=11"], {}),
    ("nothing_syn_unscaled", "nothing-learnable", None, 15, ["data.synthetic.days=1200", "data.synthetic.signal=0",
                                                             "data.scale_target=false", "seed=12"], {}),
    ("frozen_syn_lr1e-7", "frozen-weights", 1, 15, ["data.synthetic.days=1200", "training.learning_rate=1e-7", "seed=13"], {}),
    ("frozen_syn_lr_cut", "frozen-weights", 6, 18, ["data.synthetic.days=1200", "seed=14"], {5: {"lr": 1e-8}}),
    ("unstable_syn_lr10_noclip", "unstable-lr", 1, 6, ["data.synthetic.days=800", "training.learning_rate=10", "training.grad_clip=0",
                                                  "seed=15"], {}),
    ("unstable_syn_lr_jump_mid", "unstable-lr", 7, 14, ["data.synthetic.days=800", "training.grad_clip=0", "seed=16"],
     {6: {"lr": 1.0}}),
    ("exploding_syn_lr10_h64", "exploding", None, 5, ["data.synthetic.days=800", "training.learning_rate=10", "model.hidden_size=64",
                                                     "training.grad_clip=0", "seed=17"], {}),
    ("unstable_syn_lr0.3_noclip", "unstable-lr", 1, 20, ["data.synthetic.days=1200", "training.learning_rate=0.3",
                                                         "training.grad_clip=0", "seed=18"], {}),
    ("unstable_syn_lr1", "unstable-lr", 1, 20, ["data.synthetic.days=1200", "training.learning_rate=1.0", "seed=24"], {}),
    ("overfit_syn_small_big", "overfitting", None, 40, ["data.synthetic.days=300", "model.hidden_size=96", "model.dropout=0",
                                                        "training.weight_decay=0", "training.learning_rate=0.005",
                                                        "training.batch_size=16", "seed=19"], {}),
    ("overfit_syn_signal0", "overfitting", None, 40, ["data.synthetic.days=300", "data.synthetic.signal=0.2",
                                                      "model.hidden_size=128", "model.num_layers=2", "model.dropout=0",
                                                      "training.weight_decay=0", "training.learning_rate=0.003",
                                                      "training.batch_size=16", "seed=20"], {}),
    ("healthy_syn_l2_0.1_small_model", "healthy", None, 20, ["data.synthetic.days=1200", "training.weight_decay=0.1", "seed=21"], {}),
    ("overreg_syn_l2_0.1_h64", "over-regularised", 2, 15, ["data.synthetic.days=1200", "training.weight_decay=0.1", "seed=26",
                                                           "model.hidden_size=64", "model.num_layers=2"], {}),
    ("overreg_syn_l2_0.3", "over-regularised", 2, 15, ["data.synthetic.days=900", "training.weight_decay=0.3", "seed=22",
                                                       "model.hidden_size=32"], {}),
    ("leak_bundled_shifted", "leak", 1, 6, ["data.source=@LEAK", "data.tickers=[AAPL, IBM]", "seed=23"], {}),
    # The default model (hidden 128, 2 layers): the Adam L2 0.1 and the note's "mistake" settings.
    ("default_model_l2_0.1", "over-regularised", 1, 12, ["data.window=30", "data.volatility_window=20", "model.hidden_size=128", "model.num_layers=2", "training.batch_size=256", "training.weight_decay=0.1"], {}),
    ("default_model_notes_mistake", "healthy", None, 15, ["data.window=30", "data.volatility_window=20", "model.hidden_size=128", "model.num_layers=2", "training.batch_size=256", "training.learning_rate=0.0005", "training.weight_decay=0.001",
                                                          "model.dropout=0.4"], {}),
    # The default model on the four bundled tickers, no fault induced: it memorises after ~20 epochs (10 min to build).
    ("default_model_bundled_45", "overfitting", None, 45, ["data.window=30", "data.volatility_window=20", "model.hidden_size=128", "model.num_layers=2", "training.batch_size=256", "data.source=bundled", "seed=7"], {}),
    # Batch 2: written after the rules, scored once before any further change (README: "second batch").
    ("b2_healthy_2500d_h24", "healthy", None, 25, ["data.synthetic.days=2500", "model.hidden_size=24", "seed=31"], {}),
    ("b2_overfit_h48_2layer_lr3e-3", "overfitting", None, 30, ["data.synthetic.days=1000", "model.hidden_size=48", "model.num_layers=2",
                                                               "training.learning_rate=0.003", "model.dropout=0.1", "seed=32"], {}),
    ("b2_healthy_3tickers_signal0.4", "healthy", None, 20, ["data.synthetic.days=1600", "data.synthetic.tickers=3", "seed=33",
                                                             "data.synthetic.signal=0.4"], {}),
    ("b2_healthy_two_tweaks", "healthy", None, 20, ["data.synthetic.days=1200", "seed=34"],
     {6: {"dropout": 0.35, "weight_decay": 0.0002}, 12: {"lr": 0.00125}}),
    ("b2_healthy_bundled_goog", "healthy", None, 8, ["data.source=bundled", "data.tickers=[GOOG]", "seed=35"], {}),
    ("b2_healthy_bundled_aapl_msft", "healthy", None, 8, ["data.source=bundled", "data.tickers=[AAPL, MSFT]", "seed=36",
                                                          "model.hidden_size=32"], {}),
    ("b2_nothing_signal0_h32", "nothing-learnable", None, 20, ["data.synthetic.days=1500", "data.synthetic.signal=0", "seed=37",
                                                               "model.hidden_size=32"], {}),
    ("b2_overfit_250d_lr0.01", "overfitting", None, 35, ["data.synthetic.days=250", "model.hidden_size=64", "model.dropout=0",
                                                         "training.weight_decay=0", "training.learning_rate=0.01",
                                                         "training.batch_size=16", "seed=38"], {}),
    ("b2_overfit_350d_h128", "overfitting", None, 35, ["data.synthetic.days=350", "model.hidden_size=128", "model.dropout=0",
                                                       "training.weight_decay=0", "training.learning_rate=0.003",
                                                       "training.batch_size=16", "seed=39", "data.synthetic.signal=0.3"], {}),
    ("b2_frozen_lr3e-8", "frozen-weights", 1, 12, ["data.synthetic.days=900", "training.learning_rate=3e-8", "seed=40"], {}),
    ("b2_unstable_lr0.5_noclip", "unstable-lr", 1, 15, ["data.synthetic.days=1000", "training.learning_rate=0.5",
                                                        "training.grad_clip=0", "seed=41"], {}),
    ("b2_unstable_lr2", "unstable-lr", 1, 15, ["data.synthetic.days=1000", "training.learning_rate=2", "seed=42"], {}),
    ("b2_exploding_lr8_h48", "exploding", None, 5, ["data.synthetic.days=800", "training.learning_rate=8", "model.hidden_size=48",
                                                    "training.grad_clip=0", "seed=43"], {}),
    ("b2_overreg_l2_0.2_h48", "over-regularised", 2, 15, ["data.synthetic.days=1200", "training.weight_decay=0.2",
                                                          "model.hidden_size=48", "model.num_layers=2", "seed=44"], {}),
    ("b2_leak_bundled_h32", "leak", 1, 5, ["data.source=@LEAK", "data.tickers=[AAPL, IBM]", "seed=45", "model.hidden_size=32"], {}),
]


def _mid_run(controls: ControlChannel, changes: dict):
    """An event sink that sets knobs when given epochs end (the keys a person would press)."""
    def sink(event):
        if isinstance(event, EpochEvent):
            for name, value in changes.get(event.epoch, {}).items():
                controls.set(name, value)
    return sink


def train_engine(overrides: list[str], epochs: int, changes: dict, out: Path) -> None:
    """Train once and keep events.jsonl without step samples."""
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(None, [*SMALL, *overrides, f"training.epochs={epochs}", f"log_dir={tmp}",
                                    "training.early_stopping.enabled=false"])
        controls = ControlChannel()
        trainer = Trainer(config, prepare_data(config), sinks=[_mid_run(controls, changes)], controls=controls)
        trainer.run()
        lines = (trainer.run_dir / "events.jsonl").read_text().splitlines()
    kept = [line for line in lines if not line.startswith('{"type": "step"')]
    out.write_text("\n".join(kept) + "\n")


def leak_csv(path: Path) -> Path:
    """The bundled prices with Open replaced by the next day's Close: a look-ahead leak in one column."""
    import pandas as pd

    from engine.data.prices import BUNDLED_PRICES

    frame = pd.read_csv(BUNDLED_PRICES)
    frame = frame[frame["Ticker"].isin(["AAPL", "IBM"])] if "Ticker" in frame else frame
    parts = []
    for _, group in frame.groupby("Ticker", sort=True):
        group = group.sort_values("Date").copy()
        group["Open"] = group["Close"].shift(-1)
        group["High"] = group[["High", "Open"]].max(axis=1)
        group["Low"] = group[["Low", "Open"]].min(axis=1)
        parts.append(group.iloc[:-1])
    pd.concat(parts).to_csv(path, index=False)
    return path
