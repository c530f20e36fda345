"""Every error ``read_portfolio`` reports for a portfolio folder (the format in ``data/demo/README.md``):
each names the file, the record and the field, so whoever edits the TOML finds the line to fix. The
loader refuses a folder with any of them and writes nothing (``test_portfolio.py`` shows that part)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lanportfolj.library import IndicatorDef, load_library
from lanportfolj.services.portfolio import PortfolioIssue, read_portfolio

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parent.parent / "fixtures" / "portfolio_small"


@pytest.fixture(scope="module")
def library() -> dict[str, IndicatorDef]:
    return load_library()


def _folder(tmp_path: Path, old: str = "", new: str = "") -> Path:
    target = tmp_path / "portfolio"
    shutil.copytree(SMALL, target)
    toml = target / "portfolio.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, old
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_the_fixture_itself_has_no_errors(tmp_path: Path, library: dict[str, IndicatorDef]) -> None:
    parsed, issues = read_portfolio(_folder(tmp_path), library)
    assert issues == []
    assert [loan["reference"] for loan in parsed.loans] == ["SH-2023-001"]


#: (text in the fixture, what it is replaced with, the (record, field, message) of each issue)
RECORD_ERRORS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        'member = true\nmunicipality_code = "0180"',
        'member = true\nmunicipality_code = "0180"\ncolour = "red"',
        [("borrower #1 (Stockholms stad)", "colour", "unknown field")],
    ),
    (
        'orgnr = "212000-0142"\nname',
        'orgnr = "212000-0143"\nname',
        [
            (
                "borrower #1 (Stockholms stad)",
                "orgnr",
                "The check digit of 212000-0143 is wrong: the last digit is 3 but should be 2. Check that the number is typed correctly.",
            ),
            (
                "borrower #2 (Testbostäder AB)",
                "owner",
                "212000-0142 is not a borrower in this file",
            ),
        ],
    ),
    (
        'orgnr = "5560000001"',
        'orgnr = "212000-0142"',
        [
            (
                "borrower #2 (Testbostäder AB)",
                "orgnr",
                "212000-0142 is already used by borrower #1 (Stockholms stad)",
            ),
            ("loan SH-2023-001", "borrower", "556000-0001 is not a borrower in this file"),
        ],
    ),
    (
        'kind = "municipality"',
        'kind = "ministry"',
        [
            (
                "borrower #1 (Stockholms stad)",
                "kind",
                "'ministry' is not one of municipal_company, municipality, region, regional_company",
            )
        ],
    ),
    (
        'owner = "212000-0142"\n',
        "",
        [("borrower #2 (Testbostäder AB)", "owner", "a company needs its owner's orgnr")],
    ),
    (
        'owner = "212000-0142"',
        'owner = "12"',
        [
            (
                "borrower #2 (Testbostäder AB)",
                "owner",
                "The organisation number '12' has 2 digits; it must have 10 (NNNNNN-NNNN).",
            ),
            ("borrower #2 (Testbostäder AB)", "owner", "12 is not a borrower in this file"),
        ],
    ),
    (
        'owner = "212000-0142"',
        'owner = "232100-0016"',
        [("borrower #2 (Testbostäder AB)", "owner", "232100-0016 is not a borrower in this file")],
    ),
    (
        'municipality_code = "0180"',
        'municipality_code = "180"',
        [
            (
                "borrower #1 (Stockholms stad)",
                "municipality_code",
                "'180' is not a four-digit municipality code",
            )
        ],
    ),
    ('name = "Stockholms stad"', 'name = " "', [("borrower #1 ( )", "name", "is required")]),
    ('name = "Stockholms stad"', "name = 5", [("borrower #1 (5)", "name", "must be text")]),
    (
        'reference = "SH-2023-001"',
        'reference = ""',
        [
            ("loan #1", "reference", "is required"),
            ("bond SE0000000002", "pool", "'SH-2023-001' is not a loan in this file"),
        ],
    ),
    (
        'borrower = "556000-0001"',
        'borrower = "556000-0002"',
        [
            (
                "loan SH-2023-001",
                "borrower",
                "The check digit of 556000-0002 is wrong: the last digit is 2 but should be 1. Check that the number is typed correctly.",
            )
        ],
    ),
    (
        'borrower = "556000-0001"',
        'borrower = "232100-0016"',
        [("loan SH-2023-001", "borrower", "232100-0016 is not a borrower in this file")],
    ),
    (
        'status = "active"',
        'status = "paused"',
        [
            (
                "loan SH-2023-001",
                "status",
                "'paused' is not one of active, approved, draft, rejected, repaid, submitted, under_review",
            )
        ],
    ),
    (
        'status = "active"',
        'status = "active"\ncurrency = "EUR"',
        [("loan SH-2023-001", "currency", "loans are in SEK")],
    ),
    ('amount = "3800000000"\n', "", [("loan SH-2023-001", "amount", "is required")]),
    (
        'amount = "3800000000"',
        'amount = "abc"',
        [("loan SH-2023-001", "amount", "'abc' is not a number")],
    ),
    (
        'amount = "3800000000"',
        'amount = "NaN"',
        [("loan SH-2023-001", "amount", "'NaN' is not a number")],
    ),
    (
        'outstanding_amount = "3800000000"',
        'outstanding_amount = "3800000001"',
        [("loan SH-2023-001", "outstanding_amount", "exceeds the loan amount")],
    ),
    (
        'disbursed_amount = "3800000000"',
        'disbursed_amount = "3800000001"',
        [("loan SH-2023-001", "disbursed_amount", "exceeds the loan amount")],
    ),
    (
        'total_project_cost = "7600000000"',
        'total_project_cost = "0"',
        [("loan SH-2023-001", "total_project_cost", "must be greater than zero")],
    ),
    (
        'margin_bp = "25"',
        'margin_bp = "25"\noutcome_base_rate = 1.5',
        [("loan SH-2023-001", "outcome_base_rate", "must be a proportion between 0 and 1")],
    ),
    (
        "application_date = 2023-03-01",
        'application_date = "2023-13-01"',
        [("loan SH-2023-001", "application_date", "'2023-13-01' is not a date (YYYY-MM-DD)")],
    ),
    (
        'margin_bp = "25"',
        'margin_bp = "tjugo"',
        [("loan SH-2023-001", "margin_bp", "'tjugo' is not a number")],
    ),
    (
        'margin_bp = "25"',
        'margin_bp = "25"\nfollow_up_until_year = 1800',
        [("loan SH-2023-001", "follow_up_until_year", "1800 is not a year")],
    ),
    (
        'target_populations = ["excluded_marginalised"]',
        'target_populations = ["martians"]',
        [("loan SH-2023-001", "target_populations", "'martians' is not an ICMA target population")],
    ),
    ('sdgs = ["11.1"]', 'sdgs = "11.1"', [("loan SH-2023-001", "sdgs", "must be a list of text")]),
    (
        'margin_bp = "25"',
        'margin_bp = "25"\ncolour = "red"',
        [("loan SH-2023-001", "colour", "unknown field")],
    ),
    (
        '  data_source = "Police"',
        '  data_source = "Police"\n  weight = 2',
        [("loan SH-2023-001 indicator #2 (reported_crimes)", "weight", "unknown field")],
    ),
    (
        'code = "reported_crimes"',
        'code = "dwellings_renovated"',
        [
            (
                "loan SH-2023-001 indicator #2 (dwellings_renovated)",
                "code",
                "dwellings_renovated is listed twice on this loan",
            )
        ],
    ),
    (
        'baseline_value = "410"',
        'baseline_value = "many"',
        [
            (
                "loan SH-2023-001 indicator #2 (reported_crimes)",
                "baseline_value",
                "'many' is not a number",
            )
        ],
    ),
    (
        'baseline_year = 2022\n  target_value = "300"',
        'baseline_year = "2022"\n  target_value = "300"',
        [
            (
                "loan SH-2023-001 indicator #2 (reported_crimes)",
                "baseline_year",
                "'2022' is not a year",
            )
        ],
    ),
    (
        'text = "Renovate 1 200 flats by 2030"',
        'text = ""',
        [("loan SH-2023-001 goal #1", "text", "is required")],
    ),
    (
        'text = "Renovate 1 200 flats by 2030"',
        'text = "Renovate 1 200 flats by 2030"\n  owner = "x"',
        [("loan SH-2023-001 goal #1", "owner", "unknown field")],
    ),
    (
        'kind = "committee"',
        'kind = "board"',
        [("loan SH-2023-001 decision #1", "kind", "'board' is not one of committee, credit")],
    ),
    (
        'outcome = "approved"\n  by = "Committee"',
        'outcome = "maybe"\n  by = "Committee"',
        [("loan SH-2023-001 decision #1", "outcome", "'maybe' is not one of approved, rejected")],
    ),
    ('by = "Credit"', 'by = ""', [("loan SH-2023-001 decision #2", "by", "is required")]),
    (
        "at = 2023-05-02T10:00:00Z",
        'at = "yesterday"',
        [("loan SH-2023-001 decision #2", "at", "'yesterday' is not a date-time")],
    ),
    (
        '  rationale = "Clear case"',
        '  rationale = "Clear case"\n\n  [[loan.judgement]]\n  criterion = "E1"\n  result = "unsure"\n  by = "Analyst"\n  rationale = ""',
        [
            ("loan SH-2023-001 judgement #1", "criterion", "'E1' is not one of E10, E11, E9"),
            ("loan SH-2023-001 judgement #1", "result", "'unsure' is not one of fail, pass"),
            ("loan SH-2023-001 judgement #1", "rationale", "is required"),
        ],
    ),
    (
        '  rationale = "Clear case"',
        '  rationale = "Clear case"\n\n  [[loan.own_indicator]]\n  code = "homework_club_visits"',
        [
            (
                "loan SH-2023-001 own_indicator #1",
                "name_sv",
                "Required field 'name_sv' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "name_en",
                "Required field 'name_en' is missing.",
            ),
            ("loan SH-2023-001 own_indicator #1", "unit", "Required field 'unit' is missing."),
            ("loan SH-2023-001 own_indicator #1", "kind", "Required field 'kind' is missing."),
            (
                "loan SH-2023-001 own_indicator #1",
                "direction",
                "Required field 'direction' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "aggregation",
                "Required field 'aggregation' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "programme_categories",
                "Required field 'programme_categories' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "icma_category",
                "Required field 'icma_category' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "definition_sv",
                "Required field 'definition_sv' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "definition_en",
                "Required field 'definition_en' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "data_source",
                "Required field 'data_source' is missing.",
            ),
        ],
    ),
    (
        '  rationale = "Clear case"',
        '  rationale = "Clear case"\n\n  [[loan.own_indicator]]\n  code = "dwellings_renovated"\n  name_sv = "x"\n  name_en = "x"\n  unit = "st"\n  kind = "output"\n  direction = "increase"\n  aggregation = "sum"',
        [
            (
                "loan SH-2023-001 own_indicator #1",
                "programme_categories",
                "Required field 'programme_categories' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "icma_category",
                "Required field 'icma_category' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "definition_sv",
                "Required field 'definition_sv' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "definition_en",
                "Required field 'definition_en' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "data_source",
                "Required field 'data_source' is missing.",
            ),
            (
                "loan SH-2023-001 own_indicator #1",
                "unit",
                "Unit 'st' is unknown; allowed: count, percent, per_1000, per_100000, SEK, SEK/m2, m2, hours, days, index, points.",
            ),
        ],
    ),
    (
        'isin = "SE0000000002"',
        'isin = "0000000000SE"',
        [
            (
                "bond 0000000000SE",
                "isin",
                "'0000000000SE' is not an ISIN: 12 characters, two capital letters (the country),"
                " nine capital letters or digits and a check digit, e.g. SE0021150208.",
            )
        ],
    ),
    ('name = "Test social bond"', 'name = ""', [("bond SE0000000002", "name", "is required")]),
    (
        'nominal_amount = "3000000000"\n',
        "",
        [("bond SE0000000002", "nominal_amount", "is required")],
    ),
    ("issue_date = 2025-04-08\n", "", [("bond SE0000000002", "issue_date", "is required")]),
    (
        "maturity_date = 2028-09-01",
        "maturity_date = 2025-04-08",
        [("bond SE0000000002", "maturity_date", "must be after the issue date")],
    ),
    (
        'coupon_pct = "2.625"',
        'coupon_pct = "2.625"\nrating = "AAA"',
        [("bond SE0000000002", "rating", "unknown field")],
    ),
    (
        'file = "measurements/2023-2024.csv"',
        'file = "measurements/missing.csv"',
        [("submission #1", "file", "no such file: 'measurements/missing.csv'")],
    ),
    (
        'uploaded_by = "report@test.se"\nuploaded_at = 2025-04-10T09:00:00Z',
        'uploaded_by = "report@test.se"\nuploaded_at = 2025-04-10T09:00:00Z\nsize = 3',
        [("submission #1", "size", "unknown field")],
    ),
    ("[[bond]]", "[extras]\nx = 1\n\n[[bond]]", [("", "extras", "unknown section")]),
]


@pytest.mark.parametrize(("old", "new", "expected"), RECORD_ERRORS)
def test_each_bad_record_is_named_with_its_file_record_and_field(
    tmp_path: Path,
    library: dict[str, IndicatorDef],
    old: str,
    new: str,
    expected: list[tuple[str, str, str]],
) -> None:
    folder = _folder(tmp_path, old, new)
    _parsed, issues = read_portfolio(folder, library)
    toml = str(folder / "portfolio.toml")
    assert issues == [
        PortfolioIssue(toml, record, field, message) for record, field, message in expected
    ]


def test_a_folder_without_portfolio_toml(tmp_path: Path, library: dict[str, IndicatorDef]) -> None:
    _parsed, issues = read_portfolio(tmp_path, library)
    assert issues == [
        PortfolioIssue(str(tmp_path / "portfolio.toml"), "", "", "no portfolio.toml here")
    ]
    assert str(issues[0]) == f"{tmp_path / 'portfolio.toml'}: no portfolio.toml here"


def test_a_file_that_is_not_toml_names_the_line(
    tmp_path: Path, library: dict[str, IndicatorDef]
) -> None:
    folder = _folder(tmp_path, "[[bond]]", "[[bond]\n")
    _parsed, issues = read_portfolio(folder, library)
    assert [(issue.file, issue.record, issue.field) for issue in issues] == [
        (str(folder / "portfolio.toml"), "", "")
    ]
    assert issues[0].message.startswith("not valid TOML: ")
    assert "(at line 77, column 7)" in issues[0].message  # the [[bond]] line


def test_a_file_that_is_not_utf8(tmp_path: Path, library: dict[str, IndicatorDef]) -> None:
    toml = tmp_path / "portfolio.toml"
    toml.write_bytes('name = "Västerås"\n'.encode("cp1252"))
    _parsed, issues = read_portfolio(toml, library)
    assert issues == [PortfolioIssue(str(toml), "", "", "not UTF-8 text")]
    assert issues[0].to_dict() == {
        "file": str(toml),
        "record": "",
        "field": "",
        "message": "not UTF-8 text",
    }
