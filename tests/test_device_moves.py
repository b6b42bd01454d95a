"""The CUDA paths that a CPU can reach: a checkpoint from another kind of device, and a process group of one.

tests/test_cuda.py runs the same on a GPU (CUDA to CPU and back, nccl); these run everywhere.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.control.channel import ControlChannel
from engine.commands.trainer_setup import RunOptions, build_trainer
from engine.store.checkpoint import load_checkpoint, save_checkpoint
from engine.training.training_state import restore_shuffle
from tests.conftest import TINY
from tests.run_helpers import events, only_run_dir

REPO = Path(__file__).resolve().parents[1]
CUDA_STATE_BYTES = 16  # what torch.cuda's Philox generator saves: a seed and an offset


def run_with_events(options, sinks=(), controls=None):
    """Build and run a trainer from CLI-style options; the trainer and every event it emitted."""
    seen = []
    trainer = build_trainer(options, sinks=[*sinks, seen.append], controls=controls)
    trainer.run()
    return trainer, seen


def saved_mid_epoch(overrides, at_step=3):
    """A run stopped at `at_step` with a checkpoint saved there; the checkpoint's path."""
    controls = ControlChannel()

    def save_and_stop(event):
        if event.kind == "step" and event.step == at_step:
            controls.save()
            controls.stop()

    _, seen = run_with_events(RunOptions(overrides=overrides), [save_and_stop], controls)
    return next(e.path for e in seen if e.kind == "checkpoint")


def train_losses(seen):
    """Training loss per epoch, in order."""
    return [e.train_loss for e in seen if e.kind == "epoch"]


def test_a_state_of_the_same_kind_is_restored_and_another_kind_reseeds():
    source = torch.Generator().manual_seed(7)
    torch.randperm(10, generator=source)
    target = torch.Generator()
    restore_shuffle(target, source.get_state(), reseed=99)
    assert torch.equal(target.get_state(), source.get_state())
    restore_shuffle(target, torch.zeros(CUDA_STATE_BYTES, dtype=torch.uint8), reseed=99)
    assert torch.equal(target.get_state(), torch.Generator().manual_seed(99).get_state())


def test_a_checkpoint_whose_shuffle_came_from_a_gpu_resumes_on_the_cpu(tmp_path):
    logs = tmp_path / "logs"
    overrides = [*TINY, "training.epochs=2", f"log_dir={logs}", "device=cpu"]
    _, straight = run_with_events(RunOptions(overrides=[*TINY, "training.epochs=2", f"log_dir={tmp_path / 'straight'}"]))
    path = saved_mid_epoch(overrides)
    state = load_checkpoint(path)
    state["rng"]["shuffle"] = torch.zeros(CUDA_STATE_BYTES, dtype=torch.uint8)  # as a CUDA generator saves it
    state["rng"]["cuda"] = torch.zeros(CUDA_STATE_BYTES, dtype=torch.uint8)
    moved = tmp_path / "from-gpu.pt"
    save_checkpoint({k: v for k, v in state.items() if k != "format"}, moved)
    trainer = build_trainer(RunOptions(resume=str(moved), overrides=[f"log_dir={logs}"]))
    assert torch.equal(trainer.shuffle.get_state(), torch.Generator().manual_seed(trainer.config.seed).get_state())
    seen = []
    trainer.sinks.append(seen.append)
    trainer.run()
    losses = train_losses(seen)
    assert len(losses) == 2
    assert losses[0] == pytest.approx(train_losses(straight)[0], abs=1e-6)  # the epoch in progress kept its order
    assert losses[1] != pytest.approx(train_losses(straight)[1], abs=1e-9)  # later epochs draw a new one


def run_group_of_one(overrides, tmp_path):
    """tests/group_of_one.py under torchrun with one process; its completed process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
            str(REPO / "tests" / "group_of_one.py"), *overrides]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_a_group_of_one_trains_through_the_collectives_on_gloo(tmp_path):
    logs = tmp_path / "logs"
    done = run_group_of_one([*TINY, "device=cpu", "control_socket=false", f"log_dir={logs}"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ended completed at epoch 3" in done.stdout
    run_dir = only_run_dir(logs)
    start = next(e for e in events(run_dir) if e["type"] == "run_start")
    assert start["device"] == "cpu"
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert len(state["rng"]["torch_ranks"]) == 1  # gathered over the group: the data-parallel path ran
    assert [k.startswith("module.") for k in state["model"]] == [False] * len(state["model"])  # the bare model's keys
