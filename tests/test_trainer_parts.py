"""The trainer's collaborators on their own: early stopping on the shared Patience, the run's resources, an epoch's
outcome, the knobs bound from KNOBS, what a checkpoint of an epoch in progress holds, and the loop's bookkeeping."""

import json
import math
from pathlib import Path

import pytest
import torch

from engine.config import CheckpointConfig, EarlyStoppingConfig
from engine.control.channel import ControlChannel
from engine.control.server import ControlServer
from engine.data.dataset import prepare_data
from engine.early_stopping import Patience
from engine.events import EndReason
from engine.knobs import KNOBS
from engine.store.checkpoint import load_checkpoint
from engine.store.log_writer import RunLog
from engine.training import live_knobs, run_resources
from engine.training.checkpoint_policy import CheckpointPolicy
from engine.training.distributed import SINGLE
from engine.training.early_stop import EarlyStop
from engine.training.epoch import ROLLED_BACK
from engine.training.epoch_sums import EpochSums
from engine.training.probes import StepProbe
from engine.training.run_resources import RunResources, planned_run_dir
from engine.training.trainer import Trainer


def make(config, **kwargs):
    return Trainer(config, prepare_data(config), **kwargs)


def logged(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


# -- early stopping ------------------------------------------------------------------------------
def test_early_stop_keeps_the_weights_of_gains_only_and_stops_only_when_enabled():
    model = torch.nn.Linear(2, 1)
    stop = EarlyStop(EarlyStoppingConfig(enabled=True, patience=2, min_delta=0.0))
    assert stop.update(1, 1.0, model)
    kept = stop.best_weights["weight"].clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not stop.update(2, 1.5, model) and torch.equal(stop.best_weights["weight"], kept)  # no copy on a loss
    assert not stop.should_stop and not stop.update(3, 1.2, model) and stop.should_stop
    stop.restore_best(model)
    assert torch.equal(model.weight, kept) and stop.best_or_none == 1.0
    off = EarlyStop(EarlyStoppingConfig(enabled=False, patience=1, min_delta=0.0))
    off.update(1, 1.0, model)
    off.update(2, 2.0, model)
    assert off.patience.exhausted and not off.should_stop


def test_early_stop_state_has_the_checkpoint_keys_older_runs_wrote():
    stop = EarlyStop(EarlyStoppingConfig(patience=5))
    stop.load_state({"best_val": 0.25, "best_epoch": 7, "wait": 3, "best_model": {"w": torch.ones(1)}})
    assert (stop.patience.best, stop.patience.best_epoch, stop.patience.epochs_without_gain) == (0.25, 7, 3)
    assert set(stop.state()) == {"best_val", "best_epoch", "wait", "best_model"} and stop.state()["wait"] == 3


def test_the_trainer_stops_where_the_shared_patience_says(tiny):
    config = tiny("training.epochs=40", "training.early_stopping.patience=2", "training.learning_rate=0.05")
    trainer = make(config)
    trainer.run()
    events = logged(trainer.run_dir)
    patience = Patience(2, config.training.early_stopping.min_delta)
    replayed = next(e["epoch"] for e in events if e["type"] == "epoch" and not patience.update(e["epoch"], e["val_loss"])
                    and patience.exhausted)
    stop = next(e for e in events if e["type"] == "early_stop")
    assert stop["epoch"] == replayed and stop["best_epoch"] == patience.best_epoch
    assert stop["best_val_loss"] == patience.best == trainer.early_stop.patience.best


# -- the run's resources -------------------------------------------------------------------------
def resources(tiny, *overrides):
    return RunResources(tiny(*overrides), SINGLE, ControlChannel())


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_run_resources_close_the_log_and_the_endpoint_on_an_exception(tiny, error):
    run = resources(tiny)
    with pytest.raises(error):
        with run:
            log, endpoint = run.log, run.endpoint
            assert (run.run_dir / "control.sock").exists() and log._fd >= 0
            raise error()
    assert log._fd == -1 and not (run.run_dir / "control.sock").exists() and not endpoint._thread.is_alive()
    assert run.sinks_around(["ui"]) == ["ui"]  # nothing of the closed run is written to any more


def test_the_endpoint_closes_even_when_the_log_cannot_be_flushed(tiny, monkeypatch):
    run = resources(tiny).open()
    endpoint = run.endpoint

    def full_disk(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunLog, "close", full_disk)
    with pytest.raises(OSError):
        run.close()
    assert not (run.run_dir / "control.sock").exists() and not endpoint._thread.is_alive()


def test_an_endpoint_that_fails_to_start_leaves_no_open_log(tiny, monkeypatch):
    opened = []

    class SpiedLog(RunLog):
        def __init__(self, *args):
            super().__init__(*args)
            opened.append(self)

    def broken(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(run_resources, "RunLog", SpiedLog)
    monkeypatch.setattr(ControlServer, "start", broken)
    with pytest.raises(RuntimeError):
        resources(tiny).open()
    assert len(opened) == 1 and opened[0]._fd == -1


def test_a_socket_that_cannot_be_bound_is_a_problem_not_a_failure(tiny, monkeypatch):
    def refused(self):
        raise OSError(98, "Address in use")

    monkeypatch.setattr(ControlServer, "start", refused)
    with resources(tiny) as run:
        assert run.endpoint is None and "control socket unavailable (Address in use)" in run.endpoint_problem
        assert run.sinks_around(["ui"]) == [run.log, "ui"]


def test_a_trainer_that_fails_mid_run_closes_its_resources(tiny):
    trainer = make(tiny())
    forward = trainer.model.forward

    def failing(inputs):
        if trainer.step == 2:
            raise RuntimeError("boom")
        return forward(inputs)

    trainer.model.forward = failing
    with pytest.raises(RuntimeError, match="boom"):
        trainer.run()
    assert not (trainer.run_dir / "control.sock").exists() and trainer.resources.log is None
    assert [e["type"] for e in logged(trainer.run_dir)[-2:]] == ["error", "run_end"]


def test_the_run_directory_is_known_before_the_run_when_resuming(tiny):
    first = make(tiny("training.epochs=1"))
    assert first.run_dir is None  # a new run's directory is made when it opens
    first.run()
    checkpoint = first.run_dir / "checkpoints" / "last.pt"
    assert planned_run_dir(checkpoint) == first.run_dir and planned_run_dir(None, "/x/y") == Path("/x/y")
    config = tiny("training.epochs=2")
    resumed = Trainer(config, prepare_data(config), resume=load_checkpoint(checkpoint), resume_path=str(checkpoint))
    assert resumed.run_dir == first.run_dir and resumed.run_id == first.run_dir.name


# -- an epoch's outcome --------------------------------------------------------------------------
def test_an_epoch_returns_its_event_or_what_cut_it_short(tiny):
    controls = ControlChannel()
    trainer = make(tiny("training.epochs=3", "control_socket=false"), controls=controls)
    with trainer.resources:
        ended = trainer.run_epoch()
        assert ended.event.epoch == 1 and ended.end is None and not ended.rolled_back and trainer.in_progress is None
        controls.stop()
        stopped = trainer.run_epoch()
    assert stopped.end == EndReason.STOPPED and stopped.event is None
    assert trainer.in_progress is not None and trainer.in_progress.batch == 0 and trainer.epoch == 1


def test_a_non_finite_loss_rolls_the_epoch_back(tiny):
    trainer = make(tiny("control_socket=false"), pause_on_nonfinite=True)
    forward = trainer.model.forward
    trainer.model.forward = lambda inputs: tuple(t * float("nan") for t in forward(inputs))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with trainer.resources:
        outcome = trainer.run_epoch()
    assert outcome is ROLLED_BACK and outcome.end is None and trainer.paused and trainer.in_progress is None
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in before.items())


def test_an_epoch_that_diverges_ends_the_run_with_its_event(tiny):
    trainer = make(tiny("control_socket=false"))
    forward = trainer.model.forward
    trainer.model.forward = lambda inputs: tuple(t * float("nan") for t in forward(inputs))
    with trainer.resources:
        outcome = trainer.run_epoch()
    assert outcome.end == EndReason.DIVERGED and math.isnan(outcome.event.train_loss) and trainer.epoch == 1


# -- knobs and checkpoints -----------------------------------------------------------------------
def test_hparams_list_every_knob_in_the_table_in_its_order(tiny):
    trainer = make(tiny())
    trainer.set_knob("dropout", 0.4)
    assert list(trainer.hparams) == list(KNOBS)
    assert trainer.hparams == {"lr": 0.001, "weight_decay": 0.0001, "dropout": 0.4, "clf_weight": 0.5}


def test_a_knob_without_a_binding_is_refused(tiny, monkeypatch):
    monkeypatch.setattr(live_knobs, "KNOBS", {**KNOBS, "momentum": None})
    with pytest.raises(TypeError, match="momentum"):
        make(tiny())


def test_a_mid_epoch_checkpoint_holds_the_epoch_in_progress_and_restores_it(tiny):
    controls = ControlChannel()
    config = tiny("control_socket=false")
    trainer = make(config, controls=controls)
    trainer.sinks.append(lambda e: controls.stop() if e.kind == "step" and e.step == 2 else None)
    with trainer.resources:
        trainer.run_epoch()
    state = trainer.state_dict()
    assert state["batch"] == 2 and torch.equal(state["perm"], trainer.in_progress.order) and state["count"] == 128
    resumed = Trainer(config, prepare_data(config), resume=state)
    epoch = resumed.in_progress
    assert epoch.batch == 2 and torch.equal(epoch.order, state["perm"]) and epoch.sums.count == 128
    assert torch.equal(epoch.sums.totals(), state["acc"]) and resumed.step == 2


# -- the loop's bookkeeping ----------------------------------------------------------------------
def test_checkpoint_policy_writes_best_on_gains_and_last_every_n_epochs(tmp_path):
    saved = []

    def save(reason, name):
        saved.append((reason, name))
        path = tmp_path / name
        path.write_bytes(b"x")
        return str(path)

    policy = CheckpointPolicy(CheckpointConfig(every_epochs=2, keep_last=1), save)
    for epoch, improved in ((1, True), (2, False), (3, False), (4, True)):
        policy.after_epoch(epoch, improved, rolling=epoch < 4)
    assert saved == [("best", "best.pt"), ("periodic", "last.pt"), ("best", "best.pt")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "epoch0002.pt", "last.pt"]
    assert [CheckpointPolicy.final_name(r) for r in EndReason] == ["last.pt", "last.pt", None, "interrupt.pt", None, None]


def test_probe_ratios_are_the_update_and_decay_norms_per_group():
    torch.manual_seed(0)
    layers = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    groups = {"first": list(layers[0].parameters()), "second": list(layers[1].parameters())}
    layers(torch.randn(8, 3)).square().mean().backward()
    probe = StepProbe(groups)
    before = {name: [p.detach().clone() for p in params] for name, params in groups.items()}
    grads = {name: torch.cat([p.grad.flatten() for p in params]) for name, params in groups.items()}
    probe.before_step(weight_decay=0.1, lr=0.5, decoupled=False)
    torch.optim.SGD(layers.parameters(), lr=0.5).step()
    probe.after_step()
    update_ratio, wd_ratio = probe.read()
    for name, params in groups.items():
        old = torch.cat([p.flatten() for p in before[name]])
        new = torch.cat([p.detach().flatten() for p in params])
        assert update_ratio[name] == pytest.approx(float((new - old).norm() / old.norm()), rel=1e-5)
        assert wd_ratio[name] == pytest.approx(float(0.1 * old.norm() / grads[name].norm()), rel=1e-5)


def test_epoch_sums_weight_the_losses_by_batch_size():
    sums = EpochSums(torch.device("cpu"))
    sums.add(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(3.0), torch.tensor(4.0), 10)
    sums.add(torch.tensor(3.0), torch.tensor(2.0), torch.tensor(1.0), torch.tensor(5.0), 5)
    assert sums.totals().tolist() == [25.0, 30.0, 35.0, 9.0] and sums.count == 15
    sums.add(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0), 1)
    assert sums.totals().tolist() == [26.0, 31.0, 36.0, 10.0] and sums.count == 16
