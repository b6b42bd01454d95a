"""Data pipeline: adjusted prices, no split crossing, train-only scaling, baselines, CSV errors."""

import math

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.data.dataset import FEATURES, prepare_data, ticker_features
from engine.errors import InputError
from engine.data.prices import BUNDLED_PRICES, read_price_csv


def test_bundled_file_has_unadjusted_close_and_features_use_adjusted_prices():
    prices, _ = read_price_csv(BUNDLED_PRICES)
    aapl = prices[prices["ticker"] == "AAPL"].reset_index(drop=True)
    first = aapl.iloc[0]
    assert (str(first["date"].date()), first["close"], round(first["adj_close"], 2)) == ("2000-03-01", 130.31, 4.19)
    split_day = aapl.index[aapl["date"] == "2005-02-28"][0]  # AAPL's 2:1 split
    raw_return = math.log(aapl["close"][split_day] / aapl["close"][split_day - 1])
    assert raw_return < -0.68  # a fake -50% "crash" in raw closes
    features = ticker_features(aapl, 20).set_index("date")
    assert abs(features.loc["2005-02-28", "log_return"]) < 0.02

def test_no_window_crosses_a_split_and_targets_stay_in_order():
    config = load_config(None, ["data.tickers=[AAPL, IBM]"])
    data = prepare_data(config)
    ends = {name: set(data.ends[name].tolist()) for name in ("train", "val", "test")}
    assert not (ends["train"] & ends["val"]) and not (ends["val"] & ends["test"])
    # A window's rows are all of one split: every row covered by a val window is never covered by a train window.
    covered = {name: set() for name in ends}
    for name, idx in ends.items():
        for end in idx:
            covered[name].update(range(end - data.window + 1, end + 1))
    assert not (covered["train"] & covered["val"]) and not (covered["val"] & covered["test"])
    splits = data.summary["splits"]
    assert splits["train"]["last"] < splits["test"]["first"]


def test_scalers_are_fitted_on_training_rows_only():
    config = load_config(None, ["data.source=synthetic"])
    data = prepare_data(config)
    train = data.features[data.ends["train"]].numpy()
    assert abs(float(data.target_return[data.ends["train"]].mean())) < 1e-5
    assert abs(float(data.target_return[data.ends["train"]].std()) - 1.0) < 0.01
    # Validation rows are not centred by their own statistics.
    assert abs(float(data.target_return[data.ends["val"]].mean())) > 1e-3
    assert train.shape[1] == len(FEATURES)


def test_windows_are_strided_views_not_copies():
    data = prepare_data(load_config(None, ["data.source=synthetic"]))
    assert data.windows.untyped_storage().data_ptr() == data.features.untyped_storage().data_ptr()
    inputs, target, up = data.batch(data.ends["train"][:4])
    end = int(data.ends["train"][0])
    assert np.allclose(inputs[0].numpy(), data.features[end - data.window + 1:end + 1].numpy())


def test_constant_prediction_baselines():
    data = prepare_data(load_config(None, ["data.source=synthetic"]))
    train = data.baselines["train"]
    assert train["reg"] == pytest.approx(1.0, abs=1e-6)
    p = train["up_rate"]
    assert train["clf"] == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)), abs=1e-9)
    # Unscaled returns: the note's 0.347 is a constant predictor's 0.5·ln 2 plus a tiny MSE.
    raw = prepare_data(load_config(None, ["data.scale_target=false"]))
    total = raw.baselines["train"]["reg"] + 0.5 * raw.baselines["train"]["clf"]
    assert total == pytest.approx(0.5 * math.log(2), abs=0.002)


def _write(tmp_path, frame, name="p.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _prices(days=120):
    dates = pd.bdate_range("2020-01-01", periods=days)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, days)))
    return pd.DataFrame({"Date": dates.strftime("%m/%d/%Y"), "Open": close, "High": close * 1.01, "Low": close * 0.99,
                         "Close": close, "Adj Close": close, "Volume": 1000})


