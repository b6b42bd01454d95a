"""torchrun on CPU (gloo): two ranks equal one process at twice the batch; controls reach every rank at the same step."""

import json
import os
import signal
import subprocess

import pytest

from engine.store.checkpoint import load_checkpoint, save_checkpoint
from engine.control.client import ControlClient
from engine.training.distributed import TRACE_ENV
from engine.commands.multiproc import torchrun_argv
from engine.commands.trainer_setup import RunOptions, build_trainer
from tests.conftest import TINY
from tests.run_helpers import ENDLESS, epochs_logged, events, kill_quietly, only_run_dir, wait_for
from tui.cli import main

EQUAL = [*TINY, "model.dropout=0", "control_socket=false"]


def start_job(overrides, tmp_path, resume=None):
    """Two ranks under torch.distributed.run, each tracing the controls it applies."""
    env = {**os.environ, TRACE_ENV: str(tmp_path), "OMP_NUM_THREADS": "1"}
    argv = torchrun_argv(RunOptions(resume=resume, overrides=overrides), 2)
    with open(tmp_path / "torchrun.log", "a") as output:  # what the ranks and the agent said, for a failure's message
        return subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def job_output(tmp_path) -> str:
    """The last lines torchrun and the ranks wrote."""
    return "\n".join((tmp_path / "torchrun.log").read_text(errors="replace").splitlines()[-25:])


def traced(tmp_path, rank):
    lines = (tmp_path / f"rank{rank}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def epoch_losses(run_dir):
    return [(e["train_loss"], e["val_loss"]) for e in events(run_dir) if e["type"] == "epoch"]


def test_two_ranks_at_batch_128_match_one_process_at_batch_256(tmp_path):
    two, one = tmp_path / "two", tmp_path / "one"
    assert main(["train", "--nproc", "2", *sum((["--set", o] for o in [*EQUAL, "training.batch_size=128",
                                                                        f"log_dir={two}"]), [])]) == 0
    build_trainer(RunOptions(overrides=[*EQUAL, "training.batch_size=256", f"log_dir={one}"])).run()
    parallel, single = epoch_losses(only_run_dir(two)), epoch_losses(only_run_dir(one))
    assert len(parallel) == len(single) == 3
    for (train_p, val_p), (train_s, val_s) in zip(parallel, single):
        assert train_p == pytest.approx(train_s, abs=1e-5) and val_p == pytest.approx(val_s, abs=1e-5)
    assert parallel[0] != parallel[-1]  # it trained
    start = next(e for e in events(only_run_dir(two)) if e["type"] == "run_start")
    assert [e["type"] for e in events(only_run_dir(two))].count("run_end") == 1 and start["device"] == "cpu"


def test_controls_apply_at_the_same_step_on_every_rank_and_stop_ends_both(tmp_path):
    logs = tmp_path / "logs"
    job = start_job([*ENDLESS, f"log_dir={logs}"], tmp_path)
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "rank 0 opens the run")
        wait_for(lambda: epochs_logged(run_dir) >= 1, "a first epoch")
        client = ControlClient(run_dir, "test", backlog=False)
        client.pause()
        wait_for(lambda: any(e["type"] == "paused" for e in events(run_dir)), "the pause")
        client.set("lr", 0.002)
        client.save()
        client.resume()
        wait_for(lambda: any(e["type"] == "resumed" for e in events(run_dir)), "the resume")
        resumed_at = next(e["step"] for e in events(run_dir) if e["type"] == "resumed")
        wait_for(lambda: max(e.get("step", 0) for e in events(run_dir)) > resumed_at + 5, "steps after the resume")
        client.stop()
        client.close()
        assert job.wait(timeout=300) == 0, job_output(tmp_path)
    finally:
        kill_quietly(job.pid)
    applied = [[(r["step"], r["action"], r["name"], r["value"]) for r in traced(tmp_path, rank) if "step" in r]
               for rank in (0, 1)]
    assert applied[0] == applied[1]
    assert [a[1] for a in applied[0]] == ["pause", "set", "save", "resume", "stop"]
    logged = events(run_dir)
    assert [e["type"] for e in logged].count("run_end") == 1 and logged[-1]["reason"] == "stopped"
    change = next(e for e in logged if e["type"] == "hparam")
    assert change["new"] == 0.002 and change["step"] == applied[0][1][0]
    assert any(e["type"] == "checkpoint" and e["reason"] == "manual" for e in logged)


def test_a_killed_rank_ends_the_job_with_an_error_and_the_newest_checkpoint_resumes(tmp_path):
    logs = tmp_path / "logs"
    job = start_job([*ENDLESS, f"log_dir={logs}", "control_socket=false"], tmp_path)
    try:
        run_dir = wait_for(lambda: only_run_dir(logs), "rank 0 opens the run")
        wait_for(lambda: epochs_logged(run_dir) >= 2, "two epochs")
        os.kill(traced(tmp_path, 1)[0]["pid"], signal.SIGKILL)
        assert job.wait(timeout=300) != 0
    finally:
        os.killpg(job.pid, signal.SIGKILL) if job.poll() is None else None
    logged = events(run_dir)
    assert any(e["type"] == "error" and e["fatal"] for e in logged)
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "error"
    last = epochs_logged(run_dir)

    resumed = start_job([f"training.epochs={last + 1}"], tmp_path, resume=str(run_dir / "checkpoints" / "last.pt"))
    try:
        assert resumed.wait(timeout=300) == 0
    finally:
        kill_quietly(resumed.pid)
    logged = events(run_dir)
    restart = [e for e in logged if e["type"] == "run_start"][-1]
    assert last - 1 <= restart["start_epoch"] <= last
    assert logged[-1]["type"] == "run_end" and logged[-1]["reason"] == "completed"


def test_resuming_with_another_number_of_processes_is_refused(tmp_path, capsys):
    trainer = build_trainer(RunOptions(overrides=[*TINY, "training.epochs=1", f"log_dir={tmp_path / 'logs'}",
                                                  "control_socket=false"]))
    trainer.run()
    state = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert state["world_size"] == 1
    save_checkpoint({**state, "world_size": 2}, tmp_path / "two.pt")  # as rank 0 of a 2-process job writes it
    assert main(["train", "--resume", str(tmp_path / "two.pt")]) == 2
    err = capsys.readouterr().err
    assert "written by 2 process(es)" in err and err.count("\n") == 1
