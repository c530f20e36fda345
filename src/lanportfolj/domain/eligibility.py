"""The eligibility check for the discount: one pure function per criterion (E1–E12) over a Case.

Thresholds and every text a borrower reads live in a versioned rule-set file
(``lanportfolj/rules/eligibility-<version>.toml``), so a rule change is a data change. Each criterion
answers ``pass``, ``fail`` or ``needs_judgement`` with a reason that says what to add or fix, and the
names of the case fields concerned. E9–E11 need a person's judgement; E12 is advice and never blocks.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lanportfolj.domain.case import Case, GoalCase, IndicatorUse
from lanportfolj.domain.categories import (
    ICMA_CATEGORIES,
    PROGRAMME_CATEGORIES,
    PROGRAMME_TO_ICMA,
    label,
)
from lanportfolj.domain.identifiers import shown

PASS = "pass"
FAIL = "fail"
NEEDS_JUDGEMENT = "needs_judgement"

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"

LANGUAGES = ("sv", "en")
CRITERIA = tuple(f"E{n}" for n in range(1, 13))
JUDGEMENT_CRITERIA = ("E9", "E10", "E11")
ADVISORY_CRITERIA = ("E12",)

#: Every text the engine uses, by key; a rule-set file lacking one (in either language) is refused.
REQUIRED_TEXTS: dict[str, tuple[str, ...]] = {
    "terms": ("unit", "data_source", "baseline_value", "baseline_year"),
    "common": ("application_date_missing", "maturity_date_missing"),
    "E1": (
        "pass_member",
        "pass_owner_member",
        "not_member",
        "owner_not_member",
        "owner_unknown",
        "kind_missing",
        "kind_unknown",
        "name_missing",
    ),
    "E2": (
        "pass_physical",
        "pass_linked",
        "running_costs",
        "type_missing",
        "type_unknown",
        "physical_missing",
        "social_missing",
    ),
    "E3": (
        "pass",
        "programme_missing",
        "programme_unknown",
        "icma_missing",
        "icma_unknown",
        "icma_not_allowed",
    ),
    "E4": ("pass", "missing", "too_short"),
    "E5": ("pass", "who_missing", "where_missing", "attributes_missing"),
    "E6": (
        "pass",
        "no_goals",
        "goal_no_text",
        "goal_no_indicator",
        "goal_unknown_indicator",
        "goal_no_target_value",
        "goal_no_target_year",
        "goal_year_before_application",
        "goal_year_after_maturity",
    ),
    "E7": (
        "pass",
        "no_indicators",
        "no_output",
        "no_outcome",
        "kind_unknown",
        "indicator_incomplete",
        "baseline_after_application",
    ),
    "E8": ("pass", "too_short", "end_missing", "end_before_start"),
    "E9": ("needs_judgement", "missing", "too_short", "judged_pass", "judged_fail"),
    "E10": ("needs_judgement", "missing", "too_short", "judged_pass", "judged_fail"),
    "E11": ("needs_judgement", "missing", "too_short", "judged_pass", "judged_fail"),
    "E12": (
        "pass",
        "no_evaluation_plan",
        "no_comparison_group",
        "power_note",
        "power_weak",
        "power_none",
        "power_unknown",
        "power_invalid",
    ),
}

#: Text fields with a minimum length in ``thresholds.min_chars``.
TEXT_FIELDS = (
    "social_need",
    "target_group_who",
    "target_group_where",
    "target_group_attributes",
    "physical_investment",
    "social_intervention",
    "intervention_logic",
    "systematic_work_ref",
    "developed_practice",
    "evaluation_plan",
    "comparison_group",
)
REQUIRED_THRESHOLDS = (
    "min_long_term_years",
    "max_baseline_year_offset",
    "power_alpha",
    "power_target",
    "min_chars",
)

_RULE_FILE = re.compile(r"^eligibility-(\d+(?:\.\d+)*)\.toml$")
_SPACES = re.compile(r"\s+")


class RuleSetError(ValueError):
    """A rule-set file the engine cannot use (missing text, threshold or version mismatch)."""

    def __init__(self, message_sv: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_sv = message_sv
        self.message_en = message_en


class JudgementError(ValueError):
    """A judgement that cannot be recorded as given."""

    def __init__(self, message_sv: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_sv = message_sv
        self.message_en = message_en


#: A value for a placeholder: the same in both languages, or one per language (``{"sv", "en"}``).
Param = str | int | Mapping[str, str]


@dataclass(frozen=True)
class RuleSet:
    """One version of the eligibility rules: thresholds and the texts of every title and reason."""

    version: str
    thresholds: Mapping[str, Any]
    #: ``"E6.goal_no_target_year"`` → ``{"sv": …, "en": …}``; titles are ``"E6.title"``, nouns
    #: ``"terms.unit"``, shared reasons ``"common.…"``.
    texts: Mapping[str, Mapping[str, str]]
    #: Where the rules came from (file path), for the record.
    source: str

    def text(self, key: str, lang: str, **params: Param) -> str:
        """The text ``key`` in ``lang`` with its ``{placeholders}`` filled in."""
        template = self.texts[key][lang]
        values = {
            name: (value[lang] if isinstance(value, Mapping) else value)
            for name, value in params.items()
        }
        return template.format_map(values)

    def title(self, criterion_id: str, lang: str = "en") -> str:
        """The criterion's title in ``lang``."""
        return self.texts[f"{criterion_id}.title"][lang]

    def min_chars(self, field_name: str) -> int:
        """Minimum substantive length of a text field, in characters."""
        return int(self.thresholds["min_chars"][field_name])


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _flatten_texts(data: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    texts: dict[str, Mapping[str, str]] = {}
    for key, value in data.get("terms", {}).items():
        texts[f"terms.{key}"] = value
    for key, value in data.get("common", {}).get("reasons", {}).items():
        texts[f"common.{key}"] = value
    for criterion_id, criterion in data.get("criteria", {}).items():
        if "title" in criterion:
            texts[f"{criterion_id}.title"] = criterion["title"]
        for key, value in criterion.get("reasons", {}).items():
            texts[f"{criterion_id}.{key}"] = value
    return texts


def _check_texts(texts: Mapping[str, Any], source: str) -> None:
    needed = [f"{group}.{key}" for group, keys in REQUIRED_TEXTS.items() for key in keys]
    needed += [f"{criterion_id}.title" for criterion_id in CRITERIA]
    problems: list[tuple[str, str]] = []
    for key in needed:
        entry = texts.get(key)
        if not isinstance(entry, Mapping):
            problems.append((f"{key} saknas", f"{key} is missing"))
            continue
        for lang in LANGUAGES:
            if not isinstance(entry.get(lang), str) or not entry[lang].strip():
                problems.append((f"{key} saknar text på {lang}", f"{key} has no {lang} text"))
        sv, en = entry.get("sv"), entry.get("en")
        if isinstance(sv, str) and isinstance(en, str) and _placeholders(sv) != _placeholders(en):
            problems.append(
                (
                    f"{key} har olika platshållare på sv och en",
                    f"{key} uses different placeholders in sv and en",
                )
            )
    if problems:
        raise RuleSetError(
            f"Regeluppsättningen {source} kan inte användas: "
            + "; ".join(sv for sv, _ in problems),
            f"The rule set {source} cannot be used: " + "; ".join(en for _, en in problems),
        )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def available_rule_sets() -> dict[str, Path]:
    """The rule-set files shipped in ``lanportfolj/rules/``, by version, oldest first."""
    folder = Path(str(resources.files("lanportfolj").joinpath("rules")))
    found = {}
    for path in folder.iterdir():
        match = _RULE_FILE.match(path.name)
        if match:
            found[match.group(1)] = path
    return dict(sorted(found.items(), key=lambda item: _version_key(item[0])))


def load_rule_set(path: Path | None = None) -> RuleSet:
    """Read and check a rule-set file; by default the newest one in ``lanportfolj/rules/``.

    Raises :class:`RuleSetError` when a text lacks a language, the languages' placeholders differ,
    a threshold is missing, or the file name's version differs from the ``version`` inside.
    """
    if path is None:
        shipped = available_rule_sets()
        if not shipped:
            raise RuleSetError("Ingen regeluppsättning hittades.", "No rule set was found.")
        path = list(shipped.values())[-1]
    source = str(path)
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)

    version = str(data.get("version", ""))
    match = _RULE_FILE.match(Path(path).name)
    if not version or (match and match.group(1) != version):
        raise RuleSetError(
            f"Regeluppsättningen {source} har versionen '{version}', som inte stämmer med filnamnet.",
            f"The rule set {source} has version '{version}', which does not match its file name.",
        )
    thresholds = data.get("thresholds", {})
    missing = [name for name in REQUIRED_THRESHOLDS if name not in thresholds]
    missing += [
        f"min_chars.{name}" for name in TEXT_FIELDS if name not in thresholds.get("min_chars", {})
    ]
    if missing:
        raise RuleSetError(
            f"Regeluppsättningen {source} saknar gränsvärdena: {', '.join(missing)}.",
            f"The rule set {source} lacks the thresholds: {', '.join(missing)}.",
        )
    texts = _flatten_texts(data)
    _check_texts(texts, source)
    return RuleSet(
        version=version,
        thresholds=MappingProxyType(dict(thresholds)),
        texts=MappingProxyType(
            {key: MappingProxyType(dict(value)) for key, value in texts.items()}
        ),
        source=source,
    )


