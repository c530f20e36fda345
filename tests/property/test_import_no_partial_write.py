"""Arbitrary bytes and mangled valid files through ``import_file`` on a real database: never an unhandled
exception, and a rejected file leaves the measurement and submission tables exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from lanportfolj.models import Measurement, Submission
from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
GOOD = {
    name: (FIXTURES / name).read_bytes()
    for name in ("good_libreoffice_template.xlsx", "good_two_sheets.xlsx", "good_swedish_excel.csv")
}
ROWS_CSV = (
    "loan;indicator;year;value;estimated\n"
    "SH-2023-001;dwellings_renovated;2024;300;nej\n"
    "SH-2023-001;perceived_safety_share;2025;64,8;ja\n"
    "SH-2023-001;dwellings_renovated;2025;212;\n"
)
CHECKS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _snapshot(session: Session) -> tuple[object, ...]:
    m = session.exec(
        select(func.count(), func.max(Measurement.id), func.sum(Measurement.version)).select_from(
            Measurement
        )
    ).one()
    current = session.exec(
        select(func.count()).select_from(Measurement).where(Measurement.is_current)
    ).one()
    s = session.exec(select(func.count(), func.max(Submission.id)).select_from(Submission)).one()
    return (*m, current, *s)


def _check(session: Session, app_settings, name: str, data: bytes) -> None:
    before = _snapshot(session)
    try:
        result = import_file(
            session=session,
            settings=app_settings,
            filename=name,
            data=data,
            uploaded_by="hypothesis",
            current_year=2026,
        )
        if not result.accepted:
            assert result.errors, "a rejected file must say why"
            assert result.submission_id is None
            assert _snapshot(session) == before, "a rejected file wrote something"
    finally:
        session.rollback()  # accepted examples must not leak into the next one
    assert _snapshot(session) == before


@CHECKS
@given(data=st.binary(max_size=4096), name=st.sampled_from(["x.csv", "x.xlsx", "x.txt", "x"]))
def test_arbitrary_bytes(demo_settings, demo_session, data: bytes, name: str) -> None:
    _check(demo_session, demo_settings, name, data)


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(GOOD)))
    data = bytearray(GOOD[name])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return name, bytes(data)


@CHECKS
@given(case=mangled())
def test_mangled_valid_files(demo_settings, demo_session, case: tuple[str, bytes]) -> None:
    _check(demo_session, demo_settings, *case)


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-1", "1e9", "NaN", "inf", "12,5", "1 234", "2099", "SH-2023-002", '"']),
)


@CHECKS
@given(
    cells=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 4), CELL), min_size=1, max_size=5)
)
def test_valid_csv_with_cells_replaced(
    demo_settings, demo_session, cells: list[tuple[int, int, str]]
) -> None:
    lines = [line.split(";") for line in ROWS_CSV.splitlines()]
    for row, column, value in cells:
        lines[row][column] = value
    data = "\n".join(";".join(line) for line in lines).encode("utf-8", "surrogatepass")
    _check(demo_session, demo_settings, "cells.csv", data)
