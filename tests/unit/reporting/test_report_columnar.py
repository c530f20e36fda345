"""The report dict's big tables stay polars frames (``FrameRows``) until read as dicts: whichever
way a table is read — column-wise by the JSON and XLSX writers or as dicts — it is the same table."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from typing import Any

import openpyxl
import polars as pl
import pytest

from lanportfolj.reporting.excel import render_xlsx
from lanportfolj.reporting.html import render_html
from lanportfolj.reporting.json import render_json
from lanportfolj.reporting.model import FrameRows, compute_report, report_to_dict
from lanportfolj.reporting.synthetic import synthetic_inputs

pytestmark = pytest.mark.unit

#: texts json escapes (quote, backslash, control characters), non-ASCII, line separators, and
#: text that reads as Excel's escape
AWKWARD = ['Quote "A" AB', "Back\\slash", "Tab\there\nnewline", "Bell\x07", "Åsa Öberg", "a\u2028b",
           "_x0041_", "", "=SUM(A1)"]  # fmt: skip


def _dict(loans: int = 40) -> dict[str, Any]:
    inputs = synthetic_inputs(loans=loans, indicators=8, years=4, seed=5)
    frame = inputs.loans.with_row_index("i").with_columns(
        borrower=pl.col("i").map_elements(lambda i: AWKWARD[i % len(AWKWARD)], pl.String),
        title=pl.col("i").map_elements(lambda i: AWKWARD[(i + 3) % len(AWKWARD)], pl.String),
    )
    return report_to_dict(compute_report(replace(inputs, loans=frame.drop("i"))))


def _as_lists(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _as_lists(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_as_lists(item) for item in node]
    return node


def test_json_written_from_frames_equals_json_of_the_dicts() -> None:
    data = _dict()
    assert isinstance(data["impact"]["values"], FrameRows)
    columnar = render_json(data)
    plain = json.dumps(_as_lists(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert columnar == (plain + "\n").encode("utf-8")
    assert render_json(json.loads(columnar)) == columnar


def test_frame_rows_behave_as_the_list_of_their_rows() -> None:
    data = _dict(loans=12)
    values = data["impact"]["values"]
    per_loan = data["impact"]["per_loan"]
    expected = json.loads(render_json(data))
    assert len(per_loan) == len(expected["impact"]["per_loan"])
    assert len(values) == len(expected["impact"]["values"])
    assert per_loan[:3] == expected["impact"]["per_loan"][:3]
    assert not per_loan.filled  # a page of rows converts only that page
    assert values == expected["impact"]["values"]
    assert per_loan[-1] == expected["impact"]["per_loan"][-1]
    assert list(per_loan) == expected["impact"]["per_loan"]
    # once read as dicts they are the dict's rows: a change shows in the JSON
    per_loan[0]["borrower"] = "Changed"
    assert json.loads(render_json(data))["impact"]["per_loan"][0]["borrower"] == "Changed"


def test_xlsx_written_from_frames_equals_xlsx_of_the_frozen_dict() -> None:
    data = _dict()
    frozen = json.loads(render_json(data))
    assert render_xlsx(data) == render_xlsx(frozen)
    assert not data["impact"]["values"].filled  # written from the frame


def test_html_from_frames_equals_html_of_the_frozen_dict() -> None:
    data = _dict(loans=30)
    frozen = json.loads(render_json(data))
    small = {"max_trajectory_charts": 3, "max_table_rows": 7, "max_value_rows": 50}
    assert render_html(data, **small) == render_html(frozen, **small)
    assert render_html(data, lang="sv") == render_html(frozen, lang="sv")


def test_html_converts_only_the_rows_it_shows() -> None:
    data = _dict(loans=30)
    render_html(data, max_trajectory_charts=3, max_table_rows=7, max_value_rows=50)
    assert not data["impact"]["values"].filled
    assert not data["impact"]["per_loan"].filled


def test_json_is_the_same_whatever_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = render_json(_dict())
    monkeypatch.setattr("lanportfolj.reporting.model.JSON_CHUNK", 7)
    assert render_json(_dict()) == whole


def _unescape(text: str | None) -> str | None:
    """Excel's ``_xHHHH_`` escape of a control character undone (Excel shows the character;
    openpyxl undoes only the escape of the escape, ``_x005F_``)."""
    if text is None:
        return None
    return re.sub(r"_x(00[01][0-9A-Fa-f])_", lambda match: chr(int(match.group(1), 16)), text)


def test_xlsx_text_cells_read_back_as_the_report_text() -> None:
    data = _dict(loans=20)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)), read_only=True)
    rows = list(book["Loans"].iter_rows(values_only=True))
    header = rows[0]
    got = [
        (_unescape(row[header.index("Borrower")]), _unescape(row[header.index("Project")]))
        for row in rows[1:]
    ]
    # an empty text is no cell at all
    want = [(r["borrower"] or None, r["title"] or None) for r in json.loads(render_json(data))["allocation"]["loans"]]  # fmt: skip
    assert got == want
