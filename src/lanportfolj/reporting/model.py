"""The bond report: computed once from ``ReportInputs``, turned into one JSON-ready dict.

The dict is what gets frozen at publication and what every renderer (HTML, XLSX, JSON) reads, so a
published report re-renders identically later. In the dict:

* every ``Decimal`` is a **string** in plain notation with its fixed scale (money ``"1234.50"``, shares
  ``"0.33333333"``), because a JSON number would be read back as a binary float;
* dates are ISO strings; missing values are ``null``; booleans are JSON booleans;
* tables are lists of row objects whose keys are the column keys of ``reporting.columns``;
* the yearly values (``impact.values``, the one table that grows with loans × indicators × years) are
  one **series** per loan and indicator: the loan-level fields once, then one array per yearly column
  (``years``, ``values``, ``numerators``, ``denominators``, ``attributed``, ``estimated``,
  ``restated``), all of the same length and in year order. At 10 000 loans this is 120 000 objects
  instead of 1.2 million and a fifth of the bytes (schema version 2; version 1 had one object per year,
  and ``value_series`` still reads it so reports frozen before the change keep rendering).

``report_to_dict`` leaves the tables as polars frames inside ``FrameRows``: a list that fills itself
with the row dicts on first use, so to any reader it is the list described above, while the JSON,
XLSX and HTML renderers read the frames column-wise and no Python object is made per value (at
10 000 loans the dict used to cost 1.9 s and most of the peak memory). The yearly values are a
``ValueSeries``: the impact's narrow frames (values by series number, texts once per series), widened
only when a reader asks for ``frame``. ``render_json`` of the dict and of its frozen copy are the
same bytes.
"""

from __future__ import annotations

import gc
import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

import msgspec
import polars as pl
from polars.datatypes import DataTypeClass

from lanportfolj.domain.allocation import (
    FX_MAX_SCALE,
    MONEY_SCALE,
    SHARE_SCALE,
    Allocation,
    BondInfo,
    FxRate,
    allocate,
    left_loans,
)
from lanportfolj.domain.impact import (
    PERCENT_SCALE,
    VALUE_SCALE,
    Impact,
    assess_impact,
    wide_values,
)
from lanportfolj.reporting.inputs import ReportInputs

SCHEMA_VERSION: Final = "2"

#: the per-year columns of a series: (frame column, key of its array in the series object)
SERIES_ARRAYS: Final[tuple[tuple[str, str], ...]] = (
    ("year", "years"),
    ("value", "values"),
    ("numerator", "numerators"),
    ("denominator", "denominators"),
    ("attributed", "attributed"),
    ("estimated", "estimated"),
    ("restated", "restated"),
)
#: the fields a series has once (constant over its years)
SERIES_KEYS: Final[tuple[str, ...]] = (
    "loan",
    "borrower",
    "programme_category",
    "indicator",
    "aggregation",
    "share",
)

_LOAN_COLUMNS: Final[tuple[str, ...]] = (
    "reference",
    "borrower",
    "borrower_orgnr",
    "title",
    "programme_category",
    "icma_category",
    "sdgs",
    "status",
    "disbursement_date",
    "maturity_date",
    "funding",
    "lookback_exceeded",
    "amount_sek",
    "disbursed_sek",
    "outstanding_sek",
    "total_project_cost_sek",
    "disbursed",
    "outstanding",
    "project_share",
)


@dataclass(frozen=True)
class ReportModel:
    """The computed report: the inputs' scalars, the allocation and the impact tables."""

    bond: BondInfo
    report_date: date
    fx: FxRate
    allocation: Allocation
    impact: Impact
    lookback_months: int
    restatements: tuple[dict[str, Any], ...]
    lang: str


