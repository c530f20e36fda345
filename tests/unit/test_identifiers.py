"""The identifier grammars and request limits (issue 14): valid and invalid examples for each kind, and the
messages name the field in Swedish and in English."""

from __future__ import annotations

import pytest

from lanportfolj.domain import identifiers as ids
from lanportfolj.domain.filenames import safe_filename
from lanportfolj.kolada.fetch import YearSpanError, parse_years

HOSTILE = (
    "</script><b id=pwn>",
    '"><img src=x onerror=alert(1)>',
    "a\nb",
    "__lanportfolj_csrf_token__",
)


def _messages_name(problem: ids.Problem, field: str) -> None:
    assert problem.field == field
    assert problem.message_sv.startswith(f"{field}: ") and problem.message_en.startswith(
        f"{field}: "
    )
    assert problem.message_sv != problem.message_en
    assert (
        problem.message("sv") == problem.message_sv and problem.message("en") == problem.message_en
    )


@pytest.mark.parametrize(
    "value,ok",
    [
        ("dwellings_renovated", True),
        ("ab", True),
        ("a" * 64, True),
        ("x1_2", True),
        ("a", False),  # too short
        ("a" * 65, False),  # too long
        ("Dwellings", False),  # capital letter
        ("1st_year", False),  # digit first
        ("_private", False),
        ("out-of-range", False),
        ("kod med mellanslag", False),
        ("dwellings_renovated\n", False),  # a trailing newline that ``$`` alone would let through
        ("bostäder", False),  # letters outside a–z
        *((h, False) for h in HOSTILE),
    ],
)
def test_indicator_code_grammar(value: str, ok: bool) -> None:
    problem = ids.indicator_code_problem(value, "indicators.0.code")
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "indicators.0.code")
        assert problem.code == "bad-indicator-code"
        assert "2–64" in problem.message_sv and "2–64" in problem.message_en


@pytest.mark.parametrize(
    "value,ok",
    [
        ("SH-2026-001", True),
        ("SH-2023-9999", True),
        ("SY-2019-00042", True),  # the synthetic portfolio's prefix
        ("ABCD-2026-123456", True),
        ("SH-26-001", False),
        ("SH-2026-01", False),
        ("sh-2026-001", False),
        ("SH-2026-1234567", False),
        ("SH 2026 001", False),
        ("SH-2026-001\n", False),
        ("X", False),
        *((h, False) for h in HOSTILE),
    ],
)
def test_loan_reference_grammar(value: str, ok: bool) -> None:
    problem = ids.loan_reference_problem(value)
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "reference")
        assert "SH-2026-001" in problem.message_sv and "SH-2026-001" in problem.message_en


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),  # no group
        ("Skola B", True),
        ("Liknande kommuner (medel)", True),
        ("Upplands-Bro", True),
        ("Ännu inte renoverade kvarter i samma områden (etappvis införande)", True),
        ("Kommuner med liknande struktur (Koladas jämförelsegrupp för Vara)", True),
        ("Malmö 2/3, 50 %", True),
        ("Москва", True),  # any script's letters
        ("x" * ids.COMPARISON_GROUP_MAX, True),
        ("x" * (ids.COMPARISON_GROUP_MAX + 1), False),
        ("Skola  B", False),  # two spaces
        (" Skola", False),
        ('=HYPERLINK("http://x")', False),
        ("-1+2", False),
        ("<a href=//x>Skola</a>", False),
        ("Skola\tB", False),
        *((h, False) for h in HOSTILE),
    ],
)
def test_comparison_group_grammar(value: str, ok: bool) -> None:
    problem = ids.comparison_group_problem(value, "group")
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "group")
        assert str(ids.COMPARISON_GROUP_MAX) in problem.message_en


@pytest.mark.parametrize(
    "value,ok",
    [
        ("värden€.csv", True),
        ("Rapport 2025 (slutlig).xlsx", True),
        ("a" * 255, True),
        ("", False),
        ("a" * 256, False),
        ("../../etc/passwd", False),
        ("C:\\temp\\x.csv", False),
        (".hidden.csv", False),
        ("x\r\nSet-Cookie: a=b.csv", False),
        ("evil\u202egpj.exe", False),  # a right-to-left override hides the real extension
        ("line\u2028sep.csv", False),
        ('quote".csv', False),
        ("<b>.csv", False),
    ],
)
def test_file_name_grammar(value: str, ok: bool) -> None:
    problem = ids.file_name_problem(value)
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "file")
        # the value is quoted escaped: no raw control character reaches a message or a log line
        assert all(c.isprintable() for c in problem.message_en)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("värden€.csv", "värden€.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\temp\\x.csv", "x.csv"),
        ("x\r\ny.csv", "xy.csv"),
        ('rapport<1>:"slut"?.csv', "rapport_1___slut__.csv"),
        ("...", "upload"),
        ("", "upload"),
        ("a" * 300 + ".xlsx", "a" * 195 + ".xlsx"),
    ],
)
def test_the_stored_file_name_is_one_the_grammar_accepts(value: str, expected: str) -> None:
    """What an upload's name is stored as (``safe_filename``) always passes the file-name rule."""
    cleaned = safe_filename(value)
    assert cleaned == expected
    assert ids.file_name_problem(cleaned) is None


