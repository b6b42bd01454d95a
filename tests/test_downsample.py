"""Min-max downsampling keeps the extremes, the time order and a bounded size."""

import numpy as np

from tui.downsample import minmax_downsample


def test_short_series_pass_through_without_non_finite_values():
    x, y = minmax_downsample(range(5), [3.0, float("nan"), 2.0, float("inf"), 1.0], 10)
    assert x.tolist() == [0, 2, 4] and y.tolist() == [3.0, 2.0, 1.0]


def test_falling_series_stays_monotonic_and_bounded():
    values = np.linspace(2.0, 1.0, 10_000)
    x, y = minmax_downsample(np.arange(10_000), values, 30)
    assert len(y) <= 60 and np.all(np.diff(y) < 0) and np.all(np.diff(x) > 0)
    assert y[0] == 2.0 and y[-1] == 1.0


def test_spikes_survive_at_their_own_position():
    values = np.ones(1_000)
    values[437], values[812] = 9.0, -4.0
    x, y = minmax_downsample(np.arange(1_000), values, 20)
    assert (437.0, 9.0) in zip(x.tolist(), y.tolist()) and (812.0, -4.0) in zip(x.tolist(), y.tolist())
