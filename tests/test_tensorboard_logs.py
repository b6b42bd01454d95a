"""TensorBoard event files as a fourth foreign format: torch's SummaryWriter (epoch or global-step axis), Keras's
TensorBoard callback (TF2 tensor scalars in train/ and validation/), Lightning's TensorBoardLogger (an `epoch` tag),
the event file itself, and one-line errors (no extra installed, a damaged file, no loss tag)."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.health import run_rules
from engine.store.log_reader import read_any

pytest.importorskip("tbparse", reason="the tensorboard extra is not installed")

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402

TRAIN = [0.90, 0.70, 0.60, 0.55, 0.52]
VAL = [0.95, 0.80, 0.72, 0.70, 0.69]


def summary_writer(folder: Path, scalars: dict[str, list[tuple[int, float]]]) -> Path:
    """Write with torch's own SummaryWriter (TF1 simple values), as PyTorch users log."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(folder))
    for tag, points in scalars.items():
        for step, value in points:
            writer.add_scalar(tag, value, step)
    writer.close()
    return folder


def keras_writer(folder: Path, tags: dict[str, list[float]]) -> None:
    """TF2 scalar summaries (tensor values, plugin 'scalars') at step = epoch from 0, as Keras's TensorBoard callback
    writes at update_freq='epoch' (TensorFlow itself is not installed here)."""
    writer = EventFileWriter(str(folder))
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    for tag, values in tags.items():
        for step, value in enumerate(values):
            tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                            float_val=[value])
            value_pb = summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)
            writer.add_event(event_pb2.Event(wall_time=1.0, step=step, summary=summary_pb2.Summary(value=[value_pb])))
    writer.close()


def _table(history):
    return [(r.epoch, r.train_loss, r.val_loss, r.lr) for r in history.rows()]


@pytest.mark.parametrize("train_tag, val_tag, lr_tag", [("loss", "val_loss", "lr"), ("train/loss", "val/loss", "learning_rate"),
                                                         ("Loss/train", "Loss/val", "lr")])
def test_summary_writer_tags_per_epoch(tmp_path, train_tag, val_tag, lr_tag):
    summary_writer(tmp_path / "run", {train_tag: list(enumerate(TRAIN)), val_tag: list(enumerate(VAL)),
                                      lr_tag: [(e, 0.001) for e in range(5)]})
    history, notices = read_any(tmp_path / "run")
    assert history.source_format == "tensorboard"
    assert _table(history) == [(e + 1, t, v, 0.001) for e, (t, v) in enumerate(zip(TRAIN, VAL))]  # float32 shown as written
    assert "epochs shown from 1" in notices[0] and f"{train_tag} as train_loss" in notices[0]


def test_a_global_step_axis_and_per_step_scalars(tmp_path):
    # Epoch-level losses at the global step that ends each epoch (50 steps an epoch), and a per-step loss every 10 steps.
    ends = [50 * (e + 1) for e in range(5)]
    steps = [(s, 1.0 - s / 500) for s in range(10, 251, 10)]
    summary_writer(tmp_path / "run", {"loss": list(zip(ends, TRAIN)), "val_loss": list(zip(ends, VAL)), "loss_step": steps})
    history, _ = read_any(tmp_path / "run")
    assert [r.epoch for r in history.rows()] == [1, 2, 3, 4, 5] and [r.train_loss for r in history.rows()] == TRAIN


def test_only_a_per_step_train_loss_is_averaged_into_the_epochs_of_val(tmp_path):
    summary_writer(tmp_path / "run", {"train/loss_step": [(1, 0.9), (2, 0.7), (3, 0.5), (4, 0.4)],
                                      "val/loss": [(2, 0.8), (4, 0.6)]})
    history, _ = read_any(tmp_path / "run")
    assert [(r.epoch, r.val_loss) for r in history.rows()] == [(1, 0.8), (2, 0.6)]
    assert [r.train_loss for r in history.rows()] == pytest.approx([0.8, 0.45])


