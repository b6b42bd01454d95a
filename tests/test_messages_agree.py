"""Every finding's words agree with its own numbers, over every log of both labelled suites, at the end and at each
replayed epoch: no negative "improved", no "descent" that rises, no "gap grew" while val sits below train, no "rose"
of zero. This checks wording only; the verdicts are scored by bench/score_transfer.py."""

import json
import sys
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.health import run_rules
from engine.health.findings import Finding
from engine.store.log_reader import read_any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfer.messages import contradictions  # noqa: E402

SUITES = [ROOT / "tests" / "diagnosis_suite", ROOT / "tests" / "transfer_suite"]


def _logs(suite: Path) -> list[Path]:
    return [suite / name for name in json.loads((suite / "labels.json").read_text()) if (suite / name).exists()]


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_no_finding_contradicts_its_numbers(suite):
    found, read = [], 0
    for path in _logs(suite):
        try:
            history, _ = read_any(path)
        except InputError:
            continue  # the scorer counts unreadable logs; here only wording is checked
        read += 1
        for epoch in sorted(history.epochs):
            view = history if epoch == max(history.epochs) else history.upto(epoch)
            found += [f"{path.name} @ {epoch}: {c}" for f in run_rules(view) for c in contradictions(f)]
    assert read > 50 and found == []


@pytest.mark.parametrize("message, evidence, kind", [
    ("validation plateau: best loss improved -0.71% of the scale in 10 epochs", {}, "negative improvement"),
    ("converged after a real descent (0.9442 -> 0.9992)", {}, "descent that rises"),
    ("val − train gap grew 0.061 over the last epochs", {"gap": -0.43}, "gap grew while val is below train"),
])
def test_the_check_catches_the_issues_examples(message, evidence, kind):
    finding = Finding(rule="x", severity="warning", message=message, evidence=evidence)
    assert [c.split(":")[0] for c in contradictions(finding)] == [kind]
