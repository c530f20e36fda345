"""Whatever bytes arrive, ``parse_file`` answers with issues, never with an exception."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanportfolj.ingest import IngestContext, ParseResult, parse_file

from .conftest import FIXTURES

pytestmark = pytest.mark.unit

GOOD = [
    "good_english.csv",
    "good_swedish_excel.csv",
    "good_utf8_bom.csv",
    "good_two_sheets.xlsx",
    "good_libreoffice_template.xlsx",
]
SEEDS = {name: (FIXTURES / name).read_bytes() for name in GOOD}
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    # Rejected means an error says why; accepted rows always carry the row they came from.
    if not result.ok:
        assert result.errors
    for row in result.rows:
        assert row.row >= 2
    for issue in result.issues:
        assert issue.code and issue.message_sv and issue.message_en


@HYPOTHESIS
@given(data=st.binary(max_size=4096), name=st.sampled_from(["x.csv", "x.xlsx", "x.bin", "x"]))
def test_arbitrary_bytes_give_issues_not_exceptions(
    data: bytes, name: str, context: IngestContext
) -> None:
    _check(parse_file(name, data, context))


@HYPOTHESIS
@given(
    seed=st.sampled_from(GOOD),
    cut=st.floats(min_value=0.0, max_value=1.0),
)
def test_truncated_files(seed: str, cut: float, context: IngestContext) -> None:
    data = SEEDS[seed]
    _check(parse_file(seed, data[: int(len(data) * cut)], context))


@HYPOTHESIS
@given(
    seed=st.sampled_from(GOOD),
    flips=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=1.0), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
)
def test_files_with_flipped_bytes(
    seed: str, flips: list[tuple[float, int]], context: IngestContext
) -> None:
    data = bytearray(SEEDS[seed])
    for where, byte in flips:
        data[min(int(where * len(data)), len(data) - 1)] = byte
    _check(parse_file(seed, bytes(data), context))


@HYPOTHESIS
@given(
    seed=st.sampled_from([name for name in GOOD if name.endswith(".csv")]),
    order=st.randoms(use_true_random=False),
)
def test_shuffled_rows_give_the_same_values(
    seed: str, order: random.Random, context: IngestContext
) -> None:
    lines = SEEDS[seed].splitlines(keepends=True)
    header, body = lines[0], [line for line in lines[1:] if line.strip(b"\r\n;, ")]
    order.shuffle(body)
    result = parse_file(seed, header + b"".join(body), context)
    original = parse_file(seed, SEEDS[seed], context)
    assert result.ok

    def key(row):
        return (row.loan, row.indicator, row.group, row.year, row.value)

    assert sorted(map(key, result.rows)) == sorted(map(key, original.rows))


@HYPOTHESIS
@given(
    seed=st.sampled_from([name for name in GOOD if name.endswith(".csv")]),
    junk=st.text(max_size=40),
    where=st.floats(min_value=0.0, max_value=1.0),
)
def test_text_spliced_into_csv(seed: str, junk: str, where: float, context: IngestContext) -> None:
    data = SEEDS[seed]
    at = int(len(data) * where)
    _check(parse_file(seed, data[:at] + junk.encode("utf-8") + data[at:], context))
