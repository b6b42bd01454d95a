"""Build the labelled diagnosis suite under tests/diagnosis_suite/ (a few minutes on 2 CPU cores).

Engine runs with faults induced through config overrides (the keys of `--set`), the bundled real prices and a
hand-made leak, an independent plain-PyTorch trainer written out in Keras and Lightning formats, hand-built CSVs,
and the real Keras 3 (torch backend) and pytorch-lightning CSV loggers (`pip install -e ".[diagsuite]"`).

    python3 bench/build_diagnosis_suite.py [--only NAME ...] [--skip-real-loggers]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench import suite_engine as E  # noqa: E402
from bench import suite_foreign as F  # noqa: E402
from engine.health.series import finite  # noqa: E402
from engine.store.log_reader import read_any  # noqa: E402

SUITE = ROOT / "tests" / "diagnosis_suite"
OVERFIT = {"n_train": 80, "hidden": 256, "lr": 0.003, "epochs": 60}
UNSCALED = {"offset": 50.0, "gain": 10.0}

# name, label, onset (None: computed), keyword arguments. Plain trainer in the Keras CSVLogger format:
PLAIN_KERAS = [
    ("healthy", "healthy", None, {}),
    ("healthy_seed7_wide", "healthy", None, {"seed": 7, "hidden": 64, "n_train": 3000, "epochs": 25}),
    ("healthy_unscaled_target", "healthy", None, {**UNSCALED, "lr": 0.01, "epochs": 40}),
    ("healthy_tiny_losses", "healthy", None, {"noise": 0.01, "n_train": 100, "hidden": 256, "epochs": 80}),
    ("harder_val", "harder-val", None, {"val_noise": 1.0}),
    ("overfit_small_val_set", "overfitting", None, {"n_val": 25, "seed": 3}),
    ("overfit_small_data", "overfitting", None, OVERFIT),
    ("overfit_seed5_sgd", "overfitting", None, {**OVERFIT, "seed": 5, "optimizer": "sgd", "lr": 0.05, "epochs": 120}),
    ("nan_sgd_unscaled", "exploding", None, {**UNSCALED, "optimizer": "sgd", "lr": 0.05, "epochs": 10}),
    ("nan_lr_tripled", "exploding", None, {"optimizer": "sgd", "lr": 0.001, "lr_factor": 3.0, "epochs": 14}),
    ("unstable_sgd", "unstable-lr", 1, {"optimizer": "sgd", "lr": 0.3}),
    ("unstable_adam_unscaled", "unstable-lr", 1, {**UNSCALED, "lr": 0.5, "epochs": 25}),
    ("frozen_lr0", "frozen", 1, {"lr": 0.0, "epochs": 15}),
]
PLAIN_LIGHTNING = [
    ("healthy", "healthy", None, {"seed": 11}),
    ("harder_val", "harder-val", None, {"seed": 12, "val_noise": 0.9}),
    ("overfit", "overfitting", None, {**OVERFIT, "seed": 13}),
    ("nan_sgd", "exploding", None, {**UNSCALED, "optimizer": "sgd", "lr": 0.05, "epochs": 8, "seed": 14}),
    ("unstable_sgd", "unstable-lr", 1, {"optimizer": "sgd", "lr": 0.3, "seed": 15}),
]
# Batch 2 (written after the rules, scored once): each plain run written in both formats.
PLAIN_BOTH = [
    ("b2_healthy_h16", "healthy", None, {"seed": 51, "hidden": 16, "epochs": 40}),
    ("b2_healthy_800", "healthy", None, {"seed": 52, "n_train": 800, "lr": 3e-3}),
    ("b2_harder_val", "harder-val", None, {"seed": 53, "val_noise": 1.5}),
    ("b2_overfit_60", "overfitting", None, {"seed": 54, "n_train": 60, "hidden": 128, "lr": 0.005, "epochs": 80}),
    ("b2_overfit_wide", "overfitting", None, {"seed": 55, "n_train": 120, "hidden": 512, "lr": 0.001, "epochs": 60, "noise": 0.8}),
    ("b2_nan_sgd", "exploding", None, {"seed": 56, "optimizer": "sgd", "lr": 0.2, "offset": 20, "gain": 5, "epochs": 8}),
    ("b2_nan_lr_x2.5", "exploding", None, {"seed": 57, "optimizer": "sgd", "lr": 0.003, "lr_factor": 2.5, "epochs": 14}),
    ("b2_unstable_sgd", "unstable-lr", 1, {"seed": 58, "optimizer": "sgd", "lr": 0.35}),
]
REAL_KERAS = [
    ("healthy", "healthy", None, {"epochs": 25}),
    ("harder_val", "harder-val", None, {"val_noise": 1.0, "epochs": 25, "seed": 1}),
    ("overfit", "overfitting", None, {**OVERFIT, "epochs": 60, "seed": 2}),
    ("nan_lr_tripled", "exploding", None, {"optimizer": "sgd", "lr": 0.001, "lr_factor": 3.0, "epochs": 14, "seed": 3}),
    ("nan_from_epoch1", "exploding", None, {**UNSCALED, "optimizer": "sgd", "lr": 0.05, "epochs": 6, "seed": 4}),
    ("unstable_sgd", "unstable-lr", 1, {"optimizer": "sgd", "lr": 0.3, "epochs": 25, "seed": 5}),
    ("frozen_not_trainable", "frozen", 1, {"trainable": False, "epochs": 12, "seed": 6}),
    ("b2_healthy_h16", "healthy", None, {"seed": 61, "epochs": 30, "hidden": 16}),
    ("b2_overfit_60", "overfitting", None, {"seed": 62, "n_train": 60, "hidden": 128, "lr": 0.005, "epochs": 70}),
    ("b2_nan_lr_x4", "exploding", None, {"seed": 63, "optimizer": "sgd", "lr": 0.003, "lr_factor": 4.0, "epochs": 12}),
    ("b2_unstable_sgd", "unstable-lr", 1, {"seed": 64, "optimizer": "sgd", "lr": 0.35, "epochs": 25}),
]
REAL_LIGHTNING = [
    ("healthy_step_loss", "healthy", None, {"epochs": 20}),
    ("healthy_epoch_loss", "healthy", None, {"epochs": 20, "on_epoch": True, "seed": 1}),
    ("harder_val", "harder-val", None, {"val_noise": 1.0, "epochs": 20, "seed": 2}),
    ("overfit", "overfitting", None, {**OVERFIT, "epochs": 60, "seed": 3}),
    ("nan_sgd", "exploding", None, {**UNSCALED, "optimizer": "sgd", "lr": 0.05, "epochs": 6, "seed": 4}),
    ("unstable_sgd", "unstable-lr", 1, {"optimizer": "sgd", "lr": 0.3, "epochs": 20, "seed": 5}),
    ("b2_healthy_epoch_loss", "healthy", None, {"seed": 71, "epochs": 25, "on_epoch": True}),
    ("b2_overfit_sparse_train_rows", "overfitting", None, {"seed": 72, "n_train": 60, "hidden": 128, "lr": 0.005, "epochs": 70}),
    ("b2_nan_sgd", "exploding", None, {"seed": 73, "optimizer": "sgd", "lr": 0.2, "offset": 20, "gain": 5, "epochs": 6}),
    ("b2_unstable_sgd", "unstable-lr", 1, {"seed": 74, "optimizer": "sgd", "lr": 0.35, "epochs": 20}),
]


def computed_onset(path: Path, truth: str) -> int | None:
    """Onset by definition: the first non-finite or above-10 loss, or the epoch after the best val loss."""
    rows = read_any(path)[0].rows()
    if truth == "exploding":
        return next(r.epoch for r in rows if any(not finite(v) or v > 10 for v in (r.train_loss, r.val_loss) if v is not None))
    if truth == "overfitting":
        return min((r for r in rows if finite(r.val_loss)), key=lambda r: r.val_loss).epoch + 1
    return None


def hand_built(folder: Path) -> list[tuple[str, str, int | None]]:
    """CSV logs written by hand: the note's frozen numbers, a harder period with a steady gap, a calmer val that overfits."""
    cases = []
    note = folder / "hand_keras_note_frozen.csv"
    note.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{0.347410 - 0.000058 * min(i, 1) - 1e-6 * i:.6f},{0.347144 - 0.00003 * min(i, 1):.6f}\n"
                                                       for i in range(12)))
    cases.append((note.name, "frozen", 1))
    steady = folder / "hand_keras_steady_gap.csv"
    steady.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{0.60 * 0.97 ** i:.5f},{0.66 * 0.97 ** i + 0.05:.5f}\n" for i in range(25)))
    cases.append((steady.name, "harder-val", None))
    calm = folder / "hand_keras_calm_val_overfit.csv"
    rows = [(0.50 - 0.012 * i, 0.40 - 0.01 * i if i <= 8 else 0.32 + 0.012 * (i - 8)) for i in range(20)]
    calm.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{t:.4f},{v:.4f}\n" for i, (t, v) in enumerate(rows)))
    cases.append((calm.name, "overfitting", 10))
    return cases