@pytest.mark.parametrize(
    "value,ok",
    [
        ("SE0021150208", True),  # the demo bond
        ("US0378331005", True),  # Apple, ISO 6166's own example
        ("XS0000000009", True),
        ("SE0000000002", True),
        ("SE0021150209", False),  # wrong check digit
        ("SE0000000001", False),
        ("se0021150208", False),
        ("SE002115020", False),
        ("SE00211502088", False),
        ("1E0021150208", False),
        ("SE002115020X", False),  # the check digit is a digit
        ("SE0021150208\n", False),
        *((h, False) for h in HOSTILE),
    ],
)
def test_isin_grammar_and_check_digit(value: str, ok: bool) -> None:
    problem = ids.isin_problem(value, "isin")
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "isin")


def test_isin_check_digit_expands_letters() -> None:
    # US 037833100 → 3028 037833100 → check digit 5
    assert ids.isin_check_digit("US037833100") == 5
    assert ids.isin_check_digit("SE002115020") == 8


@pytest.mark.parametrize(
    "value,ok",
    [
        ("212000-1355", True),
        ("556000-0001", True),
        ("2120001355", False),  # valid number, but not as it is stored
        ("212000-1356", False),
        ("19121212-1212", False),
        ("<b>", False),
    ],
)
def test_orgnr_as_stored(value: str, ok: bool) -> None:
    problem = ids.orgnr_problem(value, "borrower_orgnr")
    assert (problem is None) is ok
    if problem is not None:
        _messages_name(problem, "borrower_orgnr")


def test_limits_name_the_field_and_the_limit() -> None:
    assert ids.too_long("title", "x" * ids.NAME_MAX, ids.NAME_MAX) is None
    long = ids.too_long("title", "x" * (ids.NAME_MAX + 1), ids.NAME_MAX)
    assert long is not None
    _messages_name(long, "title")
    assert "200" in long.message_sv and "200" in long.message_en
    assert ids.too_many("goals", ids.MAX_GOALS, ids.MAX_GOALS) is None
    many = ids.too_many("goals", ids.MAX_GOALS + 1, ids.MAX_GOALS)
    assert many is not None
    _messages_name(many, "goals")
    assert "20" in many.message_en and "21" in many.message_en


@pytest.mark.parametrize(
    "body,depth",
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[[[["}', 1),  # brackets inside a string do not count
        (b'{"a": "\\"[[[["}', 1),  # nor after an escaped quote
        (b"[" * 10 + b"]" * 10, 10),
        (b"1", 0),
    ],
)
def test_raw_json_depth(body: bytes, depth: int) -> None:
    assert ids.raw_json_depth(body) == depth


def test_a_deep_body_is_measured_only_up_to_the_limit() -> None:
    body = b"[" * 1_000_000
    assert ids.raw_json_depth(body) == ids.MAX_JSON_DEPTH + 1
    problem = ids.too_deep(ids.raw_json_depth(body))
    assert problem is not None and "20" in problem.message_en and "20" in problem.message_sv
    assert ids.too_deep(ids.MAX_JSON_DEPTH) is None
    assert ids.json_depth([[[]]]) == 3
    nested: list[object] = []
    for _ in range(1000):
        nested = [nested]
    assert ids.json_depth(nested) == ids.MAX_JSON_DEPTH + 1


def test_kolada_year_span_is_at_most_25_years() -> None:
    assert len(parse_years("2001-2025", current_year=2026)) == ids.MAX_KOLADA_YEARS
    with pytest.raises(YearSpanError) as caught:
        parse_years("2000-2025", current_year=2026)
    problem = caught.value.problem
    _messages_name(problem, "years")
    assert "26" in problem.message_en and "25" in problem.message_en
    with pytest.raises(YearSpanError):
        parse_years("0001-9999", current_year=2026)


def test_row_ids_are_bounded_by_a_signed_64_bit_integer() -> None:
    assert ids.row_id_in_range(1) and ids.row_id_in_range(2**63 - 1)
    assert not ids.row_id_in_range(0) and not ids.row_id_in_range(2**63)


@pytest.mark.parametrize(
    "code,ok",
    [("dwellings_renovated_2", True), ("a" * 64, True), ("a" * 65, False), ("x", False)],
)
def test_the_library_checker_uses_the_code_grammar(code: str, ok: bool) -> None:
    import tomllib

    from lanportfolj.library import default_library_dir, parse_indicator

    path = default_library_dir() / "employment.toml"
    raw = dict(tomllib.loads(path.read_text(encoding="utf-8"))["indicator"][0])
    raw["code"] = code
    definition, problems = parse_indicator(raw, file=path.name)
    assert (definition is not None) is ok
    if not ok:
        assert [(p.rule, p.field) for p in problems] == [("bad-code", "code")]
        assert "2–64" in problems[0].message_sv and "2–64" in problems[0].message


@pytest.mark.parametrize("value", ["11.1", "1.a", "17.19", "3", "16.2", "5.c"])
def test_sdg_targets_as_the_un_numbers_them_are_accepted(value: str) -> None:
    assert ids.sdg_target_problem(value) is None


@pytest.mark.parametrize(
    "value", ["18.1", "0.1", "11.", "11.01", "1.A", "11.1.1", "<b>11.1</b>", "", "x" * 10_000]
)
def test_anything_else_is_not_an_sdg_target_and_the_message_says_so(value: str) -> None:
    problem = ids.sdg_target_problem(value)
    assert problem is not None and problem.field == "sdgs"
    assert "FN:s globala mål" in problem.message_sv and "Sustainable Development Goals" in (
        problem.message_en
    )
    assert len(problem.message_en) < 300  # a huge value is quoted cut short
