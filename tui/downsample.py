"""Min-max downsampling: about two points per column, so redraw cost stays flat however long the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def minmax_downsample(x, y, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each bucket's minimum and maximum at their own x, in x order, dropping non-finite values."""
    import numpy as np  # not at the top: the dashboard's first frame (no data yet) comes before numpy's import

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    buckets = max(1, int(buckets))
    if len(y) <= 2 * buckets:
        return x, y
    edges = np.linspace(0, len(y), buckets + 1).astype(np.int64)
    picked = []
    for start, end in zip(edges[:-1], edges[1:]):
        low, high = start + np.argmin(y[start:end]), start + np.argmax(y[start:end])
        # Time order matters: a falling curve must not zigzag by drawing each bucket's min before its max.
        picked.extend(sorted({int(low), int(high)}))
    index = np.asarray(picked)
    return x[index], y[index]
