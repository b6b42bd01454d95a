"""Foreign CSV cells and rows the readers must not reinterpret silently: text in a number column, a header without
rows, rows without an epoch (Lightning's LearningRateMonitor), and epochs shown from 1."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.store.log_reader import read_any


def test_a_non_numeric_cell_is_a_notice_naming_its_row_and_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("epoch,loss,val_loss\n0,1.0,0.95\n1,0.9,oops\n2,0.8,0.85\n")
    history, notices = read_any(path)
    assert [r.val_loss for r in history.rows()] == [0.95, None, 0.85]
    assert f"{path}: row 3: column 'val_loss' is not a number ('oops'); read as missing" in notices


def test_empty_cells_stay_silent_and_many_bad_cells_are_counted(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{e},x{e},\n" for e in range(9)))
    history, notices = read_any(path)
    cells = [n for n in notices if "column 'loss'" in n]
    assert len(history.epochs) == 9 and len(cells) == 5 and cells[0].endswith("row 2: column 'loss' is not a number ('x0'); read as missing")
    assert notices[-1] == f"{path}: 4 more non-numeric cells read as missing"
    assert not any("val_loss" in n for n in notices[1:])  # the empty val cells are gaps, not errors


@pytest.mark.parametrize("header", ["epoch,loss,val_loss\n", "epoch,step,train_loss,val_loss\n", "epoch,step,lr-Adam,train_loss\n,3,0.01,\n"])
def test_a_log_without_epochs_is_an_error(tmp_path, header):
    path = tmp_path / "m.csv"
    path.write_text(header)
    with pytest.raises(InputError, match=f"^no epochs in {path}$"):
        read_any(path)


def test_no_epochs_on_the_cli_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "m.csv").write_text("epoch,loss,val_loss\n")
    result = subprocess.run([sys.executable, "-m", "tui.cli", "diagnose", "m.csv"], capture_output=True, text=True,
                            cwd=tmp_path, env={"PYTHONPATH": str(Path(__file__).parent.parent), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and result.stderr.strip().endswith("no epochs in m.csv") and result.stderr.count("\n") == 1


def test_a_bad_epoch_cell_skips_its_row_with_a_notice(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("epoch,loss\n0,1.0\n1.5,0.9\nnan,0.8\n1,0.7\n")
    history, notices = read_any(path)
    assert [(r.epoch, r.train_loss) for r in history.rows()] == [(1, 1.0), (2, 0.7)]
    assert sum("column 'epoch' is not a whole number" in n for n in notices) == 2 and "row 3" in notices[1]


def test_keras_epochs_are_shown_from_1_and_the_notice_says_so(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("epoch,loss,val_loss,lr\n0,1.0,0.95,0.001\n1,0.9,0.9,0.001\n")
    history, notices = read_any(path)
    assert sorted(history.epochs) == [1, 2]
    assert notices == [f"{path}: keras log, epochs shown from 1 (the file counts them from 0); no column for val_acc"]
