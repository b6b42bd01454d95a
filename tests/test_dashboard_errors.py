"""The issue's error lines: each blames the option that set the value, says what to do, and is not cut off."""

import pytest

from tests.test_bad_inputs import _prices
from tui.cli import build_parser, main

CASES = [
    (["train", "--set", "training.lr=0.1"], "error: --set: unknown key 'training.lr' (did you mean 'training.learning_rate'?)"),
    (["train", "--epochs", "0"], "error: --epochs: training.epochs: Input should be greater than or equal to 1 (got 0)"),
    (["train", "--set", "model.dropout=0.99"], "error: --set: model.dropout: Input should be less than or equal to 0.95 (got 0.99)"),
]


@pytest.mark.parametrize("argv, line", CASES, ids=["set-lr", "epochs-0", "dropout-cap"])
def test_the_line_blames_the_option(capsys, argv, line):
    assert main(argv) == 2
    assert capsys.readouterr().err == line + "\n"


def test_resume_from_a_text_file_says_what_it_is_in_full(tmp_path, capsys):
    (tmp_path / "notes.pt").write_text("hello\n")
    assert main(["train", "--resume", str(tmp_path / "notes.pt")]) == 2
    err = capsys.readouterr().err
    assert err.endswith("is text, not a checkpoint: expected the zip archive that torch.save writes "
                        "(other formats are never unpickled)\n") and err.count("\n") == 1


def test_a_too_short_csv_says_how_many_rows_it_needs(tmp_path, capsys):
    _prices(120).to_csv(tmp_path / "p.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "p.csv"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    # Window 30 with 15% validation and test: int(200 × 0.15) = 30 is the first size that gives each split a window.
    assert "needs at least 200 usable rows, the first 20 days go to features" in err


def test_version_and_config_help(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("stockpred-tui ")
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "./config.yaml when present" in " ".join(help_text.split())
