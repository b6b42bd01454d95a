"""attach needs no torch: importing and using the control client loads neither torch nor Textual."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.control_harness import FakeRun, wait_for

CLIENT = """
import json, os, sys
from engine.control.client import ControlClient
client = ControlClient(sys.argv[1], client_name="light")
history, notices = client.read_backlog()
batches, closed = [], []
client.start(batches.append, on_close=closed.append)
client.set("lr", 0.003)
client.pause()
client.close()
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "textual", "tui", "pandas", "numpy"})
print(json.dumps({"heavy": heavy, "steps": len(history.step_index), "closed": closed, "pid": os.getpid()}))
"""


def test_the_control_client_loads_no_torch_or_textual(tmp_path):
    run = FakeRun(tmp_path / "run").start()
    try:
        run.advances()
        result = subprocess.run([sys.executable, "-c", CLIENT, str(run.server.path)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["heavy"] == [] and report["steps"] >= 50 and report["closed"] == ["detached"]
        wait_for(lambda: sum(c.action != "note" for c in run.received) >= 2, what="both controls applied")
    finally:
        run.stop()
    me = f"light pid {report['pid']}"
    assert [(c.action, c.value, c.source) for c in run.received if c.action != "note"] == [("set", 0.003, me),
                                                                                          ("pause", 0.0, me)]
