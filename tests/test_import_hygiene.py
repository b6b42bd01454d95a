"""The engine runs without the UI: importing any engine module never imports Textual."""

import pkgutil
import subprocess
import sys

import engine


def test_no_engine_module_imports_textual():
    modules = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
    assert "engine.trainer" in modules and "engine.health.note_rules" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