@dataclass(frozen=True)
class CriterionResult:
    """The outcome of one criterion, with a reason in both languages a borrower can act on."""

    id: str
    result: str  # "pass" | "fail" | "needs_judgement"
    reason_sv: str
    reason_en: str
    #: Case field names the borrower should fix (empty when nothing needs fixing).
    fields: tuple[str, ...] = ()
    advisory: bool = False
    judged_by: str | None = None
    rationale: str | None = None
    title_sv: str = ""
    title_en: str = ""

    def reason(self, lang: str) -> str:
        """The reason in ``lang`` (``sv`` or ``en``)."""
        return self.reason_sv if lang == "sv" else self.reason_en

    def title(self, lang: str) -> str:
        """The criterion's title in ``lang``."""
        return self.title_sv if lang == "sv" else self.title_en


@dataclass(frozen=True)
class Judgement:
    """A person's decision on a criterion that needs judgement (E9–E11), with who and why."""

    criterion_id: str
    result: str  # "pass" | "fail"
    rationale: str
    by: str
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.criterion_id not in JUDGEMENT_CRITERIA:
            raise JudgementError(
                f"{shown(self.criterion_id)} avgörs inte genom bedömning; bara "
                f"{', '.join(JUDGEMENT_CRITERIA)} gör det.",
                f"{shown(self.criterion_id)} is not decided by judgement; only "
                f"{', '.join(JUDGEMENT_CRITERIA)} are.",
            )
        if self.result not in (PASS, FAIL):
            raise JudgementError(
                f"En bedömning är 'pass' eller 'fail', inte '{shown(self.result)}'.",
                f"A judgement is 'pass' or 'fail', not '{shown(self.result)}'.",
            )
        if not self.rationale.strip():
            raise JudgementError(
                "Motivera bedömningen; den visas för låntagaren.",
                "Give the judgement's rationale; the borrower sees it.",
            )
        if not self.by.strip():
            raise JudgementError(
                "Ange vem som gjorde bedömningen.", "State who made the judgement."
            )