def test_keras_callback_runs_in_train_and_validation_folders(tmp_path):
    keras_writer(tmp_path / "logs" / "train", {"epoch_loss": TRAIN, "epoch_learning_rate": [0.01] * 5})
    keras_writer(tmp_path / "logs" / "validation", {"epoch_loss": VAL, "epoch_accuracy": [0.5, 0.52, 0.53, 0.53, 0.54]})
    history, notices = read_any(tmp_path / "logs")
    assert _table(history) == [(e + 1, t, v, 0.01) for e, (t, v) in enumerate(zip(TRAIN, VAL))]
    assert history.rows()[-1].val_acc == 0.54 and "validation/epoch_loss as val_loss" in notices[0]


def test_lightning_logger_epoch_tag_groups_steps(tmp_path):
    # TensorBoardLogger: `epoch` beside every logged metric, a per-step train loss, validation every second epoch, and
    # LearningRateMonitor values at steps of their own, without an epoch.
    logged = list(range(0, 40, 5)) + [19, 39]
    summary_writer(tmp_path / "version_0", {
        "epoch": [(s, s // 10) for s in logged], "train_loss": [(s, 1.0 - s / 100) for s in range(0, 40, 5)],
        "lr-Adam": [(1, 0.01), (11, 0.01), (21, 0.005), (31, 0.005)], "val_loss": [(19, 0.7), (39, 0.6)]})
    history, notices = read_any(tmp_path / "version_0")
    rows = history.rows()
    assert [r.epoch for r in rows] == [1, 2, 3, 4] and [r.val_loss for r in rows] == [None, 0.7, None, 0.6]
    assert [r.train_loss for r in rows] == pytest.approx([0.975, 0.875, 0.775, 0.675]) and rows[2].lr == 0.005
    assert "the log's epoch 0 is epoch 1" in notices[0]


def test_the_event_file_itself_and_the_rules_on_it(tmp_path):
    rising = [0.9 - 0.05 * e for e in range(12)]
    summary_writer(tmp_path / "run", {"train/loss": list(enumerate(rising)),
                                      "val/loss": list(enumerate(rising[:5] + [float("nan")] * 7))})
    event_file = next((tmp_path / "run").glob("events.out.tfevents.*"))
    history, _ = read_any(event_file)
    assert len(history.epochs) == 12
    exploding = {f.rule: f for f in run_rules(history)}["exploding"]
    assert exploding.severity == "critical" and exploding.first_epoch == 6


def test_no_loss_tag_and_a_damaged_file_are_one_line_errors(tmp_path):
    summary_writer(tmp_path / "acc", {"accuracy": [(0, 0.5), (1, 0.6)]})
    with pytest.raises(InputError, match="tensorboard log without a loss tag .has accuracy"):
        read_any(tmp_path / "acc")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "events.out.tfevents.1.host").write_bytes(b"\x00\x01garbage" * 50)
    with pytest.raises(InputError) as error:
        read_any(tmp_path / "bad")
    assert "\n" not in str(error.value) and "bad" in str(error.value)


def test_without_the_extra_the_error_names_it(tmp_path, monkeypatch):
    summary_writer(tmp_path / "run", {"loss": list(enumerate(TRAIN))})
    monkeypatch.setitem(sys.modules, "tbparse", None)  # `import tbparse` now raises ImportError
    with pytest.raises(InputError, match=r"needs the tensorboard extra: pip install 'stockpred-tui\[tensorboard\]'"):
        read_any(tmp_path / "run")


READ_WITHOUT_TORCH = """
import sys
from tui.cli import main
from engine.commands.compare import load_run
codes = [main(["diagnose", sys.argv[1]]), main(["export", sys.argv[1], "--csv", sys.argv[2]])]
run = load_run(sys.argv[1])
assert codes == [0, 0] and run.summary.epoch == 5 and run.summary.state == "tensorboard", (codes, run.summary)
print("LOADED", "torch" in sys.modules)
"""


def test_diagnose_export_and_the_browser_read_it_without_torch(tmp_path):
    summary_writer(tmp_path / "tb_run", {"loss": list(enumerate(TRAIN)), "val_loss": list(enumerate(VAL))})
    result = subprocess.run([sys.executable, "-c", READ_WITHOUT_TORCH, str(tmp_path / "tb_run"), str(tmp_path / "t.csv")],
                            capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip().splitlines()[-1] == "LOADED False" and "tensorboard log, 5 epochs" in result.stdout
