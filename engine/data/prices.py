"""Daily OHLCV loading: the bundled Quandl WIKI file or a user's Yahoo-style CSV, validated."""

from __future__ import annotations

import gzip
import lzma
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.common import infer_compression

from engine.data.dates import parse_dates
from engine.errors import InputError
from engine.file_kinds import check_input, open_regular
from engine.safe_text import echo, short as _short

BUNDLED_PRICES = Path(__file__).parent / "stocks.csv.gz"
PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close"]
REQUIRED_COLUMNS = ["date", "open", "high", "low", "close", "volume"]
GAP_DAYS = 60  # longer than any market closure; a hole this long means missing data
EXPECTED = "a price CSV (Date, Open, High, Low, Close, Volume)"
# What a damaged or cut .gz/.xz/.zip raises from inside pandas' reader (bz2 raises a plain OSError without errno).
COMPRESSION_ERRORS = (zlib.error, EOFError, gzip.BadGzipFile, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError)


def _canonical(name: str) -> str:
    """'Adj Close', 'adj_close' and 'AdjClose' all become 'adj_close'."""
    flat = str(name).strip().lower().replace("_", " ").replace("-", " ")
    flat = " ".join(flat.split())
    return {"adj close": "adj_close", "adjclose": "adj_close", "adjusted close": "adj_close", "symbol": "ticker"}.get(
        flat, flat.replace(" ", "_")
    )


def _check_numbers(frame: pd.DataFrame, source: str) -> None:
    """Reject non-numeric, missing and non-positive prices with the offending row."""
    for column in [c for c in PRICE_COLUMNS + ["volume"] if c in frame]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(source, f"row {row + 2}: column '{column}' is not a number ({echo(frame[column].iloc[row])})")
        frame[column] = values.astype("float64")
        infinite = ~np.isfinite(frame[column].to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise InputError(source, f"row {row + 2}: column '{column}' is not a finite number ({frame[column].iloc[row]})")
        floor_ok = values >= 0 if column == "volume" else values > 0
        if not floor_ok.all():
            row = int(np.flatnonzero(~floor_ok.to_numpy())[0])
            kind = "negative" if column == "volume" else "not positive"
            raise InputError(source, f"row {row + 2}: column '{column}' is {kind} ({values.iloc[row]})")


def _check_ranges(frame: pd.DataFrame, source: str) -> None:
    """A day's High cannot be below its Low: such a row is a data error, named with its row number."""
    inverted = (frame["high"] < frame["low"]).to_numpy()
    if inverted.any():
        row = int(np.flatnonzero(inverted)[0])
        raise InputError(source, f"row {row + 2}: High {frame['high'].iloc[row]:g} is below Low {frame['low'].iloc[row]:g}")


def _gap_notices(frame: pd.DataFrame, source: str) -> list[str]:
    """One notice per ticker whose dates jump by more than GAP_DAYS: windows and returns span the hole."""
    notices = []
    for ticker, group in frame.groupby("ticker", sort=False):
        gaps = group["date"].diff().dt.days.fillna(0)
        if gaps.max() > GAP_DAYS:
            at = int(gaps.to_numpy().argmax())
            count = int((gaps > GAP_DAYS).sum())
            notices.append(f"{source}: {ticker} has {count} date gap(s) over {GAP_DAYS} days, the longest "
                           f"{int(gaps.iloc[at])} days ({group['date'].iloc[at - 1].date()} to {group['date'].iloc[at].date()}); "
                           f"returns across a gap are trained on as one day")
    return notices


def tidy_prices(frame: pd.DataFrame, source: str, default_ticker: str,
                date_format: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Validate and normalise raw OHLCV rows; returns the frame and notices about repairs."""
    frame = frame.rename(columns=_canonical)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(source, f"missing column(s) {', '.join(missing)}; expected Date, Open, High, Low, Close, Adj Close, Volume")
    notices: list[str] = []
    if "adj_close" not in frame:
        notices.append(f"{source}: no 'Adj Close' column, using Close; splits will look like crashes")
        frame["adj_close"] = frame["close"]
    if "ticker" not in frame:
        notices.append(f"{source}: no 'Ticker' column, all rows are {default_ticker}")
        frame["ticker"] = default_ticker
    frame["ticker"] = frame["ticker"].astype(str).str.strip()
    frame["date"], date_notices = parse_dates(frame["date"], source, date_format)
    notices += date_notices
    _check_numbers(frame, source)
    _check_ranges(frame, source)
    duplicated = frame.duplicated(["ticker", "date"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(source, f"row {row + 2}: duplicate date {frame['date'].iloc[row].date()} for {frame['ticker'].iloc[row]}")
    unsorted = [t for t, g in frame.groupby("ticker", sort=False) if not g["date"].is_monotonic_increasing]
    if unsorted:
        notices.append(f"{source}: dates of {', '.join(unsorted)} were not in order; sorted them")
    frame = frame.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    notices += _gap_notices(frame, source)
    return frame[["ticker", "date", *PRICE_COLUMNS, "volume"]], notices


def read_price_csv(path: str | Path, date_format: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV (optionally compressed: .gz, .bz2, .xz, .zip) of daily prices, one or many tickers."""
    path = Path(path)
    if check_input(path, EXPECTED):
        raise InputError(str(path), f"is a directory; expected {EXPECTED}")
    compression = infer_compression(str(path), "infer")
    try:
        with open_regular(path, EXPECTED) as file:
            frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], compression=compression)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except pd.errors.EmptyDataError:
        raise InputError(str(path), f"empty file; expected {EXPECTED}") from None
    except COMPRESSION_ERRORS + (OSError,) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, OSError) and (error.errno is not None or not compression):
            raise InputError(str(path), f"cannot read ({error.strerror or error})") from None
        raise InputError(str(path), f"not a readable {compression or 'compressed'} file: damaged or cut short "
                                    f"({_short(detail)})") from None
    except ValueError as error:  # pandas' ParserError, a UnicodeDecodeError, a zip of several files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(str(path), f"not a readable CSV ({_short(first_line)})") from None
    if frame.empty:
        raise InputError(str(path), "no data rows")
    return tidy_prices(frame, str(path), path.name.split(".")[0].upper(), date_format)


def select_tickers(frame: pd.DataFrame, tickers: list[str], source: str) -> pd.DataFrame:
    """Keep the requested tickers (all when the list is empty or the file holds one), naming any absent."""
    available = sorted(frame["ticker"].unique())
    if not tickers or len(available) == 1:
        return frame
    absent = [t for t in tickers if t not in available]
    if absent:
        has = ", ".join(available[:10]) + (f", ... ({len(available)} in all)" if len(available) > 10 else "")
        raise InputError(source, f"ticker(s) {_short(', '.join(map(str, absent)))} not in data (has {_short(has)})")
    return frame[frame["ticker"].isin(tickers)].reset_index(drop=True)