@dataclass(frozen=True)
class Assessment:
    """Every criterion's result and the overall verdict, under one rule-set version."""

    rule_set: str
    overall: str  # "eligible" | "not_eligible" | "needs_judgement"
    criteria: tuple[CriterionResult, ...]

    def criterion(self, criterion_id: str) -> CriterionResult:
        """The result for ``criterion_id`` (``"E6"``)."""
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise KeyError(criterion_id)

    @property
    def open_judgements(self) -> tuple[str, ...]:
        """Ids of the criteria still waiting for a person's judgement (E12 excluded)."""
        return tuple(c.id for c in self.criteria if c.result == NEEDS_JUDGEMENT and not c.advisory)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain data for JSON and storage: overall, rule set and each criterion in ``lang``."""
        return {
            "overall": self.overall,
            "rule_set": self.rule_set,
            "criteria": [
                {
                    "id": c.id,
                    "title": c.title(lang),
                    "result": c.result,
                    "reason": c.reason(lang),
                    "fields": list(c.fields),
                    "advisory": c.advisory,
                    "judged_by": c.judged_by,
                    "rationale": c.rationale,
                }
                for c in self.criteria
            ],
        }


# --- building results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reason:
    key: str
    params: Mapping[str, Param]


def _r(key: str, **params: Param) -> _Reason:
    return _Reason(key, params)


def _result(
    rules: RuleSet,
    criterion_id: str,
    result: str,
    reasons: list[_Reason],
    fields: tuple[str, ...] = (),
    **extra: Any,
) -> CriterionResult:
    """Join several reasons into one text per language, each a sentence the borrower can act on."""

    def render(lang: str) -> str:
        parts = []
        for reason in reasons:
            key = reason.key if "." in reason.key else f"{criterion_id}.{reason.key}"
            parts.append(rules.text(key, lang, **reason.params))
        return " ".join(parts)

    return CriterionResult(
        id=criterion_id,
        result=result,
        reason_sv=render("sv"),
        reason_en=render("en"),
        fields=tuple(dict.fromkeys(fields)),  # unique, in the order found
        title_sv=rules.title(criterion_id, "sv"),
        title_en=rules.title(criterion_id, "en"),
        **extra,
    )


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _substantive(case: Case, field_name: str, rules: RuleSet) -> bool:
    return len(_clean(getattr(case, field_name))) >= rules.min_chars(field_name)


def _labels(vocabulary: dict[str, dict[str, str]], keys: tuple[str, ...]) -> dict[str, str]:
    return {lang: ", ".join(label(vocabulary, key, lang) for key in keys) for lang in LANGUAGES}


def _localised(vocabulary: dict[str, dict[str, str]], key: str) -> dict[str, str]:
    return {lang: label(vocabulary, key, lang) for lang in LANGUAGES}


def _number(value: float, lang: str, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang == "sv" else text


def _plain_number(value: float, lang: str) -> str:
    """A number without needless trailing zeros (5, 2.5, 0.05), with the language's decimal mark."""
    text = format(Decimal(str(round(value, 4))).normalize(), "f")
    return text.replace(".", ",") if lang == "sv" else text


