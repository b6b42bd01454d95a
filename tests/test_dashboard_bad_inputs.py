"""The dashboard checks its config in the client, without torch: the bad-input matrix holds for it too (one line,
exit 2, nothing started, no file written); data errors are the trainer process's and come back as its one line."""

import os

import pytest

from engine.commands.run_plan import client_config
from engine.errors import InputError
from tests.test_bad_inputs import CASES, tree
from tui.cli import _options, build_parser, main


def found_by_the_client(files: dict, argv: list[str], root) -> bool:
    """Whether the case's problem is one the dashboard's own config check finds (the rest need the trainer)."""
    if "--resume" in argv:
        return False
    cwd = os.getcwd()
    os.chdir(root)
    try:
        client_config(*(lambda o: (o.config, o.labelled_overrides()))(_options(build_parser().parse_args(argv))))
    except InputError:
        return True
    finally:
        os.chdir(cwd)
    return False


TRAIN_CASES = [case for case in CASES if case[2][0] == "train"]


@pytest.mark.parametrize("files, argv, expected", [case[1:] for case in TRAIN_CASES], ids=[case[0] for case in TRAIN_CASES])
def test_a_bad_config_stops_the_dashboard_before_anything_starts(tmp_path, capsys, files, argv, expected):
    for name, make in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
    if not found_by_the_client(files, ["dashboard", *argv[1:]], tmp_path):
        pytest.skip("found by the trainer process (its data or checkpoint)")
    before = tree(tmp_path)
    code = main(["dashboard", *argv[1:]])
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (2, 1), err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert tree(tmp_path) == before