def main() -> int:
    """Build the requested logs and merge their labels into labels.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--skip-real-loggers", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    SUITE.mkdir(parents=True, exist_ok=True)
    labels_path = SUITE / "labels.json"
    labels = json.loads(labels_path.read_text()) if labels_path.exists() else {}
    wanted = lambda name: not args.only or any(o in name for o in args.only)  # noqa: E731

    def label(name, truth, onset, fmt, how):
        labels[name] = {"label": truth, "onset": onset, "format": fmt, "built_by": how}
        print(f"{name:48} {truth:18} onset={onset}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        leak = E.leak_csv(Path(tmp) / "leaked_prices.csv")
        for name, truth, onset, epochs, overrides, changes in E.RUNS:
            file = f"engine_{name}.jsonl"
            if not wanted(file):
                continue
            E.train_engine([o.replace("@LEAK", str(leak)) for o in overrides], epochs, changes, SUITE / file)
            onset = onset or computed_onset(SUITE / file, truth)
            label(file, truth, onset, "stockpred", f"engine --set {' '.join(overrides)}" + (f"; mid-run {changes}" if changes else ""))
    both = [(fmt, spec) for spec in PLAIN_BOTH for fmt in ("keras", "lightning")]
    for suffix, (name, truth, onset, kwargs) in [("keras", s) for s in PLAIN_KERAS] + [("lightning", s) for s in PLAIN_LIGHTNING] + both:
        file = f"plain_{suffix}_{name}.csv"
        if not wanted(file):
            continue
        rows = F.plain_run(**kwargs)
        (F.write_keras_format if suffix == "keras" else F.write_lightning_format)(SUITE / file, rows)
        label(file, truth, onset or computed_onset(SUITE / file, truth), suffix, f"plain PyTorch trainer {kwargs}")
    for name, truth, onset in hand_built(SUITE):
        label(name, truth, onset, "keras", "hand-built CSV")
    if not args.skip_real_loggers:
        for prefix, specs, run in (("real_keras", REAL_KERAS, F.keras_run), ("real_lightning", REAL_LIGHTNING, F.lightning_run)):
            for name, truth, onset, kwargs in specs:
                file = f"{prefix}_{name}.csv"
                if not wanted(file):
                    continue
                run(SUITE / file, **kwargs)
                onset = onset or computed_onset(SUITE / file, truth)
                label(file, truth, onset, prefix.split("_")[1], f"{prefix.replace('_', ' ')} {kwargs}")
    labels_path.write_text(json.dumps(dict(sorted(labels.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
