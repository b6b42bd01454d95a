"""The dates of a price CSV. ISO and other unambiguous forms are read as pandas reads them. A numeric date such as
01/04/2015 could be 1 April or January 4: the file's order is taken from its rows that show it (a first number above
12 is a day, a second one a day too), a file whose rows show both orders is refused naming a row of each, and a file
in which no row shows it is refused unless `data.date_format` says the format."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import InputError
from engine.safe_text import echo

# 'dd/mm/yyyy', 'mm.dd.yy', 'd-m-yyyy' (a time may follow): the forms whose first two numbers can swap roles.
NUMERIC_DATE = r"^\s*(\d{1,2})([/.-])(\d{1,2})[/.-](\d{2}|\d{4})(?:[ T].*)?$"


def _row(mask: pd.Series) -> int:
    """The positional index of the first True."""
    return int(np.flatnonzero(mask.to_numpy())[0])


def _formats(separator: str, year: str) -> tuple[str, str]:
    """The day-first and month-first formats of a date written with `separator` and a `year` of 2 or 4 digits."""
    y = "%Y" if len(year) == 4 else "%y"
    return f"%d{separator}%m{separator}{y}", f"%m{separator}%d{separator}{y}"


def date_order(text: pd.Series, source: str) -> tuple[pd.Series, bool, str | None]:
    """(which rows are numeric dates, are they day-first, a notice when some were read in the order other rows
    showed) for a column of dates.

    InputError when one row is day-first and another month-first, or when some date reads both ways and no row
    tells which (data.date_format must then say it).
    """
    parts = text.astype("string").str.extract(NUMERIC_DATE)
    numeric = parts[0].notna()
    first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[2])
    day_first = ((first > 12) & (second <= 12)).fillna(False)
    month_first = ((second > 12) & (first <= 12)).fillna(False)
    if day_first.any() and month_first.any():
        a, b = _row(day_first), _row(month_first)
        raise InputError(source, f"row {a + 2}: date {echo(text.iloc[a])} is day-first but row {b + 2}: "
                                 f"{echo(text.iloc[b])} is month-first; the file mixes date orders")
    ambiguous = ((first <= 12) & (second <= 12) & (first != second)).fillna(False)
    if not ambiguous.any():
        return numeric, bool(day_first.any()), None
    row = _row(ambiguous)
    by_day, by_month = _formats(parts[1].iloc[row], parts[3].iloc[row])
    if not (day_first.any() or month_first.any()):
        raise InputError(source, f"row {row + 2}: date {echo(text.iloc[row])} could be day-first or month-first and "
                                 f"no row says which: set data.date_format ({by_day!r} or {by_month!r})")
    shown = _row(day_first if day_first.any() else month_first)
    order = "day-first" if day_first.any() else "month-first"
    return numeric, bool(day_first.any()), (f"{source}: dates read {order} ({by_day if day_first.any() else by_month}), as "
                                   f"row {shown + 2} ({echo(text.iloc[shown])}) shows; data.date_format overrides")


def parse_dates(text: pd.Series, source: str, date_format: str | None = None) -> tuple[pd.Series, list[str]]:
    """The dates of a price CSV's column and notices, naming the first row that does not parse (or fit
    `date_format`)."""
    if date_format:
        try:
            dates = pd.to_datetime(text, format=date_format, errors="coerce")
        except ValueError as error:
            raise InputError(source, f"data.date_format {echo(date_format)} is not a date format ({error})") from None
        if dates.isna().any():
            row = _row(dates.isna())
            raise InputError(source, f"row {row + 2}: date {echo(text.iloc[row])} does not match data.date_format "
                                     f"{date_format!r}")
        return dates, []
    numeric, day_first, notice = date_order(text, source)
    dates = pd.to_datetime(text, format="mixed", errors="coerce")
    if day_first:  # only the numeric forms: told to read day first, pandas would read 2020-01-05 as 1 May too
        dates[numeric] = pd.to_datetime(text[numeric], format="mixed", dayfirst=True, errors="coerce")
    if dates.isna().any():
        row = _row(dates.isna())
        raise InputError(source, f"row {row + 2}: cannot parse date {echo(text.iloc[row])}")
    return dates, [notice] if notice else []
