"""The indicator library: the shipped files load cleanly, and the checker names every broken rule."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES
from lanportfolj.library import (
    RULES,
    IndicatorDef,
    LibraryError,
    check_library,
    check_references,
    default_library_dir,
    indicator_to_dict,
    load_library,
    parse_indicator,
)

pytestmark = pytest.mark.unit

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "library_bad"


@pytest.fixture(scope="module")
def library() -> dict[str, IndicatorDef]:
    return load_library()


def _valid_raw(**over: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "code": "homework_club_pupils",
        "name_sv": "Elever i läxhjälpen",
        "name_en": "Pupils in the homework club",
        "unit": "count",
        "kind": "output",
        "direction": "increase",
        "aggregation": "sum",
        "programme_categories": ["health_education"],
        "icma_category": "socioeconomic_advancement",
        "sdg_targets": ["4.1"],
        "definition_sv": "Antal unika elever som deltog minst fem gånger under läsåret.",
        "definition_en": "Number of unique pupils who attended at least five times in the year.",
        "data_source": "Läxhjälpens närvarolistor",
        "aggregation_reason_sv": "Ett flöde under läsåret.",
        "aggregation_reason_en": "A flow in the school year.",
    }
    raw.update(over)
    return raw


# --- The shipped library --------------------------------------------------------------------------


def test_shipped_library_has_no_issues() -> None:
    issues = check_library(default_library_dir())
    assert [issue.text("en") for issue in issues] == []


def test_shipped_library_is_large_enough_and_covers_the_categories(
    library: dict[str, IndicatorDef],
) -> None:
    assert len(library) >= 36
    programme = {p for ind in library.values() for p in ind.programme_categories}
    assert programme == set(PROGRAMME_CATEGORIES)
    icma = {ind.icma_category for ind in library.values()}
    assert icma <= set(ICMA_CATEGORIES)
    assert len(icma) >= 5
    assert {ind.kind for ind in library.values()} == {"output", "outcome"}
    assert {ind.aggregation for ind in library.values()} == {"sum", "latest", "ratio", "none"}


def test_shipped_library_is_split_into_theme_files(library: dict[str, IndicatorDef]) -> None:
    files = {ind.source_file for ind in library.values()}
    assert {"housing.toml", "safety.toml", "health_education.toml"} <= files
    assert (default_library_dir() / "SCHEMA.md").is_file()


@pytest.mark.parametrize(
    ("code", "aggregation", "kind"),
    [
        # Botkyrkabyggen: renovation of Alby, Fittja, Norsborg, followed on safety, rents, schools.
        ("dwellings_renovated", "sum", "output"),
        ("perceived_safety_share", "ratio", "outcome"),
        ("resident_wellbeing_index", "none", "outcome"),
        ("tenants_staying_after_renovation_share", "ratio", "outcome"),
        ("average_rent_sek_per_sqm", "none", "outcome"),
        ("school_eligibility_upper_secondary_share", "ratio", "outcome"),
        ("grade9_merit_value", "none", "outcome"),
        ("real_property_taxable_value", "none", "outcome"),
        ("reported_crimes", "sum", "outcome"),
        ("safety_walks_held", "sum", "output"),
        ("safety_certified_areas", "latest", "output"),
        ("crime_prevention_partnership_meetings", "sum", "output"),
        ("gender_equality_activities_held", "sum", "output"),
        # Vara family centre: home visits to new parents and families with infants 0–6 months.
        ("home_visits_new_parents", "sum", "output"),
        ("families_infants_0_6m_reached", "sum", "output"),
        ("families_infants_0_6m_reached_share", "ratio", "output"),
        ("parent_groups_held", "sum", "output"),
        ("parent_group_participants", "sum", "output"),
    ],
)
def test_the_two_real_cases_find_their_indicators(
    library: dict[str, IndicatorDef], code: str, aggregation: str, kind: str
) -> None:
    ind = library[code]
    assert (ind.aggregation, ind.kind) == (aggregation, kind)


def test_botkyrkabyggen_details(library: dict[str, IndicatorDef]) -> None:
    safety = library["perceived_safety_share"]
    assert (safety.numerator, safety.denominator) == (
        "residents_feeling_safe",
        "residents_surveyed",
    )
    assert (safety.unit, safety.min_value, safety.max_value) == ("percent", 0, 100)
    assert library["average_rent_sek_per_sqm"].direction == "decrease"
    assert library["average_rent_sek_per_sqm"].unit == "SEK/m2"
    assert library["real_property_taxable_value"].unit == "SEK"
    assert library["resident_wellbeing_index"].unit == "index"
    assert library["dwellings_renovated"].integer is True


def test_vara_share_is_built_from_its_counts(library: dict[str, IndicatorDef]) -> None:
    share = library["families_infants_0_6m_reached_share"]
    assert share.numerator == "families_infants_0_6m_reached"
    assert share.denominator == "families_infants_0_6m_total"


@pytest.mark.parametrize(
    ("kpi", "code"),
    [
        ("N15428", "school_eligibility_upper_secondary_share"),
        ("N15507", "grade9_merit_value"),
        ("N15643", "year8_pupils_feeling_safe_share"),
        ("N00610", "safe_outdoors_after_dark_municipal_share"),
        ("N07609", "perceived_safety_share"),
        ("N07633", "crime_exposure_share"),
        ("N31807", "economic_assistance_share"),
        ("N03937", "openly_unemployed_share"),
        ("N02797", "neet_youth_share"),
        ("N07907", "overcrowding_share"),
        ("N01951", "population"),
    ],
)
def test_kolada_ids_are_mapped(library: dict[str, IndicatorDef], kpi: str, code: str) -> None:
    kolada = library[code].kolada
    assert kolada is not None
    assert (kolada.kpi, kolada.gender, kolada.level) == (kpi, "T", "municipality")


def test_every_ratio_is_pooled_from_counts_in_the_library(
    library: dict[str, IndicatorDef],
) -> None:
    ratios = [ind for ind in library.values() if ind.aggregation == "ratio"]
    assert len(ratios) >= 5
    for ratio in ratios:
        for part_code in (ratio.numerator, ratio.denominator):
            assert part_code is not None
            part = library[part_code]
            assert part.aggregation in ("sum", "latest"), ratio.code
            assert part.kind == ratio.kind, ratio.code
            assert part.additive, ratio.code
        assert ratio.ratio_scale in (Decimal(100), Decimal(1000))


def test_no_percentage_or_average_is_ever_summed(library: dict[str, IndicatorDef]) -> None:
    for ind in library.values():
        if ind.aggregation == "sum":
            assert ind.unit in ("count", "SEK", "m2", "hours"), ind.code
        if ind.unit == "percent":
            assert ind.aggregation in ("ratio", "none"), ind.code


def test_both_languages_are_filled_in(library: dict[str, IndicatorDef]) -> None:
    for ind in library.values():
        assert ind.name("sv") and ind.name("en") and ind.name("sv") != ind.code
        assert ind.definition("sv") != ind.definition("en")


# --- The checker: one broken folder per rule --------------------------------------------------------

CASES = [
    # (folder, rule, file, code, field)
    ("toml_unreadable", "toml-unreadable", "x.toml", None, None),
    ("not_utf8", "toml-unreadable", "x.toml", None, None),
    ("file_structure", "file-structure", "x.toml", None, "indicator"),
    ("no_indicators", "file-structure", "x.toml", None, None),
    ("unknown_top_level", "unknown-field", "x.toml", None, "title"),
    ("unknown_field", "unknown-field", "x.toml", "people_reached", "agregation"),
    ("missing_field", "missing-field", "x.toml", "people_reached", "data_source"),
    ("wrong_type", "wrong-type", "x.toml", "people_reached", "min_value"),
    ("empty_text", "empty-text", "x.toml", "people_reached", "name_en"),
    ("bad_code", "bad-code", "x.toml", "PeopleReached", "code"),
    ("duplicate_code", "duplicate-code", "x.toml", "people_reached", "code"),
    ("bad_kind", "bad-kind", "x.toml", "people_reached", "kind"),
    ("bad_direction", "bad-direction", "x.toml", "people_reached", "direction"),
    ("bad_aggregation", "bad-aggregation", "x.toml", "people_reached", "aggregation"),
    ("unknown_unit", "unknown-unit", "x.toml", "people_reached", "unit"),
    ("ratio_unit", "ratio-unit", "x.toml", "reached_share", "unit"),
    ("sum_not_additive", "sum-not-additive", "x.toml", "reached_share", "aggregation"),
    ("latest_not_additive", "latest-not-additive", "x.toml", "average_rent", "aggregation"),
    ("context_not_poolable", "context-not-poolable", "x.toml", "wellbeing_index", "context"),
    ("missing_reason", "missing-field", "x.toml", "people_reached", "aggregation_reason_en"),
    ("ratio_missing_part", "ratio-missing-part", "x.toml", "reached_share", "denominator"),
    ("part_on_non_ratio", "part-on-non-ratio", "x.toml", "people_left", "denominator"),
    ("part_unknown", "part-unknown", "x.toml", "reached_share", "numerator"),
    ("part_is_ratio", "part-is-ratio", "x.toml", "share_of_share", "denominator"),
    ("part_not_poolable", "part-not-poolable", "x.toml", "reached_share", "numerator"),
    ("part_kind_mismatch", "part-kind-mismatch", "x.toml", "reached_share", "numerator"),
    ("part_unit_mismatch", "part-unit-mismatch", "x.toml", "reached_share", "denominator"),
    ("min_above_max", "min-above-max", "x.toml", "people_reached", "min_value"),
    ("percent_range", "percent-range", "x.toml", "reached_share", "max_value"),
    ("negative_count", "negative-count", "x.toml", "people_reached", "min_value"),
    ("count_not_integer", "count-not-integer", "x.toml", "people_reached", "integer"),
    ("no_programme_category", "no-programme-category", "x.toml", "people_reached",
     "programme_categories"),
    ("bad_programme_category", "bad-programme-category", "x.toml", "people_reached",
     "programme_categories"),
    ("bad_icma_category", "bad-icma-category", "x.toml", "people_reached", "icma_category"),
    ("icma_programme_mismatch", "icma-programme-mismatch", "x.toml", "people_reached",
     "icma_category"),
    ("bad_sdg_target", "bad-sdg-target", "x.toml", "people_reached", "sdg_targets"),
    ("bad_kolada_kpi", "bad-kolada-kpi", "x.toml", "people_reached", "kolada.kpi"),
    ("bad_kolada_gender", "bad-kolada-gender", "x.toml", "people_reached", "kolada.gender"),
    ("bad_kolada_level", "bad-kolada-level", "x.toml", "people_reached", "kolada.level"),
    ("bad_iris_code", "bad-iris-code", "x.toml", "people_reached", "iris_code"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("folder", "rule", "file", "code", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_folder_reports_exactly_its_problem(
    folder: str, rule: str, file: str, code: str | None, field: str | None
) -> None:
    issues = check_library(BAD / folder)
    assert [(i.rule, i.file, i.code, i.field) for i in issues] == [(rule, file, code, field)]
    issue = issues[0]
    assert issue.message and issue.message_sv and issue.message != issue.message_sv
    with pytest.raises(LibraryError) as raised:
        load_library(BAD / folder)
    assert raised.value.issues == issues


def test_every_rule_with_a_fixture_folder_is_a_documented_rule() -> None:
    folders = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert folders == {c[0] for c in CASES}
    assert {c[1] for c in CASES} <= set(RULES)
    schema = (default_library_dir() / "SCHEMA.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule}`" in schema, rule


def test_unreadable_toml_reports_its_line() -> None:
    (issue,) = check_library(BAD / "toml_unreadable")
    assert issue.line == 4
    assert issue.text("en").startswith("x.toml:4: ")


def test_duplicate_code_names_both_files() -> None:
    (issue,) = check_library(BAD / "duplicate_code")
    assert "a.toml" in issue.message and "a.toml" in issue.message_sv
    assert issue.line == 21  # the second definition, in x.toml


def test_entry_issues_point_to_the_line_of_the_code() -> None:
    (issue,) = check_library(BAD / "part_is_ratio")
    text = (BAD / "part_is_ratio" / "x.toml").read_text(encoding="utf-8").splitlines()
    assert issue.line is not None
    assert text[issue.line - 1] == 'code = "share_of_share"'


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    for folder in ("bad_kind", "file_structure", "toml_unreadable"):
        source = BAD / folder / "x.toml"
        (tmp_path / f"{folder}.toml").write_bytes(source.read_bytes())
    issues = check_library(tmp_path)
    assert [(i.file, i.rule) for i in issues] == [
        ("bad_kind.toml", "bad-kind"),
        ("file_structure.toml", "file-structure"),
        ("toml_unreadable.toml", "toml-unreadable"),
    ]


def test_one_entry_with_several_problems_reports_each() -> None:
    raw = _valid_raw(kind="impact", unit="percent", min_value=-5, sdg_targets=["4"])
    _, issues = parse_indicator(raw, file="own.toml")
    assert {(i.rule, i.field) for i in issues} == {
        ("bad-kind", "kind"),
        ("sum-not-additive", "aggregation"),
        ("percent-range", "min_value"),
        ("bad-sdg-target", "sdg_targets"),
    }


def test_a_part_that_is_itself_broken_is_not_also_called_unknown(tmp_path: Path) -> None:
    text = (BAD / "part_kind_mismatch" / "x.toml").read_text(encoding="utf-8")
    (tmp_path / "x.toml").write_text(text.replace('kind = "outcome"', 'kind = "impact"'), "utf-8")
    issues = check_library(tmp_path)
    assert [(i.rule, i.code) for i in issues] == [("bad-kind", "people_reached")]


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    assert [i.rule for i in check_library(tmp_path / "nowhere")] == ["no-directory"]
    assert [i.rule for i in check_library(tmp_path)] == ["no-files"]
    with pytest.raises(LibraryError, match=r"No \.toml files"):
        load_library(tmp_path)


# --- parse_indicator, for a loan's own indicators ----------------------------------------------------


def test_parse_indicator_fills_the_units_natural_bounds() -> None:
    ind, issues = parse_indicator(_valid_raw(), file="portfolio.toml")
    assert issues == []
    assert ind is not None
    assert (ind.min_value, ind.max_value, ind.integer) == (Decimal(0), None, True)
    assert ind.source_file == "portfolio.toml"
    assert ind.additive and ind.ratio_scale is None

    share, _ = parse_indicator(
        _valid_raw(code="homework_share", unit="percent", aggregation="none"), file="p.toml"
    )
    assert share is not None
    assert (share.min_value, share.max_value, share.integer) == (0, 100, False)
    assert not share.additive


def test_parse_indicator_keeps_decimals_exact() -> None:
    ind, _ = parse_indicator(
        _valid_raw(unit="SEK", min_value=0.1, max_value=1000000.5), file="p.toml"
    )
    assert ind is not None
    assert ind.min_value == Decimal("0.1")
    assert ind.max_value == Decimal("1000000.5")


def test_parse_indicator_rejects_booleans_as_numbers() -> None:
    _, issues = parse_indicator(_valid_raw(max_value=True), file="p.toml")
    assert [(i.rule, i.field) for i in issues] == [("wrong-type", "max_value")]


def test_check_references_lets_a_loans_ratio_use_library_counts(
    library: dict[str, IndicatorDef],
) -> None:
    own, _ = parse_indicator(
        _valid_raw(
            code="safe_in_stairwell_share",
            unit="percent",
            kind="outcome",
            aggregation="ratio",
            numerator="residents_feeling_safe",
            denominator="residents_surveyed",
            programme_categories=["safety"],
        ),
        file="portfolio.toml",
    )
    assert own is not None
    assert check_references([own], library) == []
    assert [i.rule for i in check_references([own], {})] == ["part-unknown", "part-unknown"]


def test_issue_text_in_both_languages() -> None:
    (issue,) = check_library(BAD / "bad_kind")
    assert issue.text("en") == (
        "x.toml:4 [people_reached] kind: Kind 'impact' is unknown; allowed: output, outcome."
    )
    assert issue.text("sv") == (
        "x.toml:4 [people_reached] kind: Typen 'impact' är okänd; tillåtna: output, outcome."
    )


# --- Output for `library list --json` --------------------------------------------------------------


def test_indicator_to_dict_is_json_and_exact(library: dict[str, IndicatorDef]) -> None:
    data = json.loads(json.dumps(indicator_to_dict(library["grade9_merit_value"])))
    assert data["min_value"] == "0" and data["max_value"] == "340"
    assert data["kolada"] == {"kpi": "N15507", "gender": "T", "level": "municipality"}
    assert data["programme_categories"] == ["health_education"]
    assert data["numerator"] is None
    ratio = indicator_to_dict(library["perceived_safety_share"])
    assert (ratio["numerator"], ratio["denominator"]) == (
        "residents_feeling_safe",
        "residents_surveyed",
    )


def test_names_follow_the_language(library: dict[str, IndicatorDef]) -> None:
    ind = library["dwellings_renovated"]
    assert ind.name("sv") == "Renoverade lägenheter"
    assert ind.name("en") == "Dwellings renovated"
    assert ind.unit_label("sv") == "antal"


# --- indicator kinds: justification, context, scales (issue 16 item 1) -----------------------------


def test_every_shipped_indicator_says_why_it_combines_as_it_does(
    library: dict[str, IndicatorDef],
) -> None:
    for ind in library.values():
        assert ind.aggregation_reason_sv and ind.aggregation_reason_en, ind.code
        assert ind.aggregation_reason_sv != ind.aggregation_reason_en, ind.code


def test_averages_prices_and_valuations_are_shown_per_project_only(
    library: dict[str, IndicatorDef],
) -> None:
    for code in (
        "average_rent_sek_per_sqm",
        "grade9_merit_value",
        "elderly_care_waiting_days",
        "real_property_taxable_value",
    ):
        assert library[code].aggregation == "none", code
        assert not library[code].attributable, code
    # no summed or latest indicator of the library is in a unit that cannot be added
    for ind in library.values():
        if ind.aggregation in ("sum", "latest"):
            assert ind.additive, ind.code


def test_population_denominators_are_context_pooled_but_never_attributed(
    library: dict[str, IndicatorDef],
) -> None:
    children = library["children_0_17"]
    assert children.context and children.additive and not children.attributable
    assert library["residents_surveyed"].context
    placements = library["out_of_home_placements_per_1000_children"]
    assert (placements.denominator, placements.ratio_scale) == ("children_0_17", Decimal(1000))
    # the checker still lets a context count be a ratio's part
    assert check_references([placements], library) == []
    assert library["dwellings_renovated"].attributable


def test_a_loans_own_indicator_may_leave_out_the_justification() -> None:
    raw = _valid_raw()
    del raw["aggregation_reason_sv"], raw["aggregation_reason_en"]
    own, issues = parse_indicator(raw, file="portfolio.toml", own=True)
    assert issues == [] and own is not None and own.aggregation_reason_en == ""
    _, issues = parse_indicator(raw, file="library.toml")
    assert {i.field for i in issues} == {"aggregation_reason_sv", "aggregation_reason_en"}


def test_a_per_100000_ratio_has_its_scale_and_context_must_be_a_boolean() -> None:
    ind, issues = parse_indicator(
        _valid_raw(
            code="assaults_per_100000",
            unit="per_100000",
            kind="outcome",
            aggregation="ratio",
            numerator="a",
            denominator="b",
        ),
        file="x.toml",
    )
    assert issues == [] and ind is not None and ind.ratio_scale == Decimal(100000)
    _, issues = parse_indicator(_valid_raw(context="yes"), file="x.toml")
    assert [(i.rule, i.field) for i in issues] == [("wrong-type", "context")]


def test_latest_average_is_refused_naming_file_and_indicator() -> None:
    (issue,) = check_library(BAD / "latest_not_additive")
    text = issue.text("en")
    assert text.startswith("x.toml:") and "[average_rent]" in text and "SEK/m2" in text
    assert 'aggregation = "none"' in issue.message_sv
