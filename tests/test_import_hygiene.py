"""The engine runs without the UI: importing any engine module never imports Textual."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import engine


def test_no_engine_module_imports_textual():
    modules = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
    assert "engine.training.trainer" in modules and "engine.health.frozen" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


LIGHT_CLIENTS = """
import sys
from tests.histories import healthy_run
from tests.test_logs import write_log
from pathlib import Path
run = Path(sys.argv[1]) / "logs" / "run-1"
run.mkdir(parents=True)
write_log(run / "events.jsonl", healthy_run(6))
from tui.cli import main
codes = [main(["runs", "--log-dir", str(run.parent)]), main(["runs", "--json", "--log-dir", str(run.parent)]),
         main(["diagnose", str(run)]), main(["export", str(run), "--csv", str(run / "table.csv")])]
from tui.launch import attach_app, replay_app
from engine.control.client import ControlClient
from engine.commands.runs import find_socket
app = replay_app(str(run))
from tui.runs_app import compare_app, runs_app
codes.append(main(["compare", str(run), str(run), "--csv", str(run / "compare.csv")]))
browser, compare = runs_app(str(run.parent)), compare_app([str(run)])
from tui.launch import client_app
from engine.commands.run_plan import RunOptions
dashboard, trainer = client_app(RunOptions(overrides=["data.source=synthetic", f"log_dir={run.parent}"]))
import engine.commands.trainer_process, engine.commands.detach
assert codes == [0, 0, 0, 0, 0] and app.dashboard.history.epochs and compare.first.runs and trainer.plan.fresh, codes
print("LOADED", sorted(m for m in ("torch", "textual") if m in sys.modules))
"""


def test_light_clients_never_import_torch(tmp_path):
    """The dashboard client, attach, replay, runs (and its browser), compare, diagnose, export and the trainer
    process's first steps start fast: torch stays out of their import path."""
    result = subprocess.run([sys.executable, "-c", LIGHT_CLIENTS, str(tmp_path)], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parent.parent)
    assert result.stdout.strip().splitlines()[-1] == "LOADED ['textual']"


FIRST_FRAME = """
import asyncio, sys
from engine.commands.run_plan import RunOptions
from tui.launch import client_app
dashboard, trainer = client_app(RunOptions(overrides=["data.source=synthetic", f"log_dir={sys.argv[1]}"]))
dashboard.first.source = None  # the frame alone: no trainer process (the source lives on the screen)

async def first_frame():
    async with dashboard.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        return "STARTING" in str(dashboard.query_one("#header").render())

print("DRAWN", asyncio.run(first_frame()), sorted(m for m in ("numpy", "torch") if m in sys.modules))
"""


def test_the_dashboards_first_frame_comes_before_numpy(tmp_path):
    """The first frame (no data yet) needs neither torch nor numpy: their imports would delay it on a busy machine."""
    result = subprocess.run([sys.executable, "-c", FIRST_FRAME, str(tmp_path / "logs")], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).parent.parent)
    assert result.stdout.strip().splitlines()[-1] == "DRAWN True []"