def _per_language(make: Callable[[str], str]) -> dict[str, str]:
    return {lang: make(lang) for lang in LANGUAGES}


def _application_year(case: Case) -> int | None:
    return case.application_date.year if case.application_date else None


def _maturity_year(case: Case) -> int | None:
    return case.maturity_date.year if case.maturity_date else None


# --- the criteria -------------------------------------------------------------------------------


def e1_borrower(case: Case, rules: RuleSet) -> CriterionResult:
    """E1: a member municipality or region, or a company whose owning municipality/region is one."""
    name = _clean(case.borrower_name)
    if not name:
        return _result(rules, "E1", FAIL, [_r("name_missing")], ("borrower_name",))
    kind = case.borrower_kind
    if kind in ("municipality", "region"):
        if case.borrower_member:
            return _result(rules, "E1", PASS, [_r("pass_member", name=name)])
        return _result(rules, "E1", FAIL, [_r("not_member", name=name)], ("borrower_member",))
    if kind in ("municipal_company", "regional_company"):
        if case.owner_member is None:
            return _result(rules, "E1", FAIL, [_r("owner_unknown", name=name)], ("owner_member",))
        if case.owner_member:
            return _result(rules, "E1", PASS, [_r("pass_owner_member", name=name)])
        return _result(rules, "E1", FAIL, [_r("owner_not_member", name=name)], ("owner_member",))
    if not _clean(kind):
        return _result(rules, "E1", FAIL, [_r("kind_missing")], ("borrower_kind",))
    return _result(rules, "E1", FAIL, [_r("kind_unknown", value=kind)], ("borrower_kind",))


def e2_investment(case: Case, rules: RuleSet) -> CriterionResult:
    """E2: a physical investment, or a social intervention tied to one; never running costs."""
    kind = _clean(case.investment_type)
    if kind == "running_costs":
        return _result(rules, "E2", FAIL, [_r("running_costs")], ("investment_type",))
    if not kind:
        return _result(rules, "E2", FAIL, [_r("type_missing")], ("investment_type",))
    if kind not in ("physical", "social_linked_to_physical"):
        return _result(rules, "E2", FAIL, [_r("type_unknown", value=kind)], ("investment_type",))
    missing: list[tuple[str, str]] = []
    # The physical investment is what the loan pays for, so it is described in both cases.
    if not _substantive(case, "physical_investment", rules):
        missing.append(("physical_missing", "physical_investment"))
    if kind == "social_linked_to_physical" and not _substantive(case, "social_intervention", rules):
        missing.append(("social_missing", "social_intervention"))
    if missing:
        return _result(
            rules, "E2", FAIL, [_r(key) for key, _ in missing], tuple(f for _, f in missing)
        )
    return _result(
        rules, "E2", PASS, [_r("pass_physical" if kind == "physical" else "pass_linked")]
    )


