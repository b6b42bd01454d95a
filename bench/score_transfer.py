"""Score the health rules on the procedural transfer suite, each half on its own, and on the old regression suite:
right verdicts (by writer and by label), false alarms at the end and at any replayed epoch, faults never flagged,
epochs from onset to the first right warning, unreadable logs per writer, and messages their own numbers contradict.

    python3 bench/score_transfer.py [--half tuning|heldout|both|all|SPLIT] [-v] [--suite DIR] [--no-regression]
    python3 bench/score_transfer.py --suite tests/transfer_fresh --half fresh --no-regression

Change rules looking at the tuning half only; the held-out half says whether the change transfers. The fresh suite
(tests/transfer_fresh/, one split "fresh") is for once the rules are final: both halves above are tuning data now.
Right verdicts are given twice: strict (a nothing-learnable run must say "nothing learnable", which a foreign log
without a constant baseline cannot support) and "fault-free means no warning" (a quiet-set run is right when nothing
warns at the end).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.transfer.messages import contradictions  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.health import run_rules  # noqa: E402
from engine.store.log_reader import read_any  # noqa: E402
from score_diagnosis import ACCEPTS, QUIET, _source, verdict  # noqa: E402

TRANSFER = ROOT / "tests" / "transfer_suite"
REGRESSION = ROOT / "tests" / "diagnosis_suite"
SILENT = ("quiet", "nothing-learnable")
HALVES = ("tuning", "heldout")  # the default suite's splits, in the order they are printed
SPIKE_EPOCHS = 2  # a planted spike recovers within two epochs: alarms from its epoch to two after are counted apart


@dataclass
class LogScore:
    """One log's outcome; `unreadable` holds the reader's complaint when it could not be read."""

    name: str
    writer: str
    label: str
    got: str = ""
    right: bool = False
    unreadable: str = ""
    alarm_epochs: list[int] = field(default_factory=list)
    spike_alarms: int = 0
    delay: int | None = None
    contradictions_end: list[str] = field(default_factory=list)
    contradictions_replay: set[str] = field(default_factory=set)

    @property
    def right_no_warning(self) -> bool:
        """Right with "fault-free means no warning": a quiet-set run needs only that nothing warns at the end."""
        if self.label in QUIET:
            return not self.unreadable and self.got in SILENT
        return self.right


def is_right(label: str, got: str, accepts: list[str] | None = None) -> bool:
    """Quiet runs stay quiet (nothing-learnable must say so); faults are named (a log may accept more than one name)."""
    if label in QUIET:
        return got == label if label == "nothing-learnable" else got in SILENT
    return got in set(accepts or ACCEPTS.get(label, {label}))


def score_log(path: Path, entry: dict) -> LogScore:
    """The final verdict, then a replay epoch by epoch (History.upto) for alarms, delay and contradictions."""
    label, accepts = entry["label"], entry.get("accepts")
    score = LogScore(path.name, entry.get("writer") or _source(path.name), label)
    try:
        history, _ = read_any(path)
    except InputError as error:
        score.unreadable = str(error)
        return score
    except Exception as error:  # a reader that crashes is a finding of this bench, not a reason to stop it
        score.unreadable = f"crash: {type(error).__name__}: {error}"
        return score
    findings = run_rules(history)
    score.got = verdict(findings)
    score.right = is_right(label, score.got, accepts)
    score.contradictions_end = [c for f in findings for c in contradictions(f)]
    spike = entry.get("spike_epoch")
    for epoch in sorted(history.epochs):
        seen_findings = run_rules(history.upto(epoch))
        seen = verdict(seen_findings)
        score.contradictions_replay.update(c for f in seen_findings for c in contradictions(f))
        if seen not in SILENT:
            score.alarm_epochs.append(epoch)
            score.spike_alarms += spike is not None and spike <= epoch <= spike + SPIKE_EPOCHS
        if score.delay is None and label not in QUIET and entry.get("onset") is not None and is_right(label, seen, accepts):
            score.delay = epoch - entry["onset"]
    return score


def splits_to_score(suite: Path, half: str) -> list[str]:
    """The splits `--half` names in this suite: "both" is tuning and heldout, "all" every split it holds."""
    labels_path = suite / "labels.json"
    if not labels_path.exists():
        raise InputError(str(labels_path), "no such file (is --suite a transfer suite folder?)")
    held = {entry.get("split") for entry in json.loads(labels_path.read_text()).values()} - {None}
    ordered = [h for h in HALVES if h in held] + sorted(held - set(HALVES))
    wanted = {"all": ordered, "both": list(HALVES)}.get(half, [half])
    missing = [h for h in wanted if h not in held]
    if missing:
        raise InputError(str(labels_path), f"--half {half}: no log has split {missing[0]!r} (the suite holds: {', '.join(ordered) or 'none'})")
    return wanted


def score_suite(suite: Path, half: str | None = None) -> list[LogScore]:
    """Every labelled log of a suite folder (of one half, when given)."""
    labels = json.loads((suite / "labels.json").read_text())
    return [score_log(suite / name, entry) for name, entry in labels.items()
            if (half is None or entry.get("split") == half) and (suite / name).exists()]


def figures(scores: list[LogScore]) -> dict:
    """The numbers the README quotes for one set of logs."""
    quiet = [s for s in scores if s.label in QUIET and not s.unreadable]
    faults = [s for s in scores if s.label not in QUIET and not s.unreadable]
    delays = [s.delay for s in faults if s.delay is not None]
    writers = sorted({s.writer for s in scores})
    labels = sorted({s.label for s in scores})
    return {
        "logs": len(scores), "right": sum(s.right for s in scores), "readable": sum(not s.unreadable for s in scores),
        "right_no_warning": sum(s.right_no_warning for s in scores),
        "by_writer": {w: (sum(s.right for s in scores if s.writer == w), sum(s.writer == w for s in scores)) for w in writers},
        "by_writer_no_warning": {w: (sum(s.right_no_warning for s in scores if s.writer == w), sum(s.writer == w for s in scores))
                                 for w in writers},
        "by_label": {lab: (sum(s.right for s in scores if s.label == lab), sum(s.label == lab for s in scores)) for lab in labels},
        "by_label_no_warning": {lab: (sum(s.right_no_warning for s in scores if s.label == lab), sum(s.label == lab for s in scores))
                                for lab in labels},
        "fault_free": len(quiet), "false_alarm_end": sum(s.got not in SILENT for s in quiet),
        "false_alarm_replay": sum(bool(s.alarm_epochs) for s in quiet),
        "false_alarm_replay_beyond_spikes": sum(len(s.alarm_epochs) > s.spike_alarms for s in quiet),
        "faults": len(faults), "faults_caught": len(delays), "faults_never_warned": sum(not s.alarm_epochs for s in faults),
        "median_delay": statistics.median(delays) if delays else None, "max_delay": max(delays) if delays else None,
        "unreadable": {w: (sum(bool(s.unreadable) for s in scores if s.writer == w), sum(s.writer == w for s in scores))
                       for w in writers if any(s.unreadable for s in scores if s.writer == w)},
        "contradiction_findings_end": sum(len(s.contradictions_end) for s in scores),
        "contradiction_logs_end": sum(bool(s.contradictions_end) for s in scores),
        "contradiction_logs_replay": sum(bool(s.contradictions_replay) for s in scores),
        "contradiction_kinds": Counter(c.split(": ")[0] + ": " + c.split(": ")[1] for s in scores
                                       for c in s.contradictions_end or s.contradictions_replay),
    }


def _pairs(mapping: dict) -> str:
    return ", ".join(f"{k} {r}/{n}" for k, (r, n) in mapping.items())


def report(title: str, scores: list[LogScore], verbose: bool) -> dict:
    """Print one set's per-log lines (misses and false alarms, or all with -v) and its figures."""
    print(f"\n== {title}: {len(scores)} logs ==")
    for s in scores:
        false_alarm = s.label in QUIET and s.alarm_epochs
        if verbose or not s.right or false_alarm:
            mark = "ok " if s.right else ("N/R" if s.unreadable else "BAD")
            got = f"unreadable ({s.unreadable[:70]})" if s.unreadable else s.got
            print(f"{mark} {s.name:26} {s.writer:10} label={s.label:18} got={got:18} delay={s.delay} replay_alarms={s.alarm_epochs[:6]}")
    f = figures(scores)
    if not f["logs"]:
        return f
    print(f"right verdicts, strict (nothing-learnable must say so): {f['right']}/{f['logs']} ({f['right'] / f['logs']:.0%}); "
          f"of the readable logs {f['right']}/{f['readable']}  |  fault-free means no warning: "
          f"{f['right_no_warning']}/{f['logs']} ({f['right_no_warning'] / f['logs']:.0%})")
    print(f"  by writer, strict: {_pairs(f['by_writer'])}  |  no warning: {_pairs(f['by_writer_no_warning'])}")
    loose = {lab: pair for lab, pair in f["by_label_no_warning"].items() if pair != f["by_label"][lab]}
    print(f"  by label, strict: {_pairs(f['by_label'])}" + (f"  |  no warning: {_pairs(loose)}" if loose else ""))
    print(f"readable fault-free runs with a warning at the end: {f['false_alarm_end']}/{f['fault_free']}; at any replayed epoch: "
          f"{f['false_alarm_replay']}/{f['fault_free']} (beyond a planted spike's epochs: {f['false_alarm_replay_beyond_spikes']})")
    print(f"readable faults warned right: {f['faults_caught']}/{f['faults']}; never flagged at any epoch: {f['faults_never_warned']}; "
          f"epochs from onset to first right warning: median {f['median_delay']}, max {f['max_delay']}")
    unreadable = _pairs(f["unreadable"]) or "none"
    print(f"unreadable logs by writer: {unreadable}")
    kinds = "; ".join(f"{k} ×{n}" for k, n in f["contradiction_kinds"].most_common(6))
    print(f"message/evidence contradictions: {f['contradiction_findings_end']} findings in {f['contradiction_logs_end']} logs at the end; "
          f"{f['contradiction_logs_replay']} logs at some replayed epoch" + (f" ({kinds})" if kinds else ""))
    return f


def main() -> int:
    """Score the requested halves, then the regression suite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", default="all", metavar="SPLIT",
                        help='a split of the suite (tuning, heldout, fresh), "both" (tuning and heldout) or "all" (default)')
    parser.add_argument("-v", dest="verbose", action="store_true", help="one line per log")
    parser.add_argument("--suite", type=Path, default=TRANSFER, help="the suite folder (default tests/transfer_suite)")
    parser.add_argument("--no-regression", action="store_true", help="skip the old suite (tests/diagnosis_suite)")
    args = parser.parse_args()
    try:
        halves = splits_to_score(args.suite, args.half)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    name = "transfer suite" if args.suite.resolve() == TRANSFER else f"suite {args.suite}"
    for half in halves:
        report(f"{name}, {half} half", score_suite(args.suite, half), args.verbose)
    if not args.no_regression:
        report("regression suite (tests/diagnosis_suite)", score_suite(REGRESSION), args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