def compute_report(inputs: ReportInputs) -> ReportModel:
    """Compute the allocation and impact of ``inputs.bond`` at ``inputs.report_date``.

    Impact uses the measurements up to the report date's year.
    """
    if inputs.lang not in ("sv", "en"):
        raise ValueError(f"lang must be 'sv' or 'en', not {inputs.lang!r}")
    allocation = allocate(
        bond=inputs.bond,
        fx=inputs.fx,
        loans=inputs.loans,
        report_date=inputs.report_date,
        other_bonds_nominal_sek=inputs.other_bonds_nominal_sek,
        all_loans_total_sek=inputs.all_loans_total_sek,
        lookback_months=inputs.lookback_months,
    )
    impact_loans = allocation.loans
    if inputs.left_pool:
        # a loan that left the pool keeps its impact for the years it was in (issue 17 item 5)
        gone = left_loans(
            bond=inputs.bond,
            fx=inputs.fx,
            loans=inputs.loans,
            left=inputs.left_pool,
            report_date=inputs.report_date,
            lookback_months=inputs.lookback_months,
        )
        if gone.height:
            # (a loan written down to nothing is still in the allocation, at 0: here it is the
            # loan as it left)
            staying = allocation.loans.filter(
                ~pl.col("reference").is_in(gone["reference"].implode())
            )
            staying = staying.with_columns(last_year=pl.lit(None, pl.Int64))
            impact_loans = pl.concat(
                [staying, gone.select(staying.columns).cast(dict(staying.schema))],
                how="vertical",
            ).sort("reference")
    impact = assess_impact(
        loans=impact_loans,
        indicators=inputs.indicators,
        loan_indicators=inputs.loan_indicators,
        measurements=inputs.measurements,
        report_year=inputs.report_date.year,
        bond_share=allocation.bond_share_exact,
    )
    return ReportModel(
        bond=inputs.bond,
        report_date=inputs.report_date,
        fx=inputs.fx,
        allocation=allocation,
        impact=impact,
        lookback_months=inputs.lookback_months,
        restatements=tuple(inputs.restatements),
        lang=inputs.lang,
    )


@contextmanager
def bulk_conversion() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small lists and dicts are made.

    Profiled at 10 000 loans: building the value series took 4.3 s with the collector on and
    1.3 s with it off, the rest being repeated full collections over objects that are all still
    alive. None of these objects form cycles, so nothing is lost by collecting once afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _text(value: Any) -> Any:
    """A scalar as it appears in the report dict."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def frame_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as report-dict rows: decimals and dates become strings in polars first.

    Casting in polars keeps this fast for a million rows and gives the fixed-scale plain notation.
    """
    return string_columns(frame).to_dicts()


