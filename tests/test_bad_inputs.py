"""The bad-input matrix: every case exits 2 with one line on stderr, no traceback, and no file touched."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from tests.histories import healthy_run
from tui.cli import main

FLOW_BOMB = ("[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], "
             "&d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], *d]")
FILE_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n")
# Small data so that a case which wrongly got past validation would still end quickly.
TINY = ["--set", "data.window=10", "--set", "data.volatility_window=5", "--set", "model.hidden_size=4",
        "--epochs", "1"]


def _prices(days: int = 120) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=days)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, days)))
    return pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01, "Low": close * 0.99,
                         "Close": close, "Adj Close": close, "Volume": 1000})


def _csv(mutate):
    return lambda path: mutate(_prices()).to_csv(path, index=False)


def _cell(column, row, value):
    return _csv(lambda f: f.assign(**{column: f[column].astype(object).where(f.index != row, value)}))


def _checkpoint(**changes):
    state = {"format": 1, "model": {}, "optimizer": {}, "epoch": 1, "step": 10, "config": {}, "scaler": {},
             "hparams": {}, "rng": {}}
    state.update(changes)
    return lambda path: torch.save({k: v for k, v in state.items() if v is not None}, path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def _bytes(data: bytes):
    return lambda path: path.write_bytes(data)


def _text(data: str):
    return lambda path: path.write_text(data)


def _truncated(path):
    _checkpoint()(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign_zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


def _log(lines):
    return _text("\n".join(lines) + "\n")


def _epoch_with(**changes):
    row = healthy_run(1)[1].to_dict() | changes
    return json.dumps(row)


CASES = [
    # -- config files ---------------------------------------------------------------------------------
    ("cfg-unknown-key", {"c.yaml": _text("training:\n  learnig_rate: 0.1\n")}, ["train", "--config", "c.yaml"], "did you mean 'training.learning_rate'"),
    ("cfg-unknown-section", {"c.yaml": _text("trainer:\n  epochs: 3\n")}, ["train", "--config", "c.yaml"], "unknown key 'trainer'"),
    ("cfg-zero-lr", {"c.yaml": _text("training:\n  learning_rate: 0\n")}, ["train", "--config", "c.yaml"], "training.learning_rate: Input should be greater than 0"),
    ("cfg-string-lr", {"c.yaml": _text("training:\n  learning_rate: fast\n")}, ["train", "--config", "c.yaml"], "training.learning_rate: Input should be a valid number"),
    ("cfg-dropout-1", {"c.yaml": _text("model:\n  dropout: 1.0\n")}, ["train", "--config", "c.yaml"], "model.dropout"),
    ("cfg-batch-0", {"c.yaml": _text("training:\n  batch_size: 0\n")}, ["train", "--config", "c.yaml"], "training.batch_size"),
    ("cfg-epochs-negative", {"c.yaml": _text("training:\n  epochs: -3\n")}, ["train", "--config", "c.yaml"], "training.epochs"),
    ("cfg-optimizer", {"c.yaml": _text("training:\n  optimizer: sgd\n")}, ["train", "--config", "c.yaml"], "'adam' or 'adamw'"),
    ("cfg-device", {"c.yaml": _text("device: tpu\n")}, ["train", "--config", "c.yaml"], "device: must be 'auto'"),
    ("cfg-fractions", {"c.yaml": _text("data:\n  val_fraction: 0.45\n  test_fraction: 0.45\n")}, ["train", "--config", "c.yaml"], "below 0.8"),
    ("cfg-no-loss", {"c.yaml": _text("training:\n  reg_weight: 0\n  clf_weight: 0\n")}, ["train", "--config", "c.yaml"], "cannot both be 0"),
    ("cfg-section-scalar", {"c.yaml": _text("training: 5\n")}, ["train", "--config", "c.yaml"], "training: Input should be"),
    ("cfg-tickers-scalar", {"c.yaml": _text("data:\n  tickers: 5\n")}, ["train", "--config", "c.yaml"], "data.tickers"),
    ("cfg-seed-text", {"c.yaml": _text("seed: x\n")}, ["train", "--config", "c.yaml"], "seed"),
    ("cfg-interval", {"c.yaml": _text("step_event_interval_s: -1\n")}, ["train", "--config", "c.yaml"], "step_event_interval_s"),
    ("cfg-checkpoint-every", {"c.yaml": _text("checkpoint:\n  every_epochs: -1\n")}, ["train", "--config", "c.yaml"], "checkpoint.every_epochs"),
    ("cfg-socket", {"c.yaml": _text("control_socket: maybe\n")}, ["train", "--config", "c.yaml"], "control_socket"),
    ("cfg-invalid-yaml", {"c.yaml": _text("model: [1, 2\n")}, ["train", "--config", "c.yaml"], "invalid YAML"),
    ("cfg-tab-indent", {"c.yaml": _text("model:\n\thidden_size: 3\n")}, ["train", "--config", "c.yaml"], "invalid YAML"),
    ("cfg-list", {"c.yaml": _text("- a\n- b\n")}, ["train", "--config", "c.yaml"], "top level must be a mapping"),
    ("cfg-scalar", {"c.yaml": _text("hello\n")}, ["train", "--config", "c.yaml"], "top level must be a mapping"),
    ("cfg-python-tag", {"c.yaml": _text("seed: !!python/object/apply:os.system ['touch pwned']\n")}, ["train", "--config", "c.yaml"], "invalid YAML"),
    ("cfg-alias-bomb", {"c.yaml": _text(FILE_BOMB)}, ["train", "--config", "c.yaml"], "YAML expands to more than"),
    ("cfg-self-alias", {"c.yaml": _text("a: &a [*a]\n")}, ["train", "--config", "c.yaml"], "refers to itself"),
    ("cfg-too-big", {"c.yaml": _text("# pad\n" * 200_000)}, ["train", "--config", "c.yaml"], "larger than 1 MB"),
    ("cfg-binary", {"c.yaml": _bytes(b"\xff\xfe\x00\x01")}, ["train", "--config", "c.yaml"], "not UTF-8"),
    ("cfg-missing", {}, ["train", "--config", "nope.yaml"], "nope.yaml: file not found"),
    ("cfg-directory", {"d/x": _text("")}, ["train", "--config", "d"], "d: cannot read (Is a directory)"),
    ("cfg-long-value", {"c.yaml": _text("training:\n  learning_rate: " + "z" * 10_000 + "\n")}, ["train", "--config", "c.yaml"], "...)"),
    ("cfg-with-resume", {"c.yaml": _text("seed: 1\n")}, ["train", "--config", "c.yaml", "--resume", "x.pt"], "--config: cannot be combined with --resume"),
    ("cfg-default-file-bad", {"config.yaml": _text("model:\n  num_layers: 0\n")}, ["train"], "config.yaml: model.num_layers"),
    ("cfg-dashboard", {"c.yaml": _text("training:\n  lr: 1\n")}, ["--config", "c.yaml"], "did you mean 'training.learning_rate'"),
    # -- --set and other options ------------------------------------------------------------------------
    ("set-no-equals", {}, ["train", "--set", "training.learning_rate"], "--set: expected key=value"),
    ("set-empty-key", {}, ["train", "--set", "=3"], "--set: expected key=value"),
    ("set-abbreviation", {}, ["train", "--set", "training.lr=0.1"], "--set: unknown key 'training.lr' (did you mean 'training.learning_rate'?)"),
    ("set-typo-section", {}, ["train", "--set", "trainng.epochs=3"], "--set: unknown key 'trainng' (did you mean 'training'?)"),
    ("set-not-a-section", {}, ["train", "--set", "training.learning_rate.x=1"], "--set: training.learning_rate: Input should be a valid number (got {'x': 1})"),
    ("set-wrong-type", {}, ["train", "--set", "training.batch_size=many"], "--set: training.batch_size: Input should be a valid integer"),
    ("set-negative-lr", {}, ["train", "--set", "training.learning_rate=-1"], "--set: training.learning_rate"),
    ("set-lr-too-big", {}, ["train", "--set", "training.learning_rate=1e9"], "--set: training.learning_rate: Input should be less than or equal to 10"),
    ("set-window-1", {}, ["train", "--set", "data.window=1"], "--set: data.window"),
    ("set-layers-0", {}, ["train", "--set", "model.num_layers=0"], "--set: model.num_layers"),
    ("set-optimizer", {}, ["train", "--set", "training.optimizer=sgd"], "--set: training.optimizer"),
    ("set-device", {}, ["train", "--set", "device=tpu"], "--set: device"),
    ("set-flow-bomb", {}, ["train", "--set", f"seed={FLOW_BOMB}"], "--set: YAML expands to more than"),
    ("set-long-value", {}, ["train", "--set", "seed=" + "q" * 5000], "...)"),
    ("set-section-value", {}, ["train", "--set", "training=3"], "--set: training: Input should be"),
    ("set-early-patience", {}, ["train", "--set", "training.early_stopping.patience=0"], "--set: training.early_stopping.patience"),
    ("set-synthetic-days", {}, ["train", "--set", "data.synthetic.days=5"], "--set: data.synthetic.days"),
    ("epochs-zero", {}, ["train", "--epochs", "0"], "--epochs: training.epochs: Input should be greater than or equal to 1"),
    ("epochs-negative", {}, ["train", "--epochs", "-5"], "--epochs: training.epochs"),
    ("set-epochs-zero", {}, ["train", "--set", "training.epochs=0"], "--set: training.epochs"),
    # -- price CSVs ----------------------------------------------------------------------------------------
    ("csv-missing", {}, ["train", "--data", "nope.csv", *TINY], "nope.csv: file not found"),
    ("csv-empty", {"p.csv": _text("")}, ["train", "--data", "p.csv", *TINY], "p.csv: empty file; expected a price CSV"),
    ("csv-header-only", {"p.csv": _text("Date,Open,High,Low,Close,Volume\n")}, ["train", "--data", "p.csv", *TINY], "p.csv: no data rows"),
    ("csv-no-volume", {"p.csv": _csv(lambda f: f.drop(columns=["Volume"]))}, ["train", "--data", "p.csv", *TINY], "missing column(s) volume"),
    ("csv-text-close", {"p.csv": _cell("Close", 5, "n/a")}, ["train", "--data", "p.csv", *TINY], "row 7: column 'close' is not a number"),
    ("csv-negative-low", {"p.csv": _cell("Low", 3, -1.0)}, ["train", "--data", "p.csv", *TINY], "row 5: column 'low' is not positive"),
    ("csv-zero-close", {"p.csv": _cell("Close", 9, 0.0)}, ["train", "--data", "p.csv", *TINY], "row 11: column 'close' is not positive"),
    ("csv-negative-volume", {"p.csv": _cell("Volume", 4, -3)}, ["train", "--data", "p.csv", *TINY], "row 6: column 'volume' is negative"),
    ("csv-inf-close", {"p.csv": _cell("Close", 8, "inf")}, ["train", "--data", "p.csv", *TINY], "row 10: column 'close' is not a finite number (inf)"),
    ("csv-high-below-low", {"p.csv": _csv(lambda f: f.assign(High=f["High"].where(f.index != 4, f["Low"] * 0.5)))},
     ["train", "--data", "p.csv", *TINY], "row 6: High"),
    ("csv-duplicate-date", {"p.csv": _csv(lambda f: pd.concat([f, f.iloc[[10]]]))}, ["train", "--data", "p.csv", *TINY], "duplicate date"),
    ("csv-bad-date", {"p.csv": _cell("Date", 2, "someday")}, ["train", "--data", "p.csv", *TINY], "row 4: cannot parse date"),
    ("csv-too-short", {"p.csv": _csv(lambda f: f.iloc[:20])}, ["train", "--data", "p.csv", *TINY], "too few rows"),
    ("csv-binary", {"p.csv": _bytes(bytes(range(256)) * 8)}, ["train", "--data", "p.csv", *TINY], "p.csv"),
    ("csv-directory", {"p/x": _text("")}, ["train", "--data", "p", *TINY], "p: is a directory; expected a price CSV"),
    ("csv-absent-ticker", {"p.csv": _csv(lambda f: pd.concat([f.assign(Ticker="AAA"), f.assign(Ticker="BBB")]))},
     ["train", "--data", "p.csv", "--set", "data.tickers=[ZZZ]", *TINY], "ticker(s) ZZZ not in data"),
    # -- checkpoints -----------------------------------------------------------------------------------------
    ("ckpt-missing", {}, ["train", "--resume", "nope.pt"], "nope.pt: no such file"),
    ("ckpt-directory", {"runs/x.txt": _text("")}, ["train", "--resume", "runs"], "runs: is a directory"),
    ("ckpt-empty", {"c.pt": _bytes(b"")}, ["train", "--resume", "c.pt"], "c.pt: is empty (0 bytes)"),
    ("ckpt-text", {"c.pt": _text("not a checkpoint\n")}, ["train", "--resume", "c.pt"], "c.pt: is text, not a checkpoint"),
    ("ckpt-random", {"c.pt": _bytes(bytes(range(7, 256)) * 4)}, ["train", "--resume", "c.pt"], "c.pt: is binary data"),
    ("ckpt-pickle", {"c.pt": _bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.")}, ["train", "--resume", "c.pt"], "c.pt: is a pickle"),
    ("ckpt-evil", {"c.pt": lambda p: torch.save({"x": _Evil()}, p)}, ["train", "--resume", "c.pt"], "refused unloaded"),
    ("ckpt-truncated", {"c.pt": _truncated}, ["train", "--resume", "c.pt"], "c.pt: is truncated or damaged"),
    ("ckpt-foreign-zip", {"c.pt": _foreign_zip}, ["train", "--resume", "c.pt"], "c.pt: is a zip archive that torch cannot read"),
    ("ckpt-tensor", {"c.pt": lambda p: torch.save(torch.zeros(3), p)}, ["train", "--resume", "c.pt"], "holding a Tensor"),
    ("ckpt-foreign-dict", {"c.pt": lambda p: torch.save({"state_dict": {}}, p)}, ["train", "--resume", "c.pt"], "no 'format' key"),
    ("ckpt-format-2", {"c.pt": _checkpoint(format=2)}, ["train", "--resume", "c.pt"], "is checkpoint format 2"),
    ("ckpt-lacks-keys", {"c.pt": _checkpoint(model=None, rng=None)}, ["train", "--resume", "c.pt"], "lacks model, rng"),
    ("ckpt-epoch-text", {"c.pt": _checkpoint(epoch="3")}, ["train", "--resume", "c.pt"], "'epoch' is a str, expected int"),
    ("ckpt-temporary", {".last.pt.ab12.tmp": _checkpoint()}, ["train", "--resume", ".last.pt.ab12.tmp"], "temporary of an unfinished save"),
    ("ckpt-device-file", {}, ["train", "--resume", "/dev/null"], "/dev/null: is not a regular file"),
    ("ckpt-config-bad", {"c.pt": _checkpoint(config={"training": {"epochs": 0}})}, ["train", "--resume", "c.pt"], "c.pt (config): training.epochs"),
    ("ckpt-with-bad-set", {"c.pt": _checkpoint(config={})}, ["train", "--resume", "c.pt", "--set", "model.dropout=2"], "--set: model.dropout"),
    # -- logs: diagnose, replay, export -------------------------------------------------------------------------
    ("log-missing", {}, ["diagnose", "nope.jsonl"], "nope.jsonl: file not found"),
    ("log-empty", {"e.jsonl": _text("")}, ["diagnose", "e.jsonl"], "e.jsonl: empty file"),
    ("log-not-events", {"e.jsonl": _text("hello\nworld\n")}, ["diagnose", "e.jsonl"], "no stockpred-tui events"),
    ("log-all-invalid", {"e.jsonl": _log([_epoch_with(train_loss="x"), _epoch_with(epoch="2")])}, ["diagnose", "e.jsonl"], "no stockpred-tui events"),
    ("log-only-unknown", {"e.jsonl": _log(['{"type": "\\u001b]0;owned\\u0007", "x": 1}'])}, ["diagnose", "e.jsonl"], "no stockpred-tui events"),
    ("log-binary", {"e.jsonl": _bytes(bytes(range(256)))}, ["diagnose", "e.jsonl"], "e.jsonl"),
    ("log-run-dir-without-log", {"run/config.yaml": _text("seed: 1\n")}, ["diagnose", "run"], "events.jsonl: file not found"),
    ("log-csv-no-epoch", {"m.csv": _text("step,loss\n1,0.5\n")}, ["diagnose", "m.csv"], "no 'epoch' column"),
    ("log-csv-no-loss", {"m.csv": _text("epoch,accuracy\n0,0.5\n")}, ["diagnose", "m.csv"], "without a loss column"),
    ("log-csv-missing", {}, ["diagnose", "nope.csv"], "nope.csv"),
    ("replay-missing", {}, ["replay", "nope.jsonl"], "nope.jsonl: file not found"),
    ("replay-empty", {"e.jsonl": _text("")}, ["replay", "e.jsonl"], "e.jsonl: empty file"),
    ("replay-follow-missing", {}, ["replay", "nope.jsonl", "--follow"], "nope.jsonl: file not found"),
    ("export-exists", {"e.jsonl": _log([e.to_json() for e in healthy_run(2)]), "out.csv": _text("keep\n")},
     ["export", "e.jsonl", "--csv", "out.csv"], "out.csv: already exists; pass --force"),
    ("export-to-directory", {"e.jsonl": _log([e.to_json() for e in healthy_run(2)]), "outdir/x": _text("")},
     ["export", "e.jsonl", "--csv", "outdir"], "outdir: is a directory"),
    ("export-missing-parent", {"e.jsonl": _log([e.to_json() for e in healthy_run(2)])},
     ["export", "e.jsonl", "--csv", "no/such/out.csv"], "parent directory no/such does not exist"),
    ("export-parent-is-file", {"e.jsonl": _log([e.to_json() for e in healthy_run(2)]), "afile": _text("x")},
     ["export", "e.jsonl", "--csv", "afile/out.csv"], "parent directory afile does not exist"),
    ("export-bad-input", {"e.jsonl": _text("")}, ["export", "e.jsonl", "--csv", "out.csv"], "e.jsonl: empty file"),
    ("export-missing-input", {}, ["export", "nope.jsonl", "--csv", "out.csv"], "nope.jsonl: file not found"),
    ("export-force-directory", {"e.jsonl": _log([e.to_json() for e in healthy_run(2)]), "outdir/x": _text("")},
     ["export", "e.jsonl", "--csv", "outdir", "--force"], "outdir: is a directory"),
]


def _compressed(compress, cut: bool = False):
    """A price CSV through `compress`, whole or cut in half."""
    def make(path):
        data = compress(_prices().to_csv(index=False).encode())
        path.write_bytes(data[: len(data) // 2] if cut else data)
    return make


def _dates(texts):
    """A price CSV whose Date column is `texts` (one row each)."""
    return lambda path: _prices(len(texts)).assign(Date=texts).to_csv(path, index=False)


def _iso_with(changes: dict):
    """ISO dates, but for the rows (0-based) in `changes`."""
    texts = list(pd.bdate_range("2020-01-01", periods=120).strftime("%Y-%m-%d"))
    return _dates([changes.get(i, t) for i, t in enumerate(texts)])


# Day and month both 12 or below, never equal: every date reads both ways.
AMBIGUOUS = [f"{d:02d}{{sep}}{m:02d}{{sep}}{{year}}" for m in range(1, 13) for d in range(1, 13) if d != m][:60]
FLAT = {"Open": 100.0, "High": 100.0, "Low": 100.0, "Close": 100.0, "Adj Close": 100.0}
GROWING = [100 * 1.01 ** i for i in range(120)]

ROUND_THREE = [
    # -- compressed CSVs: garbage, cut in half, a damaged block ----------------------------------------
    ("gz-garbage", {"p.csv.gz": _bytes(b"garbage" * 100)}, ["train", "--data", "p.csv.gz", *TINY], "p.csv.gz: not a readable gzip file"),
    ("gz-cut-in-half", {"p.csv.gz": _compressed(gzip.compress, cut=True)}, ["train", "--data", "p.csv.gz", *TINY], "damaged or cut short"),
    ("gz-damaged-block", {"p.csv.gz": lambda p: _compressed(gzip.compress)(p) or p.write_bytes(p.read_bytes()[:12] + b"\0" * 40 + p.read_bytes()[52:])},
     ["train", "--data", "p.csv.gz", *TINY], "p.csv.gz: not a readable gzip file"),
    ("xz-cut-in-half", {"p.csv.xz": _compressed(lzma.compress, cut=True)}, ["train", "--data", "p.csv.xz", *TINY], "not a readable xz file"),
    ("bz2-garbage", {"p.csv.bz2": _bytes(b"BZh9" + b"x" * 200)}, ["train", "--data", "p.csv.bz2", *TINY], "not a readable bz2 file"),
    # -- duplicate keys, booleans and infinities where a number is meant, empty paths -----------------------
    ("cfg-duplicate-key", {"c.yaml": _text("training:\n  learning_rate: 0.01\n  learning_rate: 0.02\n")}, ["train", "--config", "c.yaml"],
     "c.yaml: duplicate key 'training.learning_rate' on lines 2 and 3"),
    ("cfg-duplicate-section", {"c.yaml": _text("training:\n  epochs: 3\nmodel:\n  dropout: 0.1\ntraining:\n  batch_size: 8\n")},
     ["train", "--config", "c.yaml"], "c.yaml: duplicate key 'training' on lines 1 and 5"),
    ("cfg-duplicate-in-flow", {"c.yaml": _text("data: {window: 10, window: 20}\n")}, ["train", "--config", "c.yaml"], "duplicate key 'data.window' on lines 1 and 1"),
    ("set-duplicate-key", {}, ["train", "--set", "data.synthetic={days: 500, days: 600}"], "--set: duplicate key 'days'"),
    ("cfg-epochs-true", {"c.yaml": _text("training:\n  epochs: true\n")}, ["train", "--config", "c.yaml"], "training.epochs: Input should be a valid integer (got True)"),
    ("cfg-seed-yes", {"c.yaml": _text("seed: yes\n")}, ["train", "--config", "c.yaml"], "c.yaml: seed: Input should be a valid integer (got True)"),
    ("cfg-bool-as-number", {"c.yaml": _text("data:\n  scale_target: 1\n")}, ["train", "--config", "c.yaml"], "data.scale_target: Input should be a valid boolean (got 1)"),
    ("set-lr-boolean", {}, ["train", "--set", "training.learning_rate=on"], "--set: training.learning_rate: Input should be a valid number (got True)"),
    ("cfg-reg-weight-inf", {"c.yaml": _text("training:\n  reg_weight: .inf\n")}, ["train", "--config", "c.yaml"], "training.reg_weight: Input should be a finite number"),
    ("cfg-warmup-inf", {"c.yaml": _text("training:\n  warmup:\n    epochs: .inf\n")}, ["train", "--config", "c.yaml"], "training.warmup.epochs: Input should be a finite number"),
    ("set-min-delta-nan", {}, ["train", "--set", "training.early_stopping.min_delta=.nan"], "--set: training.early_stopping.min_delta: Input should be a finite number"),
    ("data-empty", {}, ["train", "--data", ""], "--data: empty path"),
    ("config-empty", {}, ["train", "--config", " "], "--config: empty path"),
    ("resume-empty", {}, ["train", "--resume", ""], "--resume: empty path"),
    ("set-log-dir-empty", {}, ["train", "--set", "log_dir="], "--set: log_dir: must not be empty (give a path) (got '')"),
    ("set-source-empty", {}, ["train", "--set", "data.source= "], "--set: data.source: must not be empty"),
    ("log-dir-empty", {}, ["runs", "--log-dir", ""], "--log-dir: empty path"),
    ("replay-empty-path", {}, ["replay", ""], "PATH: empty path"),
    # -- prices: date orders, flat tickers ------------------------------------------------------------------
    ("dates-ambiguous", {"p.csv": _dates([d.format(sep="/", year=2015) for d in AMBIGUOUS])}, ["train", "--data", "p.csv", *TINY],
     "row 2: date '02/01/2015' could be day-first or month-first and no row says which: set data.date_format ('%d/%m/%Y' or '%m/%d/%Y')"),
    ("dates-ambiguous-dots", {"p.csv": _dates([d.format(sep=".", year=15) for d in AMBIGUOUS])}, ["train", "--data", "p.csv", *TINY],
     "data.date_format ('%d.%m.%y' or '%m.%d.%y')"),
    ("dates-mixed-orders", {"p.csv": _iso_with({1: "15/01/2015", 4: "01/13/2015"})}, ["train", "--data", "p.csv", *TINY],
     "row 3: date '15/01/2015' is day-first but row 6: '01/13/2015' is month-first; the file mixes date orders"),
    ("dates-mixed-dashes", {"p.csv": _iso_with({7: "01-13-2015", 9: "13-01-2015"})}, ["train", "--data", "p.csv", *TINY], "row 11: date '13-01-2015' is day-first"),
    ("dates-not-the-format", {"p.csv": _iso_with({})}, ["train", "--data", "p.csv", "--set", "data.date_format=%d/%m/%Y", *TINY],
     "row 2: date '2020-01-01' does not match data.date_format '%d/%m/%Y'"),
    ("flat-ticker", {"p.csv": _csv(lambda f: f.assign(**FLAT))}, ["train", "--data", "p.csv", *TINY],
     "p.csv: P: its prices never move (every daily return is 0): zero variance"),
    ("flat-second-ticker", {"p.csv": _csv(lambda f: pd.concat([f.assign(Ticker="AAA"), f.assign(Ticker="BBB", **FLAT)]))},
     ["train", "--data", "p.csv", "--set", "data.tickers=[AAA, BBB]", *TINY], "BBB: its prices never move"),
    ("steady-growth", {"p.csv": _csv(lambda f: f.assign(Open=GROWING, High=GROWING, Low=GROWING, Close=GROWING, **{"Adj Close": GROWING}))},
     ["train", "--data", "p.csv", *TINY], "P: its prices never move (every daily return is 0.00995)"),
    # -- checkpoint counters and shapes ---------------------------------------------------------------------
    ("ckpt-epoch-negative", {"c.pt": _checkpoint(epoch=-5)}, ["train", "--resume", "c.pt"], "c.pt: is a damaged stockpred-tui checkpoint: 'epoch' Input should be greater than or equal to 0 (got -5)"),
    ("ckpt-step-negative", {"c.pt": _checkpoint(step=-1)}, ["train", "--resume", "c.pt"], "'step' Input should be greater than or equal to 0 (got -1)"),
    ("ckpt-step-below-epoch", {"c.pt": _checkpoint(epoch=5, step=2)}, ["train", "--resume", "c.pt"], "step 2 is below epoch 5"),
    ("ckpt-batch-beyond-epoch", {"c.pt": _checkpoint(perm=torch.randperm(10), batch=11)}, ["train", "--resume", "c.pt"], "batch 11 is beyond its epoch of 10 training windows"),
    ("ckpt-batch-negative", {"c.pt": _checkpoint(batch=-2)}, ["train", "--resume", "c.pt"], "'batch' Input should be greater than or equal to 0"),
    ("ckpt-perm-floats", {"c.pt": _checkpoint(perm=torch.rand(10))}, ["train", "--resume", "c.pt"], "'perm' must be an epoch order (a 1-D int64 tensor), not a torch.float32"),
    ("ckpt-perm-repeats", {"c.pt": _checkpoint(perm=torch.zeros(10, dtype=torch.long))}, ["train", "--resume", "c.pt"], "'perm' must be an order of the 10 training windows"),
    ("ckpt-perm-a-list", {"c.pt": _checkpoint(perm=[3, 1, 2])}, ["train", "--resume", "c.pt"], "'perm' Input should be an instance of Tensor"),
    ("ckpt-rng-text", {"c.pt": _checkpoint(rng={"torch": "abc"})}, ["train", "--resume", "c.pt"], "'rng.torch' Input should be an instance of Tensor (got 'abc')"),
    ("ckpt-rng-floats", {"c.pt": _checkpoint(rng={"shuffle": torch.zeros(5)})}, ["train", "--resume", "c.pt"], "'rng.shuffle' must be a random state (a 1-D uint8 tensor)"),
    ("ckpt-hparam-range", {"c.pt": _checkpoint(hparams={"lr": 50.0})}, ["train", "--resume", "c.pt"], "'hparams' learning rate: must be at most 10"),
    ("ckpt-hparam-unknown", {"c.pt": _checkpoint(hparams={"momentum": 0.9})}, ["train", "--resume", "c.pt"], "'hparams' momentum: unknown setting"),
    ("ckpt-best-epoch-later", {"c.pt": _checkpoint(early={"best_epoch": 9})}, ["train", "--resume", "c.pt"], "early.best_epoch 9 is after epoch 1"),
    ("ckpt-scaler-nan", {"c.pt": _checkpoint(scaler={"target_std": float("nan")})}, ["train", "--resume", "c.pt"], "'scaler.target_std' Input should be a finite number"),
    ("ckpt-sums-length", {"c.pt": _checkpoint(acc=torch.zeros(3))}, ["train", "--resume", "c.pt"], "'acc' must hold 4 sums, not 3"),
    ("resume-set-seed", {"c.pt": _checkpoint(config={"seed": 42})}, ["train", "--resume", "c.pt", "--set", "seed=7"],
     "--set: seed: a resumed run goes on from its checkpoint's random state"),
    ("resume-set-seed-zero", {"c.pt": _checkpoint(config={"seed": 42})}, ["train", "--resume", "c.pt", "--set", "seed=0"],
     "a seed applies to new runs only"),
    # -- the environment, the command line -------------------------------------------------------------------
    ("runs-log-dir-is-a-file", {"logs": _text("not a directory\n")}, ["runs", "--log-dir", "logs"], "logs: is a regular file, not a directory"),
    ("attach-log-dir-is-a-file", {"logs": _text("x")}, ["attach", "--log-dir", "logs"], "logs: is a regular file, not a directory"),
    ("runs-tui-missing-path", {}, ["runs", "--tui", "nope.csv"], "nope.csv: file not found"),
]
CASES += ROUND_THREE


def tree(root) -> dict:
    """Every path under root with its size and mtime (symlinks not followed)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            found[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns, info.st_mode)
    return found


