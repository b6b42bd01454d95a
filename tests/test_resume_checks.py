"""A real checkpoint, changed the ways a damaged or mismatched one can be: a resume refuses it with one line naming
the file and what does not fit, before it trains or touches the run directory."""

from __future__ import annotations

import math

import pytest
import torch

from engine.config import load_config
from engine.data.dataset import prepare_data
from tests.conftest import TINY
from tests.run_helpers import events, set_args
from tests.test_bad_inputs import tree
from tui.cli import main


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A finished tiny run's last.pt (loaded) and the number of training windows its data gives."""
    root = tmp_path_factory.mktemp("saved")
    assert main(["train", *set_args([*TINY, f"log_dir={root}", "training.epochs=1"])]) == 0
    (checkpoint,) = root.glob("*/checkpoints/last.pt")
    windows = len(prepare_data(load_config(None, TINY)).ends["train"])
    return torch.load(checkpoint, weights_only=True), windows


def _mid_epoch(windows: int, batch: int, length: int | None = None) -> dict:
    """What a save in the middle of an epoch adds: its order, how far it got, the sums so far."""
    return {"perm": torch.randperm(length or windows), "batch": batch, "acc": torch.zeros(4), "count": batch * 64}


CASES = {
    "perm-of-other-data": (lambda w: _mid_epoch(w, 1, w + 3), [], "was saved mid-epoch over {w3} training windows; "
                           "this data and config give {w}"),
    "batch-past-the-epoch": (lambda w: _mid_epoch(w, math.ceil(w / 64) + 1), [],
                             "was saved at batch {b1} of its epoch; batch_size 64 gives {b} batches per epoch"),
    "batch-size-changed": (lambda w: _mid_epoch(w, 2), ["--set", "training.batch_size=100000"],
                           "batch_size 100000 gives 1 batches per epoch (training.batch_size changed with --set?)"),
    "scaler-of-fewer-features": (lambda w: {"scaler": {"feature_mean": [0.0] * 5, "feature_std": [1.0] * 5,
                                                       "target_mean": 0.0, "target_std": 1.0}}, [],
                                 "'scaler.feature_mean' holds 5 values; the model takes 6 features"),
    "no-early-stopping-state": (lambda w: {"early": None}, [], "is a damaged stockpred-tui checkpoint: lacks early."),
    "no-shuffle-state": (lambda w: {"rng": {"torch": torch.get_rng_state()}}, [], "lacks rng.shuffle"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_checkpoint_that_does_not_fit_the_resume_is_one_line(tmp_path, capsys, saved, case):
    state, windows = saved
    change, options, expected = CASES[case]
    torch.save({**state, **change(windows)}, tmp_path / "c.pt")
    before = tree(tmp_path)
    assert main(["train", "--resume", "c.pt", *options]) == 2
    err = capsys.readouterr().err
    batches = math.ceil(windows / 64)
    message = expected.format(w=windows, w3=windows + 3, b=batches, b1=batches + 1)
    assert err.count("\n") == 1 and err.startswith("error: c.pt") and message in err, err
    assert tree(tmp_path) == before


def test_the_untouched_checkpoint_resumes(tmp_path, capsys, saved):
    state, windows = saved
    torch.save({**state, **_mid_epoch(windows, 1)}, tmp_path / "c.pt")  # a valid mid-epoch save fits as well
    assert main(["train", "--resume", "c.pt", "--epochs", "2", "--set", f"log_dir={tmp_path / 'logs'}"]) == 0
    assert "completed after 2 epochs" in capsys.readouterr().out


@pytest.mark.parametrize("sets, changed", [
    (["training.learning_rate=0.3"], {"lr": 0.3}),
    (["model.dropout=0.1", "training.clf_weight=2"], {"dropout": 0.1, "clf_weight": 2.0}),
    (["training.learning_rate=0.001", "training.grad_clip=0.5"], {}),  # the value saved, and a key that is no knob
])
def test_a_knob_set_on_resume_is_put_in_force_and_logged_from_set(tmp_path, saved, sets, changed):
    state, _ = saved
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    torch.save(state, run / "checkpoints" / "last.pt")
    (run / "events.jsonl").write_text("")  # the checkpoint's run: the resume continues its log
    assert main(["train", "--resume", str(run / "checkpoints" / "last.pt"), "--epochs", "2", *set_args(sets)]) == 0
    logged = events(run)
    start = next(i for i, e in enumerate(logged) if e["type"] == "run_start")
    first_step = next(i for i, e in enumerate(logged) if e["type"] == "step")
    hparams = [e for e in logged[start:first_step] if e["type"] == "hparam"]
    assert {e["name"]: e["new"] for e in hparams} == changed and {e["source"] for e in hparams} <= {"--set"}
    assert all(e["old"] == state["hparams"][e["name"]] for e in hparams)
    epoch = next(e for e in logged if e["type"] == "epoch")
    in_force = {"lr": epoch["lr"], "dropout": epoch["dropout"], "clf_weight": epoch["clf_weight"]}
    assert in_force == {**{k: state["hparams"][k] for k in in_force}, **changed}  # trained with the new values