def e3_category(case: Case, rules: RuleSet) -> CriterionResult:
    """E3: one of the programme's categories, with an ICMA category allowed for it."""
    programmes = tuple(PROGRAMME_CATEGORIES)
    programme = _clean(case.programme_category)
    if not programme:
        return _result(
            rules,
            "E3",
            FAIL,
            [_r("programme_missing", allowed=_labels(PROGRAMME_CATEGORIES, programmes))],
            ("programme_category",),
        )
    if programme not in PROGRAMME_CATEGORIES:
        return _result(
            rules,
            "E3",
            FAIL,
            [
                _r(
                    "programme_unknown",
                    value=programme,
                    allowed=_labels(PROGRAMME_CATEGORIES, programmes),
                )
            ],
            ("programme_category",),
        )
    allowed = PROGRAMME_TO_ICMA.get(programme, ())
    programme_label = _localised(PROGRAMME_CATEGORIES, programme)
    allowed_labels = _labels(ICMA_CATEGORIES, allowed)
    icma = _clean(case.icma_category)
    if not icma:
        return _result(
            rules,
            "E3",
            FAIL,
            [_r("icma_missing", programme=programme_label, allowed=allowed_labels)],
            ("icma_category",),
        )
    if icma not in ICMA_CATEGORIES:
        return _result(
            rules,
            "E3",
            FAIL,
            [_r("icma_unknown", value=icma, allowed=allowed_labels)],
            ("icma_category",),
        )
    icma_label = _localised(ICMA_CATEGORIES, icma)
    if icma not in allowed:
        return _result(
            rules,
            "E3",
            FAIL,
            [
                _r(
                    "icma_not_allowed",
                    icma=icma_label,
                    programme=programme_label,
                    allowed=allowed_labels,
                )
            ],
            ("icma_category",),
        )
    return _result(rules, "E3", PASS, [_r("pass", programme=programme_label, icma=icma_label)])


def e4_social_need(case: Case, rules: RuleSet) -> CriterionResult:
    """E4: the social need is described, at least the rule set's minimum length."""
    text = _clean(case.social_need)
    minimum = rules.min_chars("social_need")
    if not text:
        return _result(rules, "E4", FAIL, [_r("missing")], ("social_need",))
    if len(text) < minimum:
        return _result(
            rules,
            "E4",
            FAIL,
            [_r("too_short", length=len(text), minimum=minimum)],
            ("social_need",),
        )
    return _result(rules, "E4", PASS, [_r("pass")])


def e5_target_group(case: Case, rules: RuleSet) -> CriterionResult:
    """E5: who, where and which attributes are all stated; the reason names each one missing."""
    parts = (
        ("target_group_who", "who_missing"),
        ("target_group_where", "where_missing"),
        ("target_group_attributes", "attributes_missing"),
    )
    missing = [(field, key) for field, key in parts if not _substantive(case, field, rules)]
    if missing:
        return _result(
            rules, "E5", FAIL, [_r(key) for _, key in missing], tuple(f for f, _ in missing)
        )
    return _result(rules, "E5", PASS, [_r("pass")])


def _goal_target_years(goal: GoalCase, used: list[IndicatorUse]) -> list[int]:
    """The goal's own target year, else its indicators' target years (each must be in the term)."""
    if goal.target_year is not None:
        return [goal.target_year]
    return sorted({ind.target_year for ind in used if ind.target_year is not None})