def string_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Decimal and date columns cast to strings (fixed-scale plain notation, ISO dates) in polars."""
    text_types = (pl.Decimal, pl.Date, pl.Datetime)
    return frame.with_columns(
        pl.col(name).cast(pl.String)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, text_types)
    )


def value_series_rows(values: pl.DataFrame) -> list[dict[str, Any]]:
    """The yearly values (sorted by loan, indicator, year) as series objects (module docstring).

    Each column leaves polars once as a flat list and the series are slices of it: converting nested
    list columns row by row is several times slower.
    """
    if values.height == 0:
        return []
    strings = string_columns(values)
    starts: list[int] = strings.select(_series_starts().arg_true())["loan"].to_list()
    ends = [*starts[1:], strings.height]
    fixed = {key: strings[key].to_list() for key in SERIES_KEYS}
    arrays = {name: strings[column].to_list() for column, name in SERIES_ARRAYS}
    out = []
    with bulk_conversion():
        for begin, end in zip(starts, ends, strict=True):
            series: dict[str, Any] = {key: column[begin] for key, column in fixed.items()}
            for name, column in arrays.items():
                series[name] = column[begin:end]
            out.append(series)
    return out


def _series_starts() -> pl.Expr:
    """True on the first row of each (loan, indicator) series of a sorted values frame."""
    new_series = (pl.col("loan") != pl.col("loan").shift()) | (
        pl.col("indicator") != pl.col("indicator").shift()
    )
    return new_series.fill_null(True)


class FrameRows(list[dict[str, Any]]):
    """A table of the report dict kept as its polars frame until someone reads it as dicts.

    ``report_to_dict`` puts these where the dict has its big tables, so the dict costs nothing to
    build: the renderers that know them read ``frame`` column-wise (JSON and XLSX write straight from
    polars, HTML converts only the rows it shows). To everything else it is the list of row dicts it
    always was: the first access of any other kind fills the list (once), and from then on it is an
    ordinary list. ``series`` marks the yearly values (one series object per loan and indicator, from
    the frame sorted by loan, indicator and year).
    """

    def __init__(self, frame: pl.DataFrame, *, series: bool = False) -> None:
        super().__init__()
        self._frame = frame
        self.series = series
        self.filled = False
        self._len: int | None = None

    @property
    def frame(self) -> pl.DataFrame:
        """The table's frame (for the yearly values: sorted by loan, indicator and year)."""
        return self._frame

    def _series_count(self) -> int:
        return int(self.frame.select(_series_starts().sum()).item() or 0)

    def _fill(self) -> None:
        if not self.filled:
            self.filled = True
            rows = value_series_rows(self.frame) if self.series else frame_rows(self.frame)
            super().extend(rows)

    def __len__(self) -> int:
        if self.filled:
            return super().__len__()
        if self._len is None:
            if not self.series:
                self._len = self.frame.height
            else:
                self._len = self._series_count()
        return self._len

    def __getitem__(self, index: Any) -> Any:
        if not self.filled and isinstance(index, slice) and not self.series:
            # a page of a big table (the HTML shows the first rows) without converting the rest
            start, stop, step = index.indices(self.frame.height)
            if step == 1:
                return frame_rows(self.frame.slice(start, max(0, stop - start)))
        self._fill()
        return super().__getitem__(index)

    def __repr__(self) -> str:
        if not self.filled:
            return f"FrameRows({len(self)} {'series' if self.series else 'rows'})"
        return super().__repr__()

    def json(self) -> Iterator[bytes]:
        """The table as the UTF-8 JSON array ``json.dumps(rows, sort_keys=True,
        ensure_ascii=False, separators=(",", ":"))`` would write, written by polars, in pieces."""
        if self.filled:
            # read (and possibly changed) as dicts already: those are what the dict holds
            return iter([_json_dumps(list(self)).encode("utf-8")])
        if self.frame.height == 0:
            return iter([b"[]"])
        if self.series:
            return _series_json(self.frame)
        return _rows_json(self.frame)


class ValueSeries(FrameRows):
    """The yearly values (``FrameRows`` of series) kept as the impact's two narrow frames, the values
    by series number and the series' texts: ``frame`` widens them on each use (``wide_values``; at
    national scale 1.2 million rows with five texts each, the largest frame of the report) and the
    JSON writer widens one chunk at a time, so publishing never holds the wide frame.
    """

    def __init__(self, impact: Impact) -> None:
        super().__init__(pl.DataFrame(), series=True)
        self._series_texts = impact.series
        self._yearly = impact.yearly

    @property
    def frame(self) -> pl.DataFrame:
        return wide_values(self._series_texts, self._yearly)

    def _series_count(self) -> int:
        return self._yearly["sid"].n_unique() if self._yearly.height else 0

    def json(self) -> Iterator[bytes]:
        if self.filled:
            return super().json()
        if self._yearly.height == 0:
            return iter([b"[]"])
        return _series_json(self._yearly, self._series_texts)


def _filling(name: str) -> Any:
    method = getattr(list, name)

    def filled(self: FrameRows, *args: Any, **kwargs: Any) -> Any:
        self._fill()
        return method(self, *args, **kwargs)

    filled.__name__ = name
    return filled


# every other list operation sees the rows: fill first, then behave as the list
for _name in (
    "__iter__", "__reversed__", "__contains__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__", "__add__", "__mul__", "__rmul__", "__iadd__", "__imul__", "__setitem__",
    "__delitem__", "__reduce_ex__", "__sizeof__", "append", "extend", "insert", "pop", "remove",
    "clear", "copy", "count", "index", "reverse", "sort",
):  # fmt: skip
    setattr(FrameRows, _name, _filling(_name))


