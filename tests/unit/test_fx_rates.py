"""Reading an FX rate file and the rate that holds at a date (domain/fx.py), compared as whole results:
every rate, every skipped row and every problem with its row, column and both messages (issue 20)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lanportfolj.domain.fx import (
    RateAt,
    RateFile,
    RateProblem,
    RateRow,
    StoredRate,
    rate_at,
    read_rate_file,
)

pytestmark = pytest.mark.unit

JAN2 = date(2025, 1, 2)


def test_a_riksbank_download_with_every_kind_of_row() -> None:
    data = (
        "\ufeffPeriod;Group;Series;Value;Unit\n"
        "2025-01-02;11;SEKEURPMI;11,4965;1\n"
        "2025-01-03;11;SEKEURPMI;n/a;1\n"  # a holiday: skipped, not a problem
        "2025-01-02;11;sekjpypmi;7,0512;100\n"  # SEK per 100 yen
        "2025-01-02;11;SEKXYZ;1;1\n"
        "2025-01-02;11;SEKUSDPMI;10,5;10\n"
        "2025-01-02;11;SEKEURPMI;11,5;1\n"  # the same day again with another rate
        "2025-13-01;11;SEKGBPPMI;-1;1\n"
        "2025-01-02;11;SEKNOKPMI;1,2345678;1\n"
        "2025-01-02;11;SEKDKKPMI;1,234567;100\n"
        ";;;;\n"
        "2025-01-02;11;SEKCHFPMI;12,1\n"  # no unit cell: per 1
    ).encode()
    assert read_rate_file(data) == RateFile(
        layout="riksbank",
        rates=(
            RateRow(2, JAN2, "EUR", Decimal("11.4965")),
            RateRow(4, JAN2, "JPY", Decimal("0.070512")),
            RateRow(7, JAN2, "EUR", Decimal("11.5")),
            RateRow(12, JAN2, "CHF", Decimal("12.1")),
        ),
        skipped=1,
        problems=(
            RateProblem(
                5,
                "Series",
                "not a Riksbank exchange-rate series (SEKxxxPMI): 'SEKXYZ'",
                "ingen av Riksbankens valutaserier (SEKxxxPMI): 'SEKXYZ'",
            ),
            RateProblem(
                6, "Unit", "the unit must be 1 or 100: '10'", "enheten ska vara 1 eller 100: '10'"
            ),
            RateProblem(
                7,
                "",
                "EUR on 2025-01-02 has another rate on row 2 (11.4965 vs 11.5)",
                "EUR den 2025-01-02 har en annan kurs på rad 2 (11.4965 mot 11.5)",
            ),
            RateProblem(
                8,
                "Period",
                "not a date (YYYY-MM-DD): '2025-13-01'",
                "inte ett datum: '2025-13-01'",
            ),
            RateProblem(
                8,
                "Value",
                "must be a positive number: '-1'",
                "kursen ska vara ett positivt tal med högst 6 decimaler: '-1'",
            ),
            RateProblem(
                9,
                "Value",
                "has more than 6 decimals: '1,2345678'",
                "kursen ska vara ett positivt tal med högst 6 decimaler: '1,2345678'",
            ),
            RateProblem(
                10,
                "Value",
                "per 100 units gives more than 6 decimals per unit: '1,234567'",
                "per 100 enheter ger fler än 6 decimaler per enhet: '1,234567'",
            ),
        ),
    )


def test_the_swedish_column_names_of_the_riksbank_layout() -> None:
    data = "Datum;Serie;Värde;Enhet\n2025-01-02;SEKEURPMI;11.4965;\n2025-01-03;SEKEURPMI;..;\n"
    assert read_rate_file(data.encode()) == RateFile(
        "riksbank", (RateRow(2, JAN2, "EUR", Decimal("11.4965")),), 1, ()
    )


def test_a_riksbank_header_without_period_and_value_names_both() -> None:
    assert read_rate_file(b"Group;Series\n11;SEKEURPMI\n") == RateFile(
        "riksbank",
        (),
        0,
        (
            RateProblem(
                1,
                "Period, Value",
                "the Riksbank layout needs the columns Period, Series and Value; missing: "
                "Period, Value",
                "Riksbankens layout behöver kolumnerna Period, Series och Value; saknas: "
                "Period, Value",
            ),
        ),
    )


def test_a_plain_file_in_windows_encoding() -> None:
    data = (
        "Date;Currency;Rate\n"
        "2025-01-02;eur;11,5\n"
        "\n"
        "2025-01-02;SEK;1\n"
        "2025-01-02;USD;x;y\n"
        "2025-01-03;USD;10.1;\n"
        "2025-01-02;EUR;11.50\n"  # the same rate again: no problem
        "2025-01-04;EURO;0\n"
    ).encode("cp1252")
    assert read_rate_file(data) == RateFile(
        layout="plain",
        rates=(
            RateRow(2, JAN2, "EUR", Decimal("11.5")),
            RateRow(6, date(2025, 1, 3), "USD", Decimal("10.1")),
            RateRow(7, JAN2, "EUR", Decimal("11.50")),
        ),
        skipped=0,
        problems=(
            RateProblem(
                4,
                "currency",
                "SEK is the base currency: 1 SEK = 1 SEK needs no rate",
                "ingen giltig valutakod: 'SEK'",
            ),
            RateProblem(5, "", "more than three columns", "fler än tre kolumner"),
            RateProblem(
                8,
                "currency",
                "not a three-letter currency code: 'EURO'",
                "ingen giltig valutakod: 'EURO'",
            ),
            RateProblem(
                8,
                "rate",
                "must be a positive number: '0'",
                "kursen ska vara ett positivt tal med högst 6 decimaler: '0'",
            ),
        ),
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", RateProblem(1, "", "the file is empty", "filen \u00e4r tom")),
        (b" ; \n\n", RateProblem(1, "", "the file is empty", "filen \u00e4r tom")),
        (
            b"day;currency;rate\n2025-01-02;EUR;11.5\n",
            RateProblem(
                1,
                "",
                "unknown layout: expected the header date;currency;rate or the Riksbank's "
                "Period;Group;Series;Value",
                "okänd layout: väntade rubrikraden date;currency;rate eller Riksbankens "
                "Period;Group;Series;Value",
            ),
        ),
    ],
)
def test_a_file_that_is_no_rate_file(data: bytes, problem: RateProblem) -> None:
    assert read_rate_file(data) == RateFile("unknown", (), 0, (problem,))


def test_a_problem_reads_with_its_row_and_column_in_either_language() -> None:
    problem = RateProblem(4, "rate", "must be a positive number: '0'", "ska vara positivt: '0'")
    whole_file = RateProblem(1, "", "the file is empty", "filen är tom")
    assert (problem.text("en"), problem.text("sv"), whole_file.text(), whole_file.text("sv")) == (
        "row 4, rate: must be a positive number: '0'",
        "rad 4, rate: ska vara positivt: '0'",
        "row 1: the file is empty",
        "rad 1: filen är tom",
    )


def _stored() -> list[StoredRate]:
    return [
        StoredRate("EUR", date(2025, 1, 2), Decimal("11.4965"), "Riksbanken"),
        StoredRate("EUR", date(2025, 1, 6), Decimal("11.52"), "Riksbanken"),
        StoredRate("EUR", date(2025, 1, 3), Decimal("11.50"), "Riksbanken"),
        StoredRate("USD", date(2025, 1, 7), Decimal("10.99"), "Riksbanken"),
    ]


def test_the_rate_on_the_day_itself() -> None:
    found = rate_at(_stored(), "EUR", date(2025, 1, 3))
    assert found == RateAt(date(2025, 1, 3), _stored()[2])
    assert found.exact_date is True
    assert (found.statement("en"), found.statement("sv")) == (
        "1 EUR = 11.50 SEK as of 2025-01-03 (Riksbanken)",
        "1 EUR = 11.50 SEK per 2025-01-03 (Riksbanken)",
    )


def test_the_latest_rate_before_a_day_without_one() -> None:
    found = rate_at(_stored(), "EUR", date(2025, 1, 5))
    assert found == RateAt(date(2025, 1, 5), _stored()[2])
    assert found.exact_date is False
    assert (found.statement(), found.statement("sv")) == (
        "1 EUR = 11.50 SEK as of 2025-01-03, the latest rate before 2025-01-05 (Riksbanken)",
        "1 EUR = 11.50 SEK per 2025-01-03, senaste kursen före 2025-01-05 (Riksbanken)",
    )


def test_no_rate_before_the_first_or_for_another_currency() -> None:
    assert rate_at(_stored(), "EUR", date(2025, 1, 1)) is None
    assert rate_at(_stored(), "GBP", date(2025, 2, 1)) is None
    assert rate_at(_stored(), "USD", date(2025, 1, 6)) is None