@pytest.mark.parametrize("files, argv, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_changes(tmp_path, capsys, files, argv, expected):
    for name, make in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
    before = tree(tmp_path)
    code = main(list(argv))
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (2, 1), err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert "\x1b" not in err and len(err) < 400
    assert tree(tmp_path) == before


def test_the_matrix_is_large_and_its_ids_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 150 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("argv, expected", [
    (["train", "--threads", "0"], "error: argument --threads: '0': must be 'auto' or a whole number from 1 to 1024; "
                                  "see 'stockpred-tui train --help'"),
    (["fly"], "error: argument COMMAND: invalid choice: 'fly'"),
    (["train", "--bogus"], "error: unrecognized arguments: --bogus; see 'stockpred-tui --help'"),
    (["diagnose", "x", "--fail-on", "never"], "error: argument --fail-on: invalid choice: 'never'"),
    (["export", "e.jsonl"], "error: the following arguments are required: --csv; see 'stockpred-tui export --help'"),
])
def test_a_bad_flag_or_command_is_one_line_exit_2(capsys, argv, expected):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and err.startswith(expected) and "usage:" not in err


def test_a_hostile_name_in_an_error_is_printed_on_one_line_without_escapes(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("epoch,\x1b]0;owned\x07\x1b[2Jacc\nwrong\n0,0.5\n")
    assert main(["diagnose", "m.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\x07" not in err and "without a loss column" in err
