"""Min-max downsampling: about two points per column, so redraw cost stays flat however long the run."""

from __future__ import annotations

import numpy as np


def minmax_downsample(x, y, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each bucket's minimum and maximum (in x order), dropping non-finite values."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    buckets = max(1, int(buckets))
    if len(y) <= 2 * buckets:
        return x, y
    edges = np.linspace(0, len(y), buckets + 1).astype(np.int64)[:-1]
    lows = np.minimum.reduceat(y, edges)
    highs = np.maximum.reduceat(y, edges)
    # Place each bucket's two extremes at its first and middle x so the envelope reads left to right.
    mids = np.minimum(edges + np.diff(np.append(edges, len(y))) // 2, len(y) - 1)
    xs = np.column_stack([x[edges], x[mids]]).ravel()
    ys = np.column_stack([lows, highs]).ravel()
    return xs, ys

