"""How the run progresses: the guide's healthy descent (healthy), a validation plateau (plateau), and the
early-stopping point replayed from the log (early_stopping)."""

from __future__ import annotations

import math

from engine.early_stopping import Patience
from engine.health import thresholds as T
from engine.health.findings import GUIDE, Finding, not_evaluated
from engine.health.series import finite, finite_rows, loss_scale, rounded
from engine.store.history import History


def healthy(history: History) -> Finding:
    """Loss falling steadily with val following: the guide's picture of a healthy run."""
    rows = finite_rows(history, "train_loss")
    if len(rows) <= T.HEALTHY_WINDOW:
        return not_evaluated("healthy", f"needs {T.HEALTHY_WINDOW + 1} epochs to measure the pace per {T.HEALTHY_WINDOW} epochs", GUIDE)
    then, now = rows[-T.HEALTHY_WINDOW - 1], rows[-1]
    pace = then.train_loss - now.train_loss
    val_pace = (then.val_loss or math.nan) - (now.val_loss or math.nan)
    evidence = {"train_drop_per_5": rounded(pace), "val_drop_per_5": rounded(val_pace)}
    low, high = T.HEALTHY_PACE_PER_5
    if pace >= low * T.HEALTHY_SLOW_SHARE and not (val_pace < -T.OVERFIT_GAP):
        speed = "within" if low <= pace <= high else ("faster than" if pace > high else "slower than")
        return Finding.ok("healthy", f"healthy: loss falling {pace:.4f} per 5 epochs ({speed} the troubleshooting guide's "
                          "0.01–0.02)", evidence=evidence, source=GUIDE)
    return Finding.info("healthy", "not the troubleshooting guide's healthy descent over the last 5 epochs", evidence=evidence,
                        source=GUIDE)


def _plateau_text(gain: float) -> str:
    """What a gain below the plateau threshold means in words: a small improvement, or none (never a negative one)."""
    if gain > 0:
        return f"best loss improved only {gain:.2%} of the scale in {T.PLATEAU_EPOCHS} epochs"
    tail = f" (their best is {-gain:.2%} of the scale above the earlier best)" if gain < 0 else ""
    return f"no new best in {T.PLATEAU_EPOCHS} epochs{tail}"


def plateau(history: History) -> Finding:
    """Best validation loss barely improved over the last epochs, measured against a scale that does not vanish."""
    rows = finite_rows(history, "val_loss")
    if len(rows) <= T.PLATEAU_EPOCHS:
        return not_evaluated("plateau", f"needs {T.PLATEAU_EPOCHS + 1} epochs")
    scale = loss_scale(history, rows)
    before = min(r.val_loss for r in rows[:-T.PLATEAU_EPOCHS])
    recent = min(r.val_loss for r in rows[-T.PLATEAU_EPOCHS:])
    gain = (before - recent) / scale
    evidence = {"gain_vs_scale": rounded(gain), "best_before": rounded(before), "best_recent": rounded(recent)}
    if gain < T.PLATEAU_GAIN:
        return Finding.info("plateau", f"validation plateau: {_plateau_text(gain)}", evidence=evidence,
                            epoch=rows[-T.PLATEAU_EPOCHS].epoch)
    return Finding.ok("plateau", f"validation still improving ({gain:.2%} of the scale in {T.PLATEAU_EPOCHS} epochs)",
                      evidence=evidence)


def early_stopping(history: History) -> Finding:
    """Replays the trainer's patience over the validation losses (not from stored events)."""
    rows = [r for r in history.rows() if r.val_loss is not None]
    if not rows:
        return not_evaluated("early_stopping", "needs val loss", GUIDE)
    settings = history.config.get("training", {}).get("early_stopping", {})
    patience = Patience(settings.get("patience", T.EARLY_STOPPING_PATIENCE), settings.get("min_delta", T.EARLY_STOPPING_MIN_DELTA))
    stop_epoch, best_at_stop = None, None
    for r in rows:
        patience.update(r.epoch, r.val_loss if finite(r.val_loss) else math.nan)  # an infinite loss is no gain either
        if patience.exhausted and stop_epoch is None:
            stop_epoch, best_at_stop = r.epoch, patience.best_epoch
    evidence = {"best_epoch": patience.best_epoch, "best_val_loss": rounded(patience.best),
                "epochs_without_gain": patience.epochs_without_gain, "patience": patience.patience}
    if stop_epoch is not None:
        return Finding.info("early_stopping", f"early-stopping point reached at epoch {stop_epoch} (best epoch then "
                            f"{best_at_stop}, best now {patience.best_epoch})", evidence=evidence, epoch=stop_epoch, source=GUIDE)
    return Finding.ok("early_stopping", f"{patience.epochs_without_gain}/{patience.patience} epochs without improvement "
                      f"(best epoch {patience.best_epoch})", evidence=evidence, source=GUIDE)
