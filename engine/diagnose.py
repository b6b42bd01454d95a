"""`stockpred-tui diagnose` and `export`: health findings and the epoch table of any saved run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from engine.errors import InputError
from engine.health import evaluate
from engine.logreader import read_any


def diagnose(path: str, as_json: bool = False) -> int:
    """Print each finding (epoch first fired, severity, message, evidence, suggestion)."""
    history, notices = read_any(path)
    findings = evaluate(history)
    if as_json:
        document = {"source": str(path), "format": history.source_format, "epochs": len(history.epochs),
                    "notices": notices, "findings": [f.to_dict() for f in findings]}
        print(json.dumps(document, indent=2, default=str))
        return 0
    for notice in notices:
        print(f"notice: {notice}")
    print(f"{path}: {history.source_format} log, {len(history.epochs)} epochs")
    for finding in findings:
        when = f"epoch {finding.first_epoch}" if finding.first_epoch is not None else "-"
        print(f"[{finding.severity.upper():8}] {finding.rule:18} {when:>10}  {finding.message}")
        if finding.evidence:
            print("           evidence: " + ", ".join(f"{k}={v}" for k, v in finding.evidence.items()))
        if finding.suggestion:
            print(f"           suggestion: {finding.suggestion.label} ({finding.suggestion.why})")
    return 0


def epoch_table(path: str) -> pd.DataFrame:
    """The epoch table with per-group statistics flattened into columns."""
    history, _ = read_any(path)
    return pd.json_normalize(history.rows(), sep=".")


def export_csv(path: str, out: str, force: bool = False) -> int:
    """Write the epoch table as CSV, refusing to overwrite unless asked."""
    target = Path(out)
    if target.exists() and not force:
        raise InputError(str(target), "already exists; pass --force to overwrite")
    table = epoch_table(path)
    temporary = target.with_name(f".{target.name}.tmp")
    table.to_csv(temporary, index=False)
    temporary.replace(target)
    print(f"wrote {len(table)} epochs x {len(table.columns)} columns to {target}")
    return 0


