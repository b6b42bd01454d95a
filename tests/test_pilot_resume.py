"""`--resume` in the dashboard shows the whole run from the first frame, with the checkpoint's hyperparameters."""

from engine.control.channel import ControlChannel
from engine.events import RunStarted
from engine.store.history import History
from engine.commands.trainer_setup import RunOptions, build_trainer
from tests.conftest import TINY, wait_until
from tui.launch import live_app


async def test_resumed_dashboard_starts_with_earlier_epochs_and_the_checkpoints_lr(tmp_path):
    logs = tmp_path / "logs"
    controls = ControlChannel()
    first = build_trainer(RunOptions(overrides=[*TINY, f"log_dir={logs}"]), controls=controls)
    controls.set("lr", 0.004)  # applied at the first step; the config still says 0.001
    first.run()
    checkpoint = first.run_dir / "checkpoints" / "last.pt"

    app = live_app(RunOptions(resume=str(checkpoint), overrides=["training.epochs=5"]))
    assert sorted(app.dashboard.history.epochs) == [1, 2, 3]  # before the first frame, from the run's own log
    async with app.run_test(size=(100, 30)) as pilot:
        assert "epoch 3/3" in str(app.query_one("#header").render())
        await wait_until(pilot, lambda: app.dashboard.history.run and app.dashboard.history.run.resumed_from)
        await wait_until(pilot, lambda: "lr 0.004" in str(app.query_one("#hparams").render()))
        assert app.dashboard.history.hparams["lr"] == 0.004 and app.dashboard.history.config["training"]["learning_rate"] == 0.001
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
    assert sorted(app.dashboard.history.epochs) == [1, 2, 3, 4, 5] and app.dashboard.mode.trainer.run_dir == first.run_dir
    resumed = History()
    resumed.apply(next(e for e in app.dashboard.history.events if isinstance(e, RunStarted) and e.resumed_from))
    assert resumed.hparams["lr"] == 0.004  # the run_start alone already says what the run trains with


async def test_a_checkpoint_copied_out_of_its_run_resumes_into_a_new_run(tmp_path):
    logs = tmp_path / "logs"
    first = build_trainer(RunOptions(overrides=[*TINY, "training.epochs=1", f"log_dir={logs}"]))
    first.run()
    copied = tmp_path / "kept.pt"
    copied.write_bytes((first.run_dir / "checkpoints" / "last.pt").read_bytes())
    app = live_app(RunOptions(resume=str(copied), overrides=["training.epochs=2"]))
    assert not app.dashboard.history.epochs and app.dashboard.mode.trainer.run_dir != first.run_dir
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.history.state == "ended")
    assert sorted(app.dashboard.history.epochs) == [2] and app.dashboard.history.ended.reason == "completed"