def _json_dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _writable(dtype: pl.DataType | DataTypeClass) -> bool:
    """Whether polars' JSON writer writes this column's values exactly as ``json.dumps`` does.

    Texts (escaped alike: quote, backslash and control characters, the rest as is), booleans,
    integers, nulls, lists of them and structs of them with sorted fields (the register's
    indicators) are; floats are not (their shortest forms can differ).
    """
    if isinstance(dtype, pl.List):
        return _writable(dtype.inner)
    if isinstance(dtype, pl.Struct):
        # an object: polars writes its fields in their order, json.dumps(sort_keys=True) sorted
        names = [field.name for field in dtype.fields]
        return names == sorted(names) and all(_writable(field.dtype) for field in dtype.fields)
    return dtype in (pl.String, pl.Boolean, pl.Null) or dtype.is_integer()


def _json_items(rows: pl.DataFrame) -> bytes:
    """The rows of a ``string_columns`` frame as the items of a JSON array of objects with sorted
    keys (no brackets): written by polars, or by ``json`` from the row dicts for other types."""
    rows = rows.select(sorted(rows.columns))
    if not all(_writable(dtype) for dtype in rows.schema.values()):
        return _json_dumps(rows.to_dicts())[1:-1].encode("utf-8")
    buffer = io.BytesIO()
    rows.write_json(buffer)
    return buffer.getbuffer()[1:-1].tobytes()


def _written_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``string_columns``; a missing boolean stays ``null`` (``on_track`` where it cannot be judged is
    not "off track"), as ``json.dumps`` of the row dicts writes it."""
    return string_columns(frame)


#: rows (or series) written to JSON at a time: bounds the memory their text columns take in polars
JSON_CHUNK: Final = 16_384


def _rows_json(frame: pl.DataFrame) -> Iterator[bytes]:
    """A table's rows as the JSON array of row objects, in pieces."""
    yield b"["
    for offset in range(0, frame.height, JSON_CHUNK):
        if offset:
            yield b","
        yield _json_items(_written_columns(frame.slice(offset, JSON_CHUNK)))
    yield b"]"


def _series_json(values: pl.DataFrame, texts: pl.DataFrame | None = None) -> Iterator[bytes]:
    """The yearly values as the JSON array of series objects (see ``value_series_rows``), in pieces.

    The frame is sorted, so each series is a run of rows: numbered, the runs are grouped by slices
    into one row per series, its yearly columns becoming lists, which polars writes as arrays.
    With ``texts`` (``Impact.series``), ``values`` is ``Impact.yearly``: its runs are numbered by
    ``sid`` already, and each series' fields are its row of ``texts``.
    """
    arrays = [column for column, _ in SERIES_ARRAYS]
    if texts is None:
        new_series = _series_starts()
    else:
        new_series = (pl.col("sid") != pl.col("sid").shift()).fill_null(True)
    starts = values.select(new_series.arg_true().cast(pl.Int64).alias("start"))["start"]
    yield b"["
    for first in range(0, starts.len(), JSON_CHUNK):
        begin = int(starts[first])
        end = (
            int(starts[first + JSON_CHUNK]) if first + JSON_CHUNK < starts.len() else values.height
        )
        part = values.slice(begin, end - begin)
        if texts is None:
            series = (
                _written_columns(part.select(*SERIES_KEYS, *arrays))
                .group_by(_series_starts().cum_sum().set_sorted().alias("run"), maintain_order=True)
                .agg(
                    *(pl.col(key).first() for key in SERIES_KEYS),
                    *(pl.col(column).alias(name) for column, name in SERIES_ARRAYS),
                )
                .drop("run")
            )
        else:
            lists = (
                _written_columns(part.select("sid", *arrays))
                .group_by(pl.col("sid").set_sorted(), maintain_order=True)
                .agg(pl.col(column).alias(name) for column, name in SERIES_ARRAYS)
            )
            heads = _written_columns(texts.select(SERIES_KEYS)[lists["sid"]])
            series = pl.concat([heads, lists.drop("sid")], how="horizontal")
        del part
        if first:
            yield b","
        yield _json_items(series)
    yield b"]"


