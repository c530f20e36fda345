"""Every identifier and size problem compared whole — field, value, code and both messages — so a
changed word in either language, a lost limit or a wrong code fails (mutation testing, issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from lanportfolj.domain import identifiers as ids
from lanportfolj.domain.identifiers import Problem

pytestmark = pytest.mark.unit

LONG_NAME = "a" * 256
CUT = "a" * 80 + "…"

CASES: list[tuple[Callable[[], Problem | None], Problem]] = [
    (
        lambda: ids.indicator_code_problem("Bostäder", "indicators.0.code"),
        Problem(
            "indicators.0.code",
            "Bostäder",
            "bad-indicator-code",
            "indicators.0.code: koden 'Bostäder' ska vara 2–64 tecken: en liten bokstav först, sedan "
            "små bokstäver (a–z), siffror och understreck, t.ex. dwellings_renovated.",
            "indicators.0.code: the code 'Bostäder' must be 2–64 characters: a lower-case letter "
            "first, then lower-case letters (a–z), digits and underscores, e.g. dwellings_renovated.",
        ),
    ),
    (
        lambda: ids.loan_reference_problem("SH-26-1"),
        Problem(
            "reference",
            "SH-26-1",
            "bad-reference",
            "reference: referensen 'SH-26-1' ska skrivas som SH-2026-001: 2–4 versaler, bindestreck, "
            "ett fyrsiffrigt år, bindestreck och 3–6 siffror.",
            "reference: the reference 'SH-26-1' must look like SH-2026-001: 2–4 capital letters, a "
            "hyphen, a four-digit year, a hyphen and 3–6 digits.",
        ),
    ),
    (
        lambda: ids.comparison_group_problem("Skola  B"),
        Problem(
            "group",
            "Skola  B",
            "bad-group-name",
            "group: jämförelsegruppens namn 'Skola  B' ska vara högst 120 tecken: en bokstav eller "
            "siffra först, sedan bokstäver, siffror, enkla mellanslag och -–_.,:'’()/&+%.",
            "group: the comparison group's name 'Skola  B' must be at most 120 characters: a letter "
            "or digit first, then letters, digits, single spaces and -–_.,:'’()/&+%.",
        ),
    ),
    (
        lambda: ids.file_name_problem("  "),
        Problem(
            "file",
            "  ",
            "bad-file-name",
            "file: filnamnet '  ' kan inte användas: namnet är tomt.",
            "file: the file name '  ' cannot be used: the name is empty.",
        ),
    ),
    (
        lambda: ids.file_name_problem(LONG_NAME),
        Problem(
            "file",
            LONG_NAME,
            "bad-file-name",
            f"file: filnamnet '{CUT}' kan inte användas: namnet är längre än 255 tecken.",
            f"file: the file name '{CUT}' cannot be used: the name is longer than 255 characters.",
        ),
    ),
    (
        lambda: ids.file_name_problem("rapport\u202e.csv"),
        Problem(
            "file",
            "rapport\u202e.csv",
            "bad-file-name",
            "file: filnamnet 'rapport\\u202e.csv' kan inte användas: namnet innehåller styrtecken.",
            "file: the file name 'rapport\\u202e.csv' cannot be used: the name contains control "
            "characters.",
        ),
    ),
    (
        lambda: ids.file_name_problem("a/b\\c?.csv", "upload"),
        Problem(
            "upload",
            "a/b\\c?.csv",
            "bad-file-name",
            "upload: filnamnet 'a/b\\c?.csv' kan inte användas: namnet innehåller / ? \\.",
            "upload: the file name 'a/b\\c?.csv' cannot be used: the name contains / ? \\.",
        ),
    ),
    (
        lambda: ids.file_name_problem(".env"),
        Problem(
            "file",
            ".env",
            "bad-file-name",
            "file: filnamnet '.env' kan inte användas: namnet börjar med en punkt.",
            "file: the file name '.env' cannot be used: the name starts with a dot.",
        ),
    ),
    (
        lambda: ids.sdg_target_problem("18.1", "sdgs.0"),
        Problem(
            "sdgs.0",
            "18.1",
            "bad-sdg-target",
            "sdgs.0: '18.1' är inget av FN:s globala mål eller delmål; skriv målet (1–17) och "
            "delmålet, t.ex. 11.1 eller 1.a.",
            "sdgs.0: '18.1' is not one of the UN's Sustainable Development Goals or targets; write "
            "the goal (1–17) and the target, e.g. 11.1 or 1.a.",
        ),
    ),
    (
        lambda: ids.isin_problem("SE00211502"),
        Problem(
            "isin",
            "SE00211502",
            "bad-isin",
            "isin: 'SE00211502' är inget ISIN: 12 tecken, två versaler (landet), nio versaler eller "
            "siffror och en kontrollsiffra, t.ex. SE0021150208.",
            "isin: 'SE00211502' is not an ISIN: 12 characters, two capital letters (the country), "
            "nine capital letters or digits and a check digit, e.g. SE0021150208.",
        ),
    ),
    (
        lambda: ids.isin_problem("SE0021150207"),
        Problem(
            "isin",
            "SE0021150207",
            "bad-isin",
            "isin: kontrollsiffran i ISIN SE0021150207 stämmer inte: sista siffran är 7 men ska vara 8.",
            "isin: the check digit of ISIN SE0021150207 is wrong: the last digit is 7 but should be 8.",
        ),
    ),
    (
        lambda: ids.orgnr_problem("5560000000"),
        Problem(
            "orgnr",
            "5560000000",
            "bad-orgnr",
            "orgnr: Kontrollsiffran i 556000-0000 stämmer inte: sista siffran är 0 men ska vara 1. "
            "Kontrollera att numret är rätt skrivet.",
            "orgnr: The check digit of 556000-0000 is wrong: the last digit is 0 but should be 1. "
            "Check that the number is typed correctly.",
        ),
    ),
    (
        lambda: ids.orgnr_problem("5560000001"),
        Problem(
            "orgnr",
            "5560000001",
            "bad-orgnr",
            "orgnr: '5560000001' ska lagras som 556000-0001.",
            "orgnr: '5560000001' must be stored as 556000-0001.",
        ),
    ),
    (
        lambda: ids.too_long("title", "x" * 201, 200),
        Problem(
            "title",
            "x" * 40 + "…",
            "too-long",
            "title: texten är 201 tecken; högst 200 tecken är tillåtna.",
            "title: the text is 201 characters long; at most 200 are allowed.",
        ),
    ),
    (
        lambda: ids.too_many("goals", 21, 20),
        Problem(
            "goals",
            "21",
            "too-many",
            "goals: 21 rader; högst 20 är tillåtna.",
            "goals: 21 entries; at most 20 are allowed.",
        ),
    ),
    (
        lambda: ids.too_big("amount", Decimal("1e18"), ids.MAX_AMOUNT),
        Problem(
            "amount",
            "1E+18",
            "too-big",
            "amount: talet är för stort; det ska vara mindre än 1E+18.",
            "amount: the number is too large; it must be less than 1E+18.",
        ),
    ),
    (
        lambda: ids.too_big("n", -10_000_000, ids.MAX_SAMPLE_PER_ARM),
        Problem(
            "n",
            "-10000000",
            "too-big",
            "n: talet är för stort; det ska vara mindre än 10 000 000.",
            "n: the number is too large; it must be less than 10 000 000.",
        ),
    ),
    (
        lambda: ids.too_deep(21),
        Problem(
            "body",
            "21",
            "too-deep",
            "body: JSON-texten är nästlad djupare än 20 nivåer.",
            "body: the JSON is nested deeper than 20 levels.",
        ),
    ),
    (
        lambda: ids.year_span_problem(2000, 2025),
        Problem(
            "years",
            "2000-2025",
            "too-many-years",
            "years: 2000–2025 är 26 år; högst 25 år åt gången.",
            "years: 2000–2025 is 26 years; at most 25 years at a time.",
        ),
    ),
]


@pytest.mark.parametrize(("make", "expected"), CASES, ids=lambda c: getattr(c, "code", None))
def test_the_whole_problem_in_both_languages(
    make: Callable[[], Problem | None], expected: Problem
) -> None:
    problem = make()
    assert problem == expected
    assert (problem.message("sv"), problem.message("en")) == (
        expected.message_sv,
        expected.message_en,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: ids.too_long("title", "x" * 200, 200),
        lambda: ids.too_many("goals", 20, 20),
        lambda: ids.too_big("n", 9_999_999, ids.MAX_SAMPLE_PER_ARM),
        lambda: ids.too_deep(20),
        lambda: ids.year_span_problem(2001, 2025),
        lambda: ids.orgnr_problem("556000-0001"),
        lambda: ids.isin_problem("SE0021150208"),
        lambda: ids.comparison_group_problem(""),
    ],
)
def test_at_the_limit_there_is_no_problem(make: Callable[[], Problem | None]) -> None:
    assert make() is None