def e6_goals(case: Case, rules: RuleSet) -> CriterionResult:
    """E6: ≥ 1 goal; each measured by a loan indicator, with a numeric target and a target year.

    The target value and year are the goal's own, else its indicators'. Target years must fall
    within application year .. maturity year.
    """
    if not case.goals:
        return _result(rules, "E6", FAIL, [_r("no_goals")], ("goals",))
    by_code = {ind.code: ind for ind in case.indicators}
    application_year = _application_year(case)
    maturity_year = _maturity_year(case)
    reasons: list[_Reason] = []
    fields: list[str] = []
    if application_year is None:
        reasons.append(_r("common.application_date_missing"))
        fields.append("application_date")
    if maturity_year is None:
        reasons.append(_r("common.maturity_date_missing"))
        fields.append("maturity_date")

    for n, goal in enumerate(case.goals, start=1):
        problems: list[_Reason] = []
        if not _clean(goal.text):
            problems.append(_r("goal_no_text", n=n))
        codes = [code for code in goal.indicator_codes if _clean(code)]
        used = [by_code[code] for code in codes if code in by_code]
        if not codes:
            problems.append(_r("goal_no_indicator", n=n))
        for code in codes:
            if code not in by_code:
                problems.append(_r("goal_unknown_indicator", n=n, code=code))
                fields.append("indicators")
        has_value = goal.target_value is not None or any(
            ind.target_value is not None for ind in used
        )
        if not has_value:
            problems.append(_r("goal_no_target_value", n=n))
        years = _goal_target_years(goal, used)
        if not years:
            problems.append(_r("goal_no_target_year", n=n))
        for year in years:
            if application_year is not None and year < application_year:
                problems.append(
                    _r(
                        "goal_year_before_application",
                        n=n,
                        year=year,
                        application_year=application_year,
                    )
                )
            if maturity_year is not None and year > maturity_year:
                problems.append(
                    _r("goal_year_after_maturity", n=n, year=year, maturity_year=maturity_year)
                )
        if problems:
            reasons.extend(problems)
            fields.append("goals")

    if reasons:
        return _result(rules, "E6", FAIL, reasons, tuple(fields))
    return _result(rules, "E6", PASS, [_r("pass", count=len(case.goals))])


def e7_follow_up(case: Case, rules: RuleSet) -> CriterionResult:
    """E7: ≥ 1 output and ≥ 1 outcome indicator, each with unit, data source and a baseline.

    A baseline is a value and a year; the year may not be after the application year (plus the rule
    set's ``max_baseline_year_offset``). Every reason names the indicator concerned.
    """
    if not case.indicators:
        return _result(rules, "E7", FAIL, [_r("no_indicators")], ("indicators",))
    application_year = _application_year(case)
    offset = int(rules.thresholds["max_baseline_year_offset"])
    reasons: list[_Reason] = []
    fields: list[str] = []
    if application_year is None:
        reasons.append(_r("common.application_date_missing"))
        fields.append("application_date")
    kinds = {ind.kind for ind in case.indicators}
    if "output" not in kinds:
        reasons.append(_r("no_output"))
    if "outcome" not in kinds:
        reasons.append(_r("no_outcome"))

    for ind in case.indicators:
        # the indicator as the borrower knows it: by name in each language, the code when it has none
        code = _indicator_label(ind)
        if ind.kind not in ("output", "outcome"):
            reasons.append(_r("kind_unknown", code=code, kind=ind.kind))
        missing = [
            term
            for term, absent in (
                ("unit", not _clean(ind.unit)),
                ("data_source", not _clean(ind.data_source)),
                ("baseline_value", ind.baseline_value is None),
                ("baseline_year", ind.baseline_year is None),
            )
            if absent
        ]
        if missing:
            terms = {
                lang: ", ".join(rules.text(f"terms.{term}", lang) for term in missing)
                for lang in LANGUAGES
            }
            reasons.append(_r("indicator_incomplete", code=code, missing=terms))
        if (
            ind.baseline_year is not None
            and application_year is not None
            and ind.baseline_year > application_year + offset
        ):
            reasons.append(
                _r(
                    "baseline_after_application",
                    code=code,
                    year=ind.baseline_year,
                    application_year=application_year,
                    latest=application_year + offset,
                )
            )

    if len(reasons) > (1 if application_year is None else 0):
        fields.append("indicators")
    if reasons:
        return _result(rules, "E7", FAIL, reasons, tuple(fields))
    labels = {ind.code: _indicator_label(ind) for ind in case.indicators}
    outputs = {
        lang: ", ".join(labels[i.code][lang] for i in case.indicators if i.kind == "output")
        for lang in LANGUAGES
    }
    outcomes = {
        lang: ", ".join(labels[i.code][lang] for i in case.indicators if i.kind == "outcome")
        for lang in LANGUAGES
    }
    return _result(rules, "E7", PASS, [_r("pass", outputs=outputs, outcomes=outcomes)])