def _skeleton_json(data: dict[str, Any], token: str) -> tuple[str, list[FrameRows]]:
    """The JSON text of ``data`` with each table (``FrameRows``) replaced by the placeholder string
    ``"\\x00<token><n>\\x00"``, and the tables in that order: everything but the tables, which is small."""
    tables: list[FrameRows] = []

    def skeleton(node: Any) -> Any:
        # the tables sit in dicts only; lists of a frozen dict are left as they are
        if isinstance(node, FrameRows):
            tables.append(node)
            return f"\x00{token}{len(tables) - 1}\x00"
        if isinstance(node, dict):
            return {key: skeleton(value) for key, value in node.items()}
        return node

    return _json_dumps(skeleton(data)), tables


def json_loads(text: str | bytes) -> Any:
    """``json.loads(text)``, sooner: msgspec's decoder gives the same values; a text it refuses
    (``NaN``, which ``json`` writes and reads but JSON has not) is read by ``json`` itself."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def as_frozen(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from its frozen JSON, ``json.loads(render_json(data))``, except that
    its tables stay the same ``FrameRows`` (read as dicts, they are the same rows).

    Everything else goes through the JSON once, so its keys come in sorted order and its values are
    what JSON gives back (strings, numbers, lists): a page rendered from this dict is byte for byte
    the page rendered from the frozen report, without parsing the hundreds of megabytes of its tables
    (``report publish`` renders the published page from it; ``frozen_json`` gives both at once).
    """
    return frozen_json(data, with_bytes=False)[1]


def frozen_json(data: dict[str, Any], *, with_bytes: bool = True) -> tuple[bytes, dict[str, Any]]:
    """The report's JSON bytes (``render_json``'s, one trailing newline) and ``as_frozen(data)``,
    from one serialisation of the non-table part (the register alone is ~100 000 dicts at
    national scale)."""
    pieces, restored = frozen_json_pieces(data)
    if not with_bytes:
        return b"", restored
    out = io.BytesIO()
    for piece in pieces:
        out.write(piece)
    return out.getvalue(), restored


def frozen_json_pieces(data: dict[str, Any]) -> tuple[Iterator[bytes], dict[str, Any]]:
    """``frozen_json``'s bytes as the pieces they are made in (the trailing newline the last), and
    ``as_frozen(data)``: a writer that stores each piece as it comes never holds the whole JSON
    (~500 MB at 30 000 loans)."""
    token = uuid.uuid4().hex
    text, tables = _skeleton_json(data, token)
    marker = f"\x00{token}"

    def restore(node: Any) -> Any:
        if isinstance(node, str) and node.startswith(marker) and node.endswith("\x00"):
            return tables[int(node[len(marker) : -1])]
        if isinstance(node, dict):
            return {key: restore(value) for key, value in node.items()}
        return node

    restored: dict[str, Any] = restore(json_loads(text))

    def pieces() -> Iterator[bytes]:
        yield from _spliced(text, tables, token)
        yield b"\n"

    return pieces(), restored


def report_json(data: dict[str, Any]) -> list[bytes]:
    """The UTF-8 pieces of ``json.dumps(data, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`` for a report dict whose tables may be ``FrameRows`` (see
    ``report_json_pieces``), as a list."""
    return list(report_json_pieces(data))


def report_json_pieces(data: dict[str, Any]) -> Iterator[bytes]:
    """``report_json`` one piece at a time: the tables are written column-wise in polars, a chunk
    of rows at a time, and spliced in as they are made, so a writer that consumes the pieces holds
    one chunk's text at a time. Joined, the pieces are exactly the bytes ``json.dumps`` gives for
    the same dict read as lists.
    """
    token = uuid.uuid4().hex
    text, tables = _skeleton_json(data, token)
    yield from _spliced(text, tables, token)


def _spliced(text: str, tables: list[FrameRows], token: str) -> Iterator[bytes]:
    """The skeleton's JSON ``text`` with each table's JSON in place of its placeholder, in pieces."""
    # the placeholders come out of json as "\u0000<token><n>\u0000": split there, splice the tables
    pieces = re.split(f'"\\\\u0000{token}(\\d+)\\\\u0000"', text)
    del text
    for position, piece in enumerate(pieces):
        if position % 2:
            yield from tables[int(piece)].json()
        else:
            yield piece.encode("utf-8")


