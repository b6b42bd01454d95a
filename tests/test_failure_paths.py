"""Failures outside the training loop: one line and exit 1 headless, FAILED in the dashboard, never stuck."""

from engine.commands.trainer_setup import RunOptions
from tests.conftest import TINY, wait_until
from tui.cli import main
from tui.launch import live_app


def test_headless_run_directory_that_cannot_be_made_is_one_line_and_exit_1(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(["train", *sum((["--set", o] for o in [*TINY, f"log_dir={tmp_path / 'afile'}"]), [])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot create the run directory" in err and "Traceback" not in err
    assert (tmp_path / "afile").read_text() == "x"


async def test_dashboard_shows_failed_and_quits_when_the_run_directory_cannot_be_made(tmp_path):
    (tmp_path / "afile").write_text("x")
    app = live_app(RunOptions(overrides=[*TINY, f"log_dir={tmp_path / 'afile'}"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "FAILED" in str(app.query_one("#header").render()))
        assert "cannot create the run directory" in app.dashboard.history.fatal_error
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
