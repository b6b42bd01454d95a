"""The documentation stays inside the repository and in step with the code: no paths outside it, links that resolve,
a short README whose test command is CI's, and a troubleshooting guide that covers every rule and names real thresholds."""

import re
from pathlib import Path

import pytest

import engine.health
from engine.health import RULES, thresholds
from tests.histories import healthy_run, history_of

REPO = Path(__file__).resolve().parents[1]
# Spelled in two pieces so that this file does not match its own search.
OUTSIDE = ("shared" + "/notes", "../" + "shared")
DOC_FILES = [REPO / "README.md", REPO / "config.yaml", REPO / "main.py", REPO / "pyproject.toml",
             *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "bench").rglob("*.md")),
             *sorted((REPO / "bench").rglob("*.py"))]
MARKDOWN = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "bench").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
GUIDE = REPO / "docs" / "health-rules.md"


def _outside_references(paths: list[Path]) -> list[str]:
    """'file: line' for every line that points at a file outside the repository."""
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(needle in line for needle in OUTSIDE):
                hits.append(f"{path.relative_to(REPO)}:{number}")
    return hits


def test_docs_and_config_reference_no_file_outside_the_repository():
    assert _outside_references(DOC_FILES) == []


def test_code_references_no_file_outside_the_repository():
    code = sorted((REPO / "engine").rglob("*.py")) + sorted((REPO / "tui").rglob("*.py"))
    code += sorted((REPO / "tui").rglob("*.tcss"))
    assert _outside_references(code) == []


def test_readme_stays_short():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) < 160


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_points_to_a_file_that_exists(path):
    targets = [t.split("#", 1)[0] for t in LINK.findall(path.read_text(encoding="utf-8"))]
    relative = [t for t in targets if t and not re.match(r"[a-z]+:", t)]
    missing = [t for t in relative if not (path.parent / t).exists()]
    assert missing == []


def test_the_readme_links_the_troubleshooting_guide():
    assert "(docs/health-rules.md)" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_test_command_is_the_one_ci_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    documented = [line.strip() for line in readme if line.startswith("python3 -m pip install") and "pytest" in line]
    run = [line.strip() for line in ci if "pytest" in line and not line.startswith("#")]
    # CI installs quietly; the command is otherwise the same.
    assert len(documented) == 1 and [line.replace("pip install -q ", "pip install ") for line in run] == documented


def test_the_guide_has_a_section_for_every_rule():
    history = history_of(healthy_run())
    names = {rule(history).rule for rule in RULES}
    sections = set(re.findall(r"^### (\w+)", GUIDE.read_text(encoding="utf-8"), re.M))
    assert len(names) == 16 and names == sections


def test_the_guide_names_only_thresholds_that_exist():
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", GUIDE.read_text(encoding="utf-8")))
    assert len(named) > 30
    assert sorted(n for n in named if not (hasattr(thresholds, n) or hasattr(engine.health, n))) == []