def value_series(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``data["impact"]["values"]`` as series, whatever the schema version it was frozen with.

    Version 1 (one object per loan, indicator and year, sorted) is grouped here, so a report
    published before version 2 still renders.
    """
    values: list[dict[str, Any]] = data["impact"]["values"]
    if isinstance(values, FrameRows) or not values or "years" in values[0]:
        return values
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for row in values:
        if current is None or (current["loan"], current["indicator"]) != (
            row["loan"],
            row["indicator"],
        ):
            current = {key: row.get(key) for key in SERIES_KEYS}
            current.update({name: [] for _, name in SERIES_ARRAYS})
            out.append(current)
        for column, name in SERIES_ARRAYS:
            current[name].append(row.get(column))
    return out


def value_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The yearly values as long rows (one per loan, indicator and year), for readers that want them."""
    rows = []
    for series in value_series(data):
        fixed = {key: series[key] for key in SERIES_KEYS}
        arrays = [(column, series[name]) for column, name in SERIES_ARRAYS]
        for index in range(len(series["years"])):
            row = dict(fixed)
            row.update({column: array[index] for column, array in arrays})
            rows.append(row)
    return rows


def _methodology(model: ReportModel, data_sources: list[str]) -> dict[str, Any]:
    """The methodology section: the rules the figures were computed by, in both languages."""
    fx = model.fx
    bond = model.bond
    # issue 17: a stored rate of an earlier day is stated as such
    before_sv = before_en = ""
    if fx.currency != "SEK" and fx.as_of < model.report_date:
        before_sv = f", senaste kursen före rapportdagen {_text(model.report_date)}"
        before_en = f", the latest rate before the report date {_text(model.report_date)}"
    values = model.impact.yearly
    estimated = int(values["estimated"].sum()) if values.height else 0
    restated = int(values["restated"].sum()) if values.height else 0
    sections = [
        {
            "key": "attribution",
            "title": {"sv": "Tillskrivning", "en": "Attribution"},
            "text": {
                "sv": "Långivarens andel av ett projekt är utestående lån delat med projektets totala "
                "kostnad, högst 1, och hålls som ett exakt bråk: det tillskrivna värdet (värde × "
                "andel) avrundas en gång, till 4 decimaler. Summerbara indikatorer (sum, latest) "
                "redovisas både för hela projektet och tillskrivet; det tillskrivna värdet räknas "
                "alltid fram och lagras aldrig. Obligationens andel av poolen är obligationens "
                "nominella belopp i SEK delat med utestående stödberättigade lån i SEK, också den "
                "exakt; delar flera obligationer poolen är andelarna tillsammans högst 100 %, och "
                "allokerat belopp är andelen × poolen avrundat nedåt. Per miljon "
                f"investerat = tillskrivet värde delat med utestående belopp ({bond.currency}, i "
                "miljoner) för de lån som rapporterar indikatorn och har en projektkostnad. Stockar "
                "och kumulativa tal (latest) tar varje projekts senaste värde och summeras aldrig "
                "över år; kvoter (ratio) beräknas som summan av täljare delad med summan av "
                "nämnare gånger kvotens skala (100 för procent, 1 000 eller 100 000), aldrig som "
                "medelvärde av kvoter, och tillskrivs inte. Medelvärden, priser, index och "
                "publicerade kommunala andelar (none) och befolkningar som bara är nämnare "
                "(kontext) redovisas bara per projekt: de tillskrivs, summeras och ges per miljon "
                "aldrig.",
                "en": "The lender's share of a project is the outstanding loan divided by the "
                "project's total cost, capped at 1, kept as an exact fraction: the attributed value "
                "(value × share) is rounded once, to 4 decimals. Summable indicators (sum, latest) "
                "are reported for the full project and attributed; the attributed value is always "
                "derived, never stored. The bond's share of the pool is its nominal amount in SEK "
                "divided by the eligible loans outstanding in SEK, exact as well; when several bonds "
                "share the pool their shares together are capped at 100 %, and the allocated amount "
                "is the share × the pool, rounded down. Per million invested = attributed value "
                f"divided by the outstanding amount ({bond.currency}, in millions) of the loans "
                "reporting the indicator that have a project cost. Stocks and cumulative counts "
                "(latest) take each project's latest value and are never summed over years; ratios "
                "are pooled as the sum of numerators over the sum of denominators times the ratio's "
                "scale (100 for percent, 1,000 or 100,000), never an average of ratios, and are not "
                "attributed. Averages, prices, indexes and published municipal shares (none) and "
                "populations that serve only as denominators (context) are shown per project only: "
                "never attributed, summed or given per million.",
            },
        },
        {
            "key": "coverage",
            "title": {"sv": "Täckning och förväntade värden", "en": "Coverage and expected values"},
            "text": {
                "sv": "För varje indikator och år anger rapporten täckningen: hur stor del av poolens "
                "utestående belopp som finns i projekt som rapporterade indikatorn det året. Resten "
                "är projekt där indikatorn inte är tillämplig, projekt där värdet ännu inte är "
                "förfallet (utbetalda efter året) och försenade värden. Förväntat vid beslut är det "
                "värde för målåret som låntagaren angav och kommittén godkände; det fastställs vid "
                "kommitténs beslut och ändras inte därefter.",
                "en": "For each indicator and year the report gives its coverage: the share of the "
                "pool's outstanding amount in projects that reported the indicator that year. The "
                "rest is projects the indicator does not apply to, projects whose value is not yet "
                "due (disbursed after that year) and overdue values. Expected at approval is the "
                "value for the target year that the borrower stated and the committee approved; it "
                "is fixed at the committee's decision and not changed after.",
            },
        },
        {
            "key": "fx",
            "title": {"sv": "Valutakurs", "en": "Exchange rate"},
            "text": {
                "sv": f"1 {fx.currency} = {_text(fx.sek_per_unit)} SEK per {_text(fx.as_of)}{before_sv} "
                f"({fx.source}). Varje låns belopp räknas om för sig och avrundas till hela ören "
                "(bankers avrundning); summorna är summor av de omräknade beloppen.",
                "en": f"1 {fx.currency} = {_text(fx.sek_per_unit)} SEK as of {_text(fx.as_of)}{before_en} "
                f"({fx.source}). Each loan's amount is converted on its own and rounded to the "
                "cent (half to even); totals are sums of the converted amounts.",
            },
        },
        {
            "key": "allocation",
            "title": {"sv": "Allokering", "en": "Allocation"},
            "text": {
                "sv": "Poolen är godkända eller aktiva stödberättigade lån utbetalda senast "
                "rapportdagen. Lån utbetalda från och med emissionsdagen är finansiering, tidigare "
                "lån refinansiering; refinansiering äldre än "
                f"{model.lookback_months} månader före emissionen flaggas. Ej allokerat = "
                "nominellt belopp − allokerat, aldrig negativt.",
                "en": "The pool is approved or active eligible loans disbursed by the report date. "
                "Loans disbursed on or after the issue date are financing, earlier ones "
                f"refinancing; refinancing older than {model.lookback_months} months before issue "
                "is flagged. Unallocated = nominal − allocated, never negative.",
            },
        },
        {
            "key": "data",
            "title": {"sv": "Data och uppskattningar", "en": "Data, estimates and restatements"},
            "text": {
                "sv": "Värdena rapporteras årligen av låntagarna. Uppskattade värden och värden som "
                "ändrats sedan förra publicerade rapporten är markerade i tabellerna; ändringarna "
                f"listas under Ändringar. Uppskattade värden: {estimated}. Ändrade värden: "
                f"{restated}.",
                "en": "Values are reported yearly by the borrowers. Estimated values and values "
                "changed since the last published report are marked in the tables; the changes "
                f"are listed under Restatements. Estimated values: {estimated}. Restated values: "
                f"{restated}.",
            },
        },
        {
            "key": "rounding",
            "title": {"sv": "Avrundning", "en": "Rounding"},
            "text": {
                "sv": f"Belopp har {MONEY_SCALE} decimaler, indikatorvärden {VALUE_SCALE}, "
                f"procentuell förändring {PERCENT_SCALE} och andelar {SHARE_SCALE}. Varje härlett "
                "tal avrundas en gång (till jämnt) från det exakta värdet.",
                "en": f"Amounts have {MONEY_SCALE} decimals, indicator values {VALUE_SCALE}, change "
                f"in per cent {PERCENT_SCALE} and shares {SHARE_SCALE}. Each derived figure is "
                "rounded once (half to even) from its exact value.",
            },
        },
    ]
    return {
        "lang": model.lang,
        "schema_version": SCHEMA_VERSION,
        "scales": {
            "money": MONEY_SCALE,
            "value": VALUE_SCALE,
            "percent": PERCENT_SCALE,
            "share": SHARE_SCALE,
            "fx": FX_MAX_SCALE,
        },
        "lookback_months": model.lookback_months,
        "estimated_values": estimated,
        "restated_values": restated,
        "data_sources": data_sources,
        "sections": sections,
    }


def report_to_dict(model: ReportModel) -> dict[str, Any]:
    """The report as the JSON-ready dict every renderer reads (see the module docstring)."""
    with bulk_conversion():
        return _report_to_dict(model)


def _report_to_dict(model: ReportModel) -> dict[str, Any]:
    bond, alloc, impact = model.bond, model.allocation, model.impact
    summary = {
        "nominal_amount": alloc.nominal_amount,
        "other_bonds_nominal": alloc.other_bonds_nominal,
        "pool_outstanding_sek": alloc.pool_outstanding_sek,
        "pool_outstanding": alloc.pool_outstanding,
        "pool_disbursed": alloc.pool_disbursed,
        "allocated": alloc.allocated,
        "unallocated": alloc.unallocated,
        "financing_amount": alloc.financing_amount,
        "refinancing_amount": alloc.refinancing_amount,
        "bond_share_of_pool": alloc.bond_share_of_pool,
        "bond_share_capped": alloc.bond_share_capped,
        "social_loan_ratio": alloc.social_loan_ratio,
        "loan_count": alloc.loan_count,
        "borrower_count": alloc.borrower_count,
        "pool_smaller_than_bond": alloc.pool_smaller_than_bond,
        "lookback_exceeded_count": alloc.lookback_exceeded_count,
        "lookback_cutoff": alloc.lookback_cutoff,
    }
    sources = impact.per_loan["data_source"].drop_nulls().unique().sort().to_list()
    restatements = sorted(
        ({k: _text(v) for k, v in row.items()} for row in model.restatements),
        key=lambda r: (str(r.get("loan")), str(r.get("indicator")), str(r.get("year"))),
    )
    return {
        "bond": {
            "isin": bond.isin,
            "name": bond.name,
            "currency": bond.currency,
            "nominal_amount": _text(bond.nominal_amount),
            "issue_date": _text(bond.issue_date),
            "maturity_date": _text(bond.maturity_date),
            "coupon_pct": _text(bond.coupon_pct),
            "framework_version": bond.framework_version,
        },
        "report_date": _text(model.report_date),
        "fx": {
            "currency": model.fx.currency,
            "sek_per_unit": _text(model.fx.sek_per_unit),
            "as_of": _text(model.fx.as_of),
            "source": model.fx.source,
        },
        "allocation": {
            "summary": {key: _text(value) for key, value in summary.items()},
            "messages": [
                {"code": m.code, "message_sv": m.message_sv, "message_en": m.message_en}
                for m in alloc.messages
            ],
            "by_category": FrameRows(alloc.by_category),
            "by_icma_category": FrameRows(alloc.by_icma_category),
            "financing": FrameRows(alloc.financing),
            "loans": FrameRows(alloc.loans.select(_LOAN_COLUMNS)),
        },
        "impact": {
            "indicators": FrameRows(impact.indicators),
            "per_loan": FrameRows(impact.per_loan),
            "values": ValueSeries(impact),
            "by_category": FrameRows(impact.by_category),
            "bond": FrameRows(impact.bond),
        },
        "methodology": _methodology(model, sources),
        "restatements": restatements,
    }