def test_user_csv_with_us_dates_and_lowercase_columns(tmp_path):
    frame = _prices().rename(columns=str.lower)
    config = load_config(None, [f"data.source={_write(tmp_path, frame)}", "data.window=10", "data.volatility_window=5"])
    data = prepare_data(config)
    assert data.summary["tickers"] == ["P"] and data.summary["splits"]["train"]["first"].startswith("2020-01")


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns=["Volume"]), "missing column(s) volume"),
    (lambda f: f.assign(Close=f["Close"].astype(object).where(f.index != 5, "n/a")), "row 7: column 'close' is not a number"),
    (lambda f: f.assign(Low=f["Low"].where(f.index != 3, -1.0)), "row 5: column 'low' is not positive"),
    (lambda f: pd.concat([f, f.iloc[[10]]]), "duplicate date"),
    (lambda f: f.assign(Date=f["Date"].where(f.index != 2, "someday")), "row 4: cannot parse date"),
    (lambda f: f.iloc[:30], "too few rows for one 10-day window"),
])
def test_bad_csv_gives_a_one_line_error(tmp_path, mutate, message):
    path = _write(tmp_path, mutate(_prices()))
    with pytest.raises(InputError) as caught:
        prepare_data(load_config(None, [f"data.source={path}", "data.window=10", "data.volatility_window=5"]))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_unsorted_dates_are_repaired_with_a_notice(tmp_path):
    frame = _prices().iloc[::-1]
    data = prepare_data(load_config(None, [f"data.source={_write(tmp_path, frame)}", "data.window=10", "data.volatility_window=5"]))
    assert any("sorted them" in n for n in data.summary["notices"])
    assert data.summary["splits"]["train"]["first"] < data.summary["splits"]["val"]["first"]


@pytest.mark.parametrize("written, options, first, notice", [
    ("%d/%m/%Y", [], "2020-01-01", "dates read day-first (%d/%m/%Y), as row 10 ('13/01/2020') shows"),
    ("%m/%d/%Y", [], "2020-01-01", "dates read month-first (%m/%d/%Y), as row 10 ('01/13/2020') shows"),
    ("%d.%m.%Y", ["data.date_format=%d.%m.%Y"], "2020-01-01", None),
    ("%Y-%m-%d", [], "2020-01-01", None),
])
def test_a_numeric_date_order_comes_from_the_rows_that_show_it_or_from_date_format(tmp_path, written, options, first,
                                                                                   notice):
    dates = pd.bdate_range("2020-01-01", periods=120)
    path = _write(tmp_path, _prices().assign(Date=dates.strftime(written)))
    prices, notices = read_price_csv(path, load_config(None, options).data.date_format)
    assert [str(d.date()) for d in prices["date"]] == [str(d.date()) for d in dates]  # 02/01/2020 stays 2 January
    assert str(prices["date"].iloc[0].date()) == first
    assert [n.split(": ", 1)[1] for n in notices if "dates read" in n] == ([f"{notice}; data.date_format overrides"]
                                                                           if notice else [])


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.assign(High=f["High"].where(f.index != 4, f["Low"] * 0.9)), "row 6: High "),
    (lambda f: f.assign(Close=f["Close"].astype(object).where(f.index != 8, "inf")), "row 10: column 'close' is not a finite number (inf)"),
    (lambda f: f.assign(Volume=f["Volume"].astype(object).where(f.index != 2, "-inf")), "row 4: column 'volume' is not a finite number (-inf)"),
    (lambda f: f.assign(Open=50.0, High=50.0, Low=50.0, Close=50.0, **{"Adj Close": 50.0}), "P: its prices never move"),
])
def test_impossible_prices_are_one_line_errors_without_numpy_warnings(tmp_path, recwarn, mutate, message):
    path = _write(tmp_path, mutate(_prices()))
    with pytest.raises(InputError) as caught:
        prepare_data(load_config(None, [f"data.source={path}", "data.window=10", "data.volatility_window=5"]))
    assert message in str(caught.value) and not [w for w in recwarn if "numpy" in str(w.filename) or "divide" in str(w.message)]


def test_a_multi_month_gap_is_a_notice(tmp_path):
    frame = _prices(200)
    frame = frame.assign(Date=[d if i < 150 else (pd.Timestamp(d) + pd.Timedelta(days=100)).strftime("%m/%d/%Y")
                               for i, d in enumerate(frame["Date"])])
    data = prepare_data(load_config(None, [f"data.source={_write(tmp_path, frame)}", "data.window=10", "data.volatility_window=5"]))
    gap = [n for n in data.summary["notices"] if "date gap" in n]
    assert len(gap) == 1 and "P has 1 date gap(s) over 60 days, the longest 101 days (2020-07-28 to 2020-11-06)" in gap[0]
