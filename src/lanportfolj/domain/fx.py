"""FX rates as data: reading a rate file, and the rate that holds at a date.

Two file layouts, both ``;``-separated with a header row (a decimal comma or point):

* the Riksbank's series layout (a download from "Sök räntor & valutakurser"): columns ``Period`` (or
  ``Date``/``Datum``), ``Series`` (or ``Serie``, e.g. ``SEKEURPMI``: SEK per EUR), ``Value`` (or
  ``Värde``), optionally ``Group``/``Grupp`` and ``Unit``/``Enhet`` (``100`` when the series quotes SEK
  per 100 units, as the Riksbank does for some currencies); ``n/a`` values (holidays) are skipped;
* a plain file: ``date;currency;rate`` (SEK per 1 unit of the currency).

A rate is a positive number with at most six decimals; every problem names its row and column.
A lookup takes the rate on the date or the latest before it, and says which it was.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

MAX_DECIMALS: Final = 6
CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")
#: the Riksbank's exchange-rate series: SEK<currency>PMI (mid price)
RIKSBANK_SERIES_RE: Final = re.compile(r"^SEK([A-Z]{3})PMI$")
_DATE_NAMES: Final = ("period", "date", "datum")
_SERIES_NAMES: Final = ("series", "serie", "serienamn")
_VALUE_NAMES: Final = ("value", "värde", "varde")
_UNIT_NAMES: Final = ("unit", "enhet")
_MISSING: Final = ("n/a", "", "-", "..")


@dataclass(frozen=True)
class RateRow:
    """One rate read from a file: 1 ``currency`` = ``sek_per_unit`` SEK on ``day``."""

    row: int
    day: date
    currency: str
    sek_per_unit: Decimal


@dataclass(frozen=True)
class RateProblem:
    """Why a row (or the file) was refused: its row number (1 = header), column and the reason."""

    row: int
    column: str
    message_en: str
    message_sv: str

    def text(self, lang: str = "en") -> str:
        where = f"row {self.row}" if lang == "en" else f"rad {self.row}"
        column = f", {self.column}" if self.column else ""
        return f"{where}{column}: {self.message_en if lang == 'en' else self.message_sv}"


@dataclass(frozen=True)
class RateFile:
    """What a rate file holds: its layout, the rates, the skipped ``n/a`` rows and the problems."""

    layout: str
    rates: tuple[RateRow, ...]
    skipped: int
    problems: tuple[RateProblem, ...]


@dataclass(frozen=True)
class StoredRate:
    """A rate as stored: currency, date, SEK per unit, source."""

    currency: str
    day: date
    sek_per_unit: Decimal
    source: str


@dataclass(frozen=True)
class RateAt:
    """The rate that holds at ``wanted``: the stored one of ``rate.day`` (on or before ``wanted``)."""

    wanted: date
    rate: StoredRate

    @property
    def exact_date(self) -> bool:
        return self.rate.day == self.wanted

    def statement(self, lang: str = "en") -> str:
        """How the rate was chosen, in words (the report states it)."""
        r = self.rate
        if lang == "sv":
            when = (
                f"per {r.day.isoformat()}"
                if self.exact_date
                else f"per {r.day.isoformat()}, senaste kursen före {self.wanted.isoformat()}"
            )
            return f"1 {r.currency} = {r.sek_per_unit} SEK {when} ({r.source})"
        when = (
            f"as of {r.day.isoformat()}"
            if self.exact_date
            else f"as of {r.day.isoformat()}, the latest rate before {self.wanted.isoformat()}"
        )
        return f"1 {r.currency} = {r.sek_per_unit} SEK {when} ({r.source})"


def parse_rate(raw: str) -> Decimal:
    """``raw`` (decimal comma or point) as a positive rate with at most six decimals; ValueError else."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"must be a positive number: {raw!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValueError(f"has more than {MAX_DECIMALS} decimals: {raw!r}")
    return value


def parse_currency(raw: str) -> str:
    """An ISO 4217 code (three letters, any case) other than SEK; ValueError else."""
    code = raw.strip().upper()
    if not CURRENCY_RE.match(code):
        raise ValueError(f"not a three-letter currency code: {raw!r}")
    if code == "SEK":
        raise ValueError("SEK is the base currency: 1 SEK = 1 SEK needs no rate")
    return code


def parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {raw!r}") from None


def _index(header: list[str], names: Iterable[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def read_rate_file(data: bytes) -> RateFile:
    """The rates of a Riksbank series download or a plain ``date;currency;rate`` file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        return RateFile(
            "unknown", (), 0, (RateProblem(1, "", "the file is empty", "filen är tom"),)
        )
    header = rows[0]
    series_at = _index(header, _SERIES_NAMES)
    if series_at is not None:
        return _riksbank(rows, series_at)
    lowered = [h.strip().lower() for h in header]
    if lowered[:3] == ["date", "currency", "rate"]:
        return _plain(rows)
    return RateFile(
        "unknown",
        (),
        0,
        (
            RateProblem(
                1,
                "",
                "unknown layout: expected the header date;currency;rate or the Riksbank's "
                "Period;Group;Series;Value",
                "okänd layout: väntade rubrikraden date;currency;rate eller Riksbankens "
                "Period;Group;Series;Value",
            ),
        ),
    )


def _plain(rows: list[list[str]]) -> RateFile:
    rates: list[RateRow] = []
    problems: list[RateProblem] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [*row, "", "", ""][:3]
        if len(row) > 3 and any(cell.strip() for cell in row[3:]):
            problems.append(
                RateProblem(number, "", "more than three columns", "fler än tre kolumner")
            )
            continue
        parsed = _row(number, cells[0], "date", cells[1], "currency", cells[2], "rate", problems)
        if parsed is not None:
            rates.append(parsed)
    return RateFile("plain", tuple(rates), 0, tuple(_duplicates(rates, problems)))


def _row(
    number: int,
    day_raw: str,
    day_col: str,
    currency_raw: str,
    currency_col: str,
    rate_raw: str,
    rate_col: str,
    problems: list[RateProblem],
    unit: int = 1,
) -> RateRow | None:
    ok = True
    try:
        day = parse_day(day_raw)
    except ValueError as exc:
        problems.append(RateProblem(number, day_col, str(exc), f"inte ett datum: {day_raw!r}"))
        ok = False
    try:
        currency = parse_currency(currency_raw)
    except ValueError as exc:
        problems.append(
            RateProblem(number, currency_col, str(exc), f"ingen giltig valutakod: {currency_raw!r}")
        )
        ok = False
    try:
        rate = parse_rate(rate_raw) / unit
    except ValueError as exc:
        problems.append(
            RateProblem(
                number,
                rate_col,
                str(exc),
                f"kursen ska vara ett positivt tal med högst {MAX_DECIMALS} decimaler: "
                f"{rate_raw!r}",
            )
        )
        ok = False
    if not ok:
        return None
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        problems.append(
            RateProblem(
                number,
                rate_col,
                f"per {unit} units gives more than {MAX_DECIMALS} decimals per unit: {rate_raw!r}",
                f"per {unit} enheter ger fler än {MAX_DECIMALS} decimaler per enhet: {rate_raw!r}",
            )
        )
        return None
    return RateRow(number, day, currency, rate)


def _riksbank(rows: list[list[str]], series_at: int) -> RateFile:
    header = rows[0]
    date_at = _index(header, _DATE_NAMES)
    value_at = _index(header, _VALUE_NAMES)
    unit_at = _index(header, _UNIT_NAMES)
    problems: list[RateProblem] = []
    if date_at is None or value_at is None:
        missing = [name for name, at in (("Period", date_at), ("Value", value_at)) if at is None]
        problems.append(
            RateProblem(
                1,
                ", ".join(missing),
                f"the Riksbank layout needs the columns Period, Series and Value; missing: "
                f"{', '.join(missing)}",
                f"Riksbankens layout behöver kolumnerna Period, Series och Value; saknas: "
                f"{', '.join(missing)}",
            )
        )
        return RateFile("riksbank", (), 0, tuple(problems))
    series_name, value_name = header[series_at].strip(), header[value_at].strip()
    date_name = header[date_at].strip()
    rates: list[RateRow] = []
    skipped = 0
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [*row, *[""] * len(header)]
        series = cells[series_at].strip().upper()
        value = cells[value_at].strip()
        if value.lower() in _MISSING:
            skipped += 1
            continue
        found = RIKSBANK_SERIES_RE.match(series)
        if found is None:
            problems.append(
                RateProblem(
                    number,
                    series_name,
                    f"not a Riksbank exchange-rate series (SEKxxxPMI): {series!r}",
                    f"ingen av Riksbankens valutaserier (SEKxxxPMI): {series!r}",
                )
            )
            continue
        unit = 1
        if unit_at is not None and cells[unit_at].strip():
            raw_unit = cells[unit_at].strip()
            if raw_unit not in ("1", "100"):
                problems.append(
                    RateProblem(
                        number,
                        header[unit_at].strip(),
                        f"the unit must be 1 or 100: {raw_unit!r}",
                        f"enheten ska vara 1 eller 100: {raw_unit!r}",
                    )
                )
                continue
            unit = int(raw_unit)
        parsed = _row(
            number,
            cells[date_at],
            date_name,
            found.group(1),
            series_name,
            value,
            value_name,
            problems,
            unit,
        )
        if parsed is not None:
            rates.append(parsed)
    return RateFile("riksbank", tuple(rates), skipped, tuple(_duplicates(rates, problems)))


def _duplicates(rates: list[RateRow], problems: list[RateProblem]) -> list[RateProblem]:
    """``problems`` plus one for every second rate of the same currency and date with another value."""
    seen: dict[tuple[str, date], RateRow] = {}
    out = list(problems)
    for rate in rates:
        key = (rate.currency, rate.day)
        first = seen.setdefault(key, rate)
        if first is not rate and first.sek_per_unit != rate.sek_per_unit:
            out.append(
                RateProblem(
                    rate.row,
                    "",
                    f"{rate.currency} on {rate.day.isoformat()} has another rate on row "
                    f"{first.row} ({first.sek_per_unit} vs {rate.sek_per_unit})",
                    f"{rate.currency} den {rate.day.isoformat()} har en annan kurs på rad "
                    f"{first.row} ({first.sek_per_unit} mot {rate.sek_per_unit})",
                )
            )
    return sorted(out, key=lambda p: p.row)


def rate_at(rates: Iterable[StoredRate], currency: str, wanted: date) -> RateAt | None:
    """The rate of ``currency`` on ``wanted`` or the latest before it; None when there is none."""
    best: StoredRate | None = None
    for rate in rates:
        if rate.currency != currency or rate.day > wanted:
            continue
        if best is None or rate.day > best.day:
            best = rate
    return None if best is None else RateAt(wanted, best)
