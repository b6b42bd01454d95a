"""`stockpred-tui diagnose`: the health findings of any saved run."""

from __future__ import annotations

import json
import os
import sys

from engine.health import SEVERITY_ORDER, run_rules
from engine.store.log_reader import read_any


def _lines(path: str, history, notices: list[str], findings, as_json: bool) -> list[str]:
    """The report as text lines (or one JSON document)."""
    if as_json:
        document = {"source": str(path), "format": history.source_format, "epochs": len(history.epochs),
                    "notices": notices, "findings": [f.to_dict() for f in findings]}
        return [json.dumps(document, indent=2, default=str)]
    lines = [f"notice: {notice}" for notice in notices]
    lines.append(f"{path}: {history.source_format} log, {len(history.epochs)} epochs")
    for finding in findings:
        when = f"epoch {finding.first_epoch}" if finding.first_epoch is not None else "-"
        lines.append(f"[{finding.severity.upper():8}] {finding.rule:18} {when:>10}  {finding.message}")
        if finding.evidence:
            lines.append("           evidence: " + ", ".join(f"{k}={v}" for k, v in finding.evidence.items()))
        if finding.suggestion:
            lines.append(f"           suggestion: {finding.suggestion.label} ({finding.suggestion.why})")
    return lines


def diagnose(path: str, as_json: bool = False, fail_on: str | None = None) -> int:
    """Print each finding; exit 1 when one is at least as severe as `fail_on` (warning or critical), else 0."""
    history, notices = read_any(path)
    findings = run_rules(history)
    failed = fail_on is not None and any(SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[fail_on] for f in findings)
    code = 1 if failed else 0
    try:
        for line in _lines(path, history, notices, findings, as_json):
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` left early: the verdict stands, and Python must not complain at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code
