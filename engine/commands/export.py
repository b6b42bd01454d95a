"""`stockpred-tui export`: a run's epoch table as CSV, written atomically through an unpredictable temporary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.commands.output_file import check_output, write_atomically
from engine.store.log_reader import read_any


def epoch_table(path: str) -> pd.DataFrame:
    """The epoch table with per-group statistics flattened into columns."""
    history, _ = read_any(path)
    return pd.json_normalize(history.records(), sep=".")


def export_csv(path: str, out: str, force: bool = False) -> int:
    """Write the epoch table as CSV, refusing to overwrite unless asked."""
    target = Path(out)
    check_output(target, force)
    table = epoch_table(path)
    write_atomically(target, table.to_csv(index=False))
    print(f"wrote {len(table)} epochs x {len(table.columns)} columns to {target}")
    return 0