def _indicator_label(ind: IndicatorUse) -> dict[str, str]:
    code = ind.code or "?"
    return {"sv": ind.name_sv or code, "en": ind.name_en or code}


def e8_long_term(case: Case, rules: RuleSet) -> CriterionResult:
    """E8: intervention and follow-up span at least ``min_long_term_years`` calendar years.

    The span runs from the application year to ``follow_up_until_year`` (or the maturity year when
    that is absent), both counted: 2023–2027 is five years.
    """
    minimum = int(rules.thresholds["min_long_term_years"])
    start = _application_year(case)
    if start is None:
        return _result(
            rules, "E8", FAIL, [_r("common.application_date_missing")], ("application_date",)
        )
    end = case.follow_up_until_year or _maturity_year(case)
    if end is None:
        return _result(rules, "E8", FAIL, [_r("end_missing")], ("follow_up_until_year",))
    required_end = start + minimum - 1
    if end < start:
        return _result(
            rules,
            "E8",
            FAIL,
            [_r("end_before_start", start=start, end=end, required_end=required_end)],
            ("follow_up_until_year",),
        )
    years = end - start + 1
    if years < minimum:
        return _result(
            rules,
            "E8",
            FAIL,
            [
                _r(
                    "too_short",
                    start=start,
                    end=end,
                    years=years,
                    minimum=minimum,
                    required_end=required_end,
                )
            ],
            ("follow_up_until_year",),
        )
    return _result(
        rules, "E8", PASS, [_r("pass", start=start, end=end, years=years, minimum=minimum)]
    )


def _judged_text(
    criterion_id: str,
    field_name: str,
    case: Case,
    rules: RuleSet,
    judgement: Judgement | None,
) -> CriterionResult:
    """E9–E11: a missing or token text fails; otherwise a person decides, and their reason shows."""
    text = _clean(getattr(case, field_name))
    minimum = rules.min_chars(field_name)
    if not text:
        return _result(rules, criterion_id, FAIL, [_r("missing")], (field_name,))
    if len(text) < minimum:
        return _result(
            rules,
            criterion_id,
            FAIL,
            [_r("too_short", length=len(text), minimum=minimum)],
            (field_name,),
        )
    if judgement is None:
        return _result(rules, criterion_id, NEEDS_JUDGEMENT, [_r("needs_judgement")])
    if judgement.criterion_id != criterion_id:
        raise JudgementError(
            f"Bedömningen gäller {judgement.criterion_id}, inte {criterion_id}.",
            f"The judgement is for {judgement.criterion_id}, not {criterion_id}.",
        )
    key = "judged_pass" if judgement.result == PASS else "judged_fail"
    return _result(
        rules,
        criterion_id,
        judgement.result,
        [_r(key, by=judgement.by, rationale=judgement.rationale)],
        () if judgement.result == PASS else (field_name,),
        judged_by=judgement.by,
        rationale=judgement.rationale,
    )


def e9_intervention_logic(
    case: Case, rules: RuleSet, judgement: Judgement | None = None
) -> CriterionResult:
    """E9: the intervention logic is described; whether it is credible is a person's judgement."""
    return _judged_text("E9", "intervention_logic", case, rules, judgement)


def e10_systematic_work(
    case: Case, rules: RuleSet, judgement: Judgement | None = None
) -> CriterionResult:
    """E10: a reference to the borrower's social-sustainability programme or policy; judged."""
    return _judged_text("E10", "systematic_work_ref", case, rules, judgement)


def e11_developed_practice(
    case: Case, rules: RuleSet, judgement: Judgement | None = None
) -> CriterionResult:
    """E11: developed practice, local innovation or higher quality is described; judged."""
    return _judged_text("E11", "developed_practice", case, rules, judgement)


