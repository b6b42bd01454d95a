"""Score the health rules on the labelled suite: right primary verdicts, false alarms at the end and at any replayed
epoch (History.upto, as the live panel sees it), and epochs from fault onset to the first right warning.

    python3 bench/score_diagnosis.py [SUITE_DIR] [-v]
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.health import run_rules  # noqa: E402
from engine.store.log_reader import read_any  # noqa: E402

QUIET = {"healthy", "noisy-fine", "harder-val", "nothing-learnable"}
ALARMS = ("critical", "warning")
RULE_VERDICT = {"exploding": "exploding", "instability": "unstable-lr", "divergence": "unstable-lr", "overfitting": "overfitting",
                "decay_vs_gradient": "over-regularised", "over_regularised": "over-regularised", "leakage": "leak",
                "baseline": "worse-than-constant", "gradient": "gradient", "drastic_change": "drastic-change",
                "step_size": "frozen-weights"}
ACCEPTS = {"frozen": {"frozen", "frozen-weights"}}


def verdict(findings) -> str:
    """The most severe finding as a verdict; 'quiet' (or 'nothing-learnable') when nothing warns."""
    for finding in findings:
        if finding.severity in ALARMS:
            if finding.rule == "frozen":
                return "frozen-weights" if finding.evidence.get("case") == "weights" else "frozen"
            return RULE_VERDICT.get(finding.rule, finding.rule)
    if any("nothing learnable" in f.message for f in findings if f.severity == "info"):
        return "nothing-learnable"
    return "quiet"


def right(label: str, got: str) -> bool:
    """Whether a verdict answers a label: quiet runs must stay quiet, faults must be named."""
    if label in QUIET:
        return got == label if label == "nothing-learnable" else got in ("quiet", "nothing-learnable")
    return got in ACCEPTS.get(label, {label})


@dataclass
class RunScore:
    """One log's outcome."""

    name: str
    label: str
    got: str
    right: bool
    alarm_epochs: list[int] = field(default_factory=list)
    delay: int | None = None


def score_run(path: Path, label: str, onset: int | None) -> RunScore:
    """Final verdict plus a replay, epoch by epoch."""
    history, _ = read_any(path)
    got = verdict(run_rules(history))
    alarms, delay = [], None
    for epoch in sorted(history.epochs):
        seen = verdict(run_rules(history.upto(epoch)))
        if seen not in ("quiet", "nothing-learnable"):
            alarms.append(epoch)
        if delay is None and label not in QUIET and onset is not None and right(label, seen):
            delay = epoch - onset
    return RunScore(path.name, label, got, right(label, got), alarms, delay)


def score(suite: Path) -> list[RunScore]:
    """Every labelled log in a suite folder."""
    labels = json.loads((suite / "labels.json").read_text())
    return [score_run(suite / name, spec["label"], spec.get("onset")) for name, spec in labels.items() if (suite / name).exists()]


def summary(scores: list[RunScore]) -> dict:
    """The figures the README quotes."""
    quiet = [s for s in scores if s.label in QUIET]
    faults = [s for s in scores if s.label not in QUIET]
    delays = [s.delay for s in faults if s.delay is not None]
    return {"logs": len(scores), "right": sum(s.right for s in scores), "fault_free": len(quiet),
            "false_alarm_end": sum(s.got not in ("quiet", "nothing-learnable") for s in quiet),
            "false_alarm_replay": sum(bool(s.alarm_epochs) for s in quiet), "faults": len(faults),
            "faults_caught": len(delays), "median_delay": statistics.median(delays) if delays else None,
            "max_delay": max(delays) if delays else None,
            "formats": sorted({_source(s.name) for s in scores}),
            "by_source": {src: (sum(s.right for s in scores if _source(s.name) == src), sum(_source(s.name) == src for s in scores))
                          for src in sorted({_source(s.name) for s in scores})}}


def _source(name: str) -> str:
    """Which writer made a log: engine, plain_keras, plain_lightning, real_keras, real_lightning or hand."""
    parts = name.split("_")
    return "_".join(parts[:2]) if parts[0] in ("real", "plain") else parts[0]


def main() -> int:
    """Print the misses, then the figures."""
    args = [a for a in sys.argv[1:] if a != "-v"]
    suite = Path(args[0]) if args else ROOT / "tests" / "diagnosis_suite"
    scores = score(suite)
    for s in scores:
        if "-v" in sys.argv or not s.right or (s.label in QUIET and s.alarm_epochs):
            mark = "ok " if s.right else "BAD"
            print(f"{mark} {s.name:52} label={s.label:18} got={s.got:18} delay={s.delay} replay_alarms={s.alarm_epochs[:8]}")
    figures = summary(scores)
    print(f"right primary verdicts: {figures['right']}/{figures['logs']} ({figures['right'] / figures['logs']:.0%})")
    print(f"fault-free runs with a warning at the end: {figures['false_alarm_end']}/{figures['fault_free']}; "
          f"at any replayed epoch: {figures['false_alarm_replay']}/{figures['fault_free']}")
    print(f"faults warned: {figures['faults_caught']}/{figures['faults']}; epochs from onset to first right warning: "
          f"median {figures['median_delay']}, max {figures['max_delay']}")
    print("right by source: " + ", ".join(f"{src} {r}/{n}" for src, (r, n) in figures["by_source"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
