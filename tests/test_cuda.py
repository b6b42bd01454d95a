"""The CUDA path on a GPU: training, checkpoints moved between CUDA and CPU, `device: auto`, NVML figures, torchrun
with nccl. Every test is marked `cuda` and skips without a CUDA device (bench/gpu_check.sh runs them).
"""

import subprocess

import pytest
import torch

from engine.training.device_stats import NvmlStats, provider_for
from engine.commands.multiproc import torchrun_argv
from engine.commands.trainer_setup import RunOptions
from engine.store.checkpoint import load_checkpoint
from engine.training.distributed import resolve_device
from tests.conftest import TINY
from tests.run_helpers import events, only_run_dir
from tests.test_device_moves import run_group_of_one, run_with_events, saved_mid_epoch, train_losses

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


def test_a_short_training_on_cuda_logs_and_checkpoints_right(tmp_path):
    logs = tmp_path / "logs"
    trainer, seen = run_with_events(RunOptions(overrides=[*TINY, "device=cuda", f"log_dir={logs}"]))
    log = events(only_run_dir(logs))
    assert next(e for e in log if e["type"] == "run_start")["device"] == "cuda"
    epochs = [e for e in log if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3] and epochs[0]["train_loss"] != epochs[-1]["train_loss"]
    assert log[-1]["type"] == "run_end" and log[-1]["reason"] == "completed"
    state = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert state["epoch"] == 3 and state["rng"]["cuda"].dtype == torch.uint8
    for name, value in trainer.model.state_dict().items():  # loaded onto the CPU, equal to the weights on the GPU
        assert state["model"][name].device.type == "cpu" and torch.equal(state["model"][name], value.cpu())


@pytest.mark.parametrize("saved_on, resumed_on", [("cuda", "cpu"), ("cpu", "cuda")])
def test_a_checkpoint_saved_mid_epoch_on_one_device_resumes_on_the_other(tmp_path, saved_on, resumed_on):
    logs = tmp_path / "logs"
    _, straight = run_with_events(RunOptions(overrides=[*TINY, "training.epochs=2", f"device={saved_on}",
                                                        f"log_dir={tmp_path / 'straight'}"]))
    path = saved_mid_epoch([*TINY, "training.epochs=2", f"device={saved_on}", f"log_dir={logs}"])
    trainer, seen = run_with_events(RunOptions(resume=path, overrides=[f"device={resumed_on}", f"log_dir={logs}"]))
    assert trainer.device.type == resumed_on and next(e for e in seen if e.kind == "run_start").device == resumed_on
    losses = train_losses(seen)
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    # The epoch in progress keeps its saved order; the devices' arithmetic differs (TF32 in cuDNN) by far less than this.
    assert losses[0] == pytest.approx(train_losses(straight)[0], rel=1e-2)
    assert load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")["epoch"] == 2


def test_device_auto_picks_cuda(tmp_path):
    assert resolve_device("auto").type == "cuda"
    trainer, _ = run_with_events(RunOptions(overrides=[*TINY, "training.epochs=1", f"log_dir={tmp_path}"]))
    assert trainer.device.type == "cuda" and trainer.data.features.device.type == "cuda"


def test_the_nvml_readers_return_real_figures():
    pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed (pip install -e '.[gpu]')")
    torch.zeros(1, device="cuda")  # this process holds a context, so the card has memory in use
    assert isinstance(provider_for("cuda:0"), NvmlStats)
    stats = NvmlStats(0).read()
    assert stats.name == "gpu" and 0 <= stats.util_percent <= 100
    assert 0 < stats.mem_used < stats.mem_total
    assert 10 < stats.temperature_c < 110 and stats.power_w > 0
    assert stats.rss > 0


def test_torchrun_with_one_process_trains_on_cuda(tmp_path):
    logs = tmp_path / "logs"
    argv = torchrun_argv(RunOptions(overrides=[*TINY, "control_socket=false", f"log_dir={logs}"]), 1)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    log = events(only_run_dir(logs))
    assert next(e for e in log if e["type"] == "run_start")["device"] == "cuda"
    assert log[-1]["reason"] == "completed"


def test_a_group_of_one_trains_through_the_collectives_on_nccl(tmp_path):
    logs = tmp_path / "logs"
    done = run_group_of_one([*TINY, "control_socket=false", f"log_dir={logs}"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ended completed at epoch 3" in done.stdout
    run_dir = only_run_dir(logs)
    assert next(e for e in events(run_dir) if e["type"] == "run_start")["device"] == "cuda:0"  # LOCAL_RANK's GPU: nccl
    assert len(load_checkpoint(run_dir / "checkpoints" / "last.pt")["rng"]["torch_ranks"]) == 1