def _power_reasons(case: Case, rules: RuleSet) -> tuple[list[_Reason], bool]:
    """The power note for E12, and whether the planned sample is too small to show anything."""
    n = case.planned_sample_per_arm
    if n is None or case.outcome_base_rate is None:
        return [_r("power_unknown")], False
    base_rate = float(case.outcome_base_rate)
    if n < 2 or not 0.0 < base_rate < 1.0:
        return [
            _r(
                "power_invalid",
                n=n,
                base_rate=_per_language(lambda lang: _plain_number(base_rate * 100, lang)),
            )
        ], True
    # Imported here: the power module is the statistics side of the product, loaded only when used.
    from lanportfolj.domain.power import mde_proportions

    alpha = float(rules.thresholds["power_alpha"])
    power = float(rules.thresholds["power_target"])
    mde = mde_proportions(base_rate=base_rate, n_per_arm=n, alpha=alpha, power=power)
    common: dict[str, Param] = {
        "n": n,
        "base_rate": _per_language(lambda lang: _plain_number(base_rate * 100, lang)),
        "alpha": _per_language(lambda lang: _plain_number(alpha, lang)),
        "power": _per_language(lambda lang: _plain_number(power * 100, lang)),
    }
    if not math.isfinite(mde):
        return [_r("power_none", **common)], True
    note = _r("power_note", mde=_per_language(lambda lang: _number(mde * 100, lang, 1)), **common)
    if mde >= base_rate:
        return [note, _r("power_weak")], True
    return [note], False


def e12_evaluation_plan(case: Case, rules: RuleSet) -> CriterionResult:
    """E12 (advisory, never blocks): an evaluation plan with a comparison group, and a power note.

    ``pass`` when a plan and a comparison group are given and the planned sample can detect an effect
    smaller than the base rate; otherwise ``needs_judgement`` with advice.
    """
    reasons: list[_Reason] = []
    fields: list[str] = []
    if not _substantive(case, "evaluation_plan", rules):
        reasons.append(_r("no_evaluation_plan"))
        fields.append("evaluation_plan")
    if not _substantive(case, "comparison_group", rules):
        reasons.append(_r("no_comparison_group"))
        fields.append("comparison_group")
    power_reasons, weak = _power_reasons(case, rules)
    if weak:
        fields.append("planned_sample_per_arm")
    if not reasons and not weak:
        reasons.append(_r("pass", comparison_group=_clean(case.comparison_group)))
        return _result(rules, "E12", PASS, reasons + power_reasons, advisory=True)
    if case.planned_sample_per_arm is None or case.outcome_base_rate is None:
        fields += ["planned_sample_per_arm", "outcome_base_rate"]
    return _result(
        rules, "E12", NEEDS_JUDGEMENT, reasons + power_reasons, tuple(fields), advisory=True
    )


def overall_result(criteria: tuple[CriterionResult, ...]) -> str:
    """``not_eligible`` if any blocking criterion fails; else ``needs_judgement`` while one is open;
    else ``eligible``. Advisory criteria (E12) never count."""
    blocking = [c for c in criteria if not c.advisory]
    if any(c.result == FAIL for c in blocking):
        return NOT_ELIGIBLE
    if any(c.result == NEEDS_JUDGEMENT for c in blocking):
        return NEEDS_JUDGEMENT
    return ELIGIBLE


def assess(
    case: Case, rules: RuleSet, judgements: Mapping[str, Judgement] | None = None
) -> Assessment:
    """Run E1–E12 over ``case`` under ``rules``; ``judgements`` (by criterion id) settle E9–E11."""
    judgements = judgements or {}
    for key, judgement in judgements.items():
        if key != judgement.criterion_id:
            raise JudgementError(
                f"Bedömningen under {key} gäller {judgement.criterion_id}.",
                f"The judgement filed under {key} is for {judgement.criterion_id}.",
            )
    criteria = (
        e1_borrower(case, rules),
        e2_investment(case, rules),
        e3_category(case, rules),
        e4_social_need(case, rules),
        e5_target_group(case, rules),
        e6_goals(case, rules),
        e7_follow_up(case, rules),
        e8_long_term(case, rules),
        e9_intervention_logic(case, rules, judgements.get("E9")),
        e10_systematic_work(case, rules, judgements.get("E10")),
        e11_developed_practice(case, rules, judgements.get("E11")),
        e12_evaluation_plan(case, rules),
    )
    return Assessment(rule_set=rules.version, overall=overall_result(criteria), criteria=criteria)
