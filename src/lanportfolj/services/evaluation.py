"""Evaluation support for a loan: comparison units with difference-in-differences, the power
panel and SMART hints, as plain dicts any page, API or report can render.

Everything returned here is plain data in one language (``lang``), with the Swedish and English
texts kept side by side where a message comes from the domain, and numbers both raw (for JSON and
charts) and formatted (for the page). The partials in ``templates/evaluation/`` need nothing but
these dicts: no translation function, no filters, so the bond report's own Jinja environment can
include them too.

How a comparison is set up (PRODUCT §7):

* Only loan indicators with at least one value for a comparison unit (``group_name`` ≠ "") get a
  section; only current versions count (restatements resolved).
* The intervention's baseline (value and year) is a pre-period point; a measurement reported for
  the baseline year takes precedence, since it is the newer statement of the same value.
* The intervention starts the year after the baseline year: the baseline is by definition the
  state before the intervention. The disbursement year is no guide when there is a baseline (a
  completed investment may be financed, or the loan paid out after work began), so it is used only
  without a baseline year; without either, the first year with a value is the only pre-period
  year. The rule used is stated in the dict (``start_rule``).
* ``did_multi`` (post-period mean minus pre-period mean) is the headline; ``did_2x2`` compares the
  baseline year (or the last pre-period year) with the latest common year.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, NamedTuple

from babel import Locale
from babel.numbers import NumberPattern, format_decimal, parse_pattern
from sqlalchemy import exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain.case import Case
from lanportfolj.domain.did import DidResult, Series, did_2x2, did_multi
from lanportfolj.domain.power import mde_proportions, n_for_proportions, power_summary
from lanportfolj.domain.smart import smart_hints
from lanportfolj.library import UNITS
from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.services.loans import case_for, get_loan, loan_indicator_rows

LANGS = ("sv", "en")

#: Every label the partials show, in both languages; each dict carries the ``lang`` half.
LABELS: dict[str, dict[str, str]] = {
    "comparison_title": {"sv": "Jämförelsegrupper", "en": "Comparison groups"},
    "no_comparison": {
        "sv": "Ingen indikator har rapporterats för en jämförelseenhet.",
        "en": "No indicator has been reported for a comparison unit.",
    },
    "year": {"sv": "År", "en": "Year"},
    "intervention": {"sv": "Insatsen", "en": "Intervention"},
    "baseline_mark": {"sv": "utgångsvärde", "en": "baseline"},
    "estimated_mark": {"sv": "uppskattat", "en": "estimated"},
    "raw_change": {"sv": "Förändring för insatsen", "en": "Change for the intervention"},
    "did": {"sv": "Skillnad-i-skillnader", "en": "Difference-in-differences"},
    "did_multi": {
        "sv": "Medel efter minus medel före",
        "en": "Mean after minus mean before",
    },
    "did_2x2": {"sv": "Utgångsår mot senaste år", "en": "Baseline year against latest year"},
    "ci": {"sv": "Konfidensintervall", "en": "Confidence interval"},
    "no_ci": {"sv": "ej tillgängligt", "en": "not available"},
    "pre_trends": {
        "sv": "Trend före insatsen (per år)",
        "en": "Trend before the intervention (a year)",
    },
    "pre_years": {"sv": "År före", "en": "Years before"},
    "post_years": {"sv": "År efter", "en": "Years after"},
    "warnings": {"sv": "Varningar", "en": "Warnings"},
    "assumptions": {"sv": "Antaganden", "en": "Assumptions"},
    "compared_with": {"sv": "Jämfört med", "en": "Compared with"},
    "not_estimable": {"sv": "kan inte skattas", "en": "cannot be estimated"},
    "power_title": {"sv": "Statistisk styrka", "en": "Statistical power"},
    "smart_title": {"sv": "SMART-granskning av målen", "en": "SMART check of the goals"},
    "smart_none": {
        "sv": "Inga anmärkningar: målen är specifika, mätbara, realistiska och tidsatta.",
        "en": "No remarks: the goals are specific, measurable, realistic and time-bound.",
    },
    "criterion": {"sv": "Kriterium", "en": "Criterion"},
    "goal": {"sv": "Mål", "en": "Goal"},
    "whole_application": {"sv": "Hela ansökan", "en": "The whole application"},
}

SMART_LETTERS: dict[str, dict[str, str]] = {
    "S": {"sv": "Specifikt", "en": "Specific"},
    "M": {"sv": "Mätbart", "en": "Measurable"},
    "A": {"sv": "Accepterat", "en": "Accepted"},
    "R": {"sv": "Realistiskt", "en": "Realistic"},
    "T": {"sv": "Tidsatt", "en": "Time-bound"},
}


#: Base rates up to this are "rare" outcomes, where the power note's yardstick is a halving.
RARE_OUTCOME = 0.2


class LoanNotFound(LookupError):
    """No loan with that reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"Inget lån {reference} / No loan {reference}")
        self.reference = reference


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "sv"


def labels(lang: str) -> dict[str, str]:
    """The partials' labels in ``lang``."""
    lang = _lang(lang)
    return {key: texts[lang] for key, texts in LABELS.items()}


def _fmt(
    value: Decimal | float | None, lang: str, *, digits: int | None = None, sign: bool = False
) -> str:
    """A number as the reader writes it (``1 234,5`` / ``1,234.5``); ``–`` for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    # keyed by the exact text (a Decimal's str gives it back digit for digit, sign and exponent):
    # a bond report formats the same figures again and again, half its calls at 10 000 loans
    return _fmt_text(
        str(value) if isinstance(value, Decimal) else repr(float(value)), lang, digits, sign
    )


@lru_cache(maxsize=1 << 16)
def _fmt_text(exact: str, lang: str, digits: int | None, sign: bool) -> str:
    number = Decimal(exact)
    text = format_decimal(number, format=_pattern(digits), locale=_locale(lang))
    if sign and number > 0 and text.strip("0,.") != "":
        text = "+" + text
    # the Swedish way: a true minus sign
    return text.replace("-", "−") if lang == "sv" else text


@cache
def _pattern(digits: int | None) -> NumberPattern:
    # parsed once: babel parses the pattern text on every call, a third of a bond report's
    # comparison sections
    return parse_pattern(
        "#,##0.###" if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    )


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse("sv_SE" if lang == "sv" else "en_GB")


def _unit_label(unit: str, lang: str, *, difference: bool = False) -> str:
    if unit == "percent":
        if difference:
            return "procentenheter" if lang == "sv" else "percentage points"
        return "%"
    found = UNITS.get(unit)
    if found is None:
        return unit
    return found.sv if lang == "sv" else found.en


def _warning_dict(code: str, sv: str, en: str, lang: str) -> dict[str, str]:
    return {"code": code, "message": sv if lang == "sv" else en, "message_sv": sv, "message_en": en}


class _Point(NamedTuple):
    """One current value of a loan indicator for one unit and year."""

    value: Decimal
    estimated: bool


#: Values of one loan indicator: unit ("" for the intervention) → year → value.
ByGroup = dict[str, dict[int, _Point]]

#: Ids per ``IN (…)`` list, well under SQLite's limit on bound parameters.
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _compared_rows(
    session: Session, loan_refs: Sequence[str]
) -> list[tuple[Loan, list[tuple[LoanIndicator, IndicatorDefinition, ByGroup]]]]:
    """For each of ``loan_refs`` (in order): the loan and its loan indicators (in the page's order)
    that have a current value for a comparison unit, each with its current values.

    A bond report asks for hundreds of loans: the loans, their loan indicators and the values are
    read with one query each (per chunk of ids), not a few queries per loan and indicator.
    Raises ``LoanNotFound`` for the first unknown reference.
    """
    unique = list(dict.fromkeys(loan_refs))
    loans: dict[str, Loan] = {}
    for chunk in _chunks(unique):
        for loan in session.exec(select(Loan).where(col(Loan.reference).in_(chunk))).all():
            loans.setdefault(loan.reference, loan)
    for ref in unique:
        if ref not in loans or loans[ref].id is None:
            raise LoanNotFound(ref)
    loan_ids = [loan.id for loan in loans.values()]
    compared = exists().where(
        col(Measurement.loan_indicator_id) == col(LoanIndicator.id),
        col(Measurement.group_name) != "",
        col(Measurement.is_current),
    )
    by_loan: dict[int, list[tuple[LoanIndicator, IndicatorDefinition]]] = defaultdict(list)
    for chunk in _chunks(loan_ids):
        for li, ind in session.exec(
            select(LoanIndicator, IndicatorDefinition)
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(col(LoanIndicator.loan_id).in_(chunk), compared)
            # the order of loan_indicator_rows, as the loan's page shows them
            .order_by(
                col(LoanIndicator.loan_id),
                col(IndicatorDefinition.kind).desc(),
                col(IndicatorDefinition.code),
            )
        ).all():
            by_loan[li.loan_id].append((li, ind))
    li_ids = [li.id for rows in by_loan.values() for li, _ind in rows]
    values: dict[int, ByGroup] = defaultdict(lambda: defaultdict(dict))
    for chunk in _chunks(li_ids):
        # plain columns, not Measurement objects: the same exact Decimals, a tenth of the cost
        for li_id, group, year, value, estimated in session.execute(
            sa_select(
                col(Measurement.loan_indicator_id),
                col(Measurement.group_name),
                col(Measurement.year),
                col(Measurement.value),
                col(Measurement.estimated),
            )
            .where(col(Measurement.loan_indicator_id).in_(chunk), col(Measurement.is_current))
            .order_by(
                col(Measurement.loan_indicator_id),
                col(Measurement.group_name),
                col(Measurement.year),
            )
        ).all():
            values[li_id][group][year] = _Point(value, estimated)
    return [
        (
            loans[ref],
            [(li, ind, values[li.id or 0]) for li, ind in by_loan.get(loans[ref].id or 0, [])],
        )
        for ref in loan_refs
    ]


def _start_year(
    baseline_year: int | None, loan: Loan, years: Iterable[int], lang: str
) -> tuple[int | None, str]:
    """The first year of the post-period and the sentence saying why."""
    disbursed = loan.disbursement_date.year if loan.disbursement_date else None
    if baseline_year is not None:
        year = baseline_year + 1
        sv = f"Insatsen räknas från {year}, året efter utgångsåret {baseline_year}"
        en = (
            f"The intervention counts from {year}, the year after the baseline year {baseline_year}"
        )
        if disbursed is not None and disbursed != year:
            # a loan may finance an investment already made, or be paid out after work began
            sv += f" (lånet betalades ut {disbursed})"
            en += f" (the loan was disbursed in {disbursed})"
        sv, en = sv + ".", en + "."
    elif disbursed is not None:
        year = disbursed
        sv = f"Insatsen räknas från {year}, året lånet betalades ut (utgångsår saknas)."
        en = f"The intervention counts from {year}, the year the loan was disbursed (no baseline year)."
    else:
        present = sorted(years)
        if len(present) < 2:
            sv = "Utgångsår och utbetalningsår saknas, och för få år finns för en jämförelse."
            en = "No baseline or disbursement year, and too few years for a comparison."
            return None, sv if lang == "sv" else en
        year = present[1]
        sv = f"Utgångsår och utbetalningsår saknas: {present[0]} får räknas som året före insatsen."
        en = f"No baseline or disbursement year: {present[0]} is taken as the year before."
    return year, sv if lang == "sv" else en


def _did_dict(result: DidResult, *, unit: str, direction: str, lang: str) -> dict[str, Any]:
    """A DiD result as plain data with formatted texts for the page."""
    data = result.to_dict()
    diff_unit = _unit_label(unit, lang, difference=True)
    data["warnings"] = [
        _warning_dict(w.code, w.message_sv, w.message_en, lang) for w in result.warnings
    ]
    data["assumptions"] = result.assumptions_sv if lang == "sv" else result.assumptions_en
    data["estimate_text"] = (
        f"{_fmt(result.estimate, lang, digits=2, sign=True)} {diff_unit}"
        if result.estimate is not None
        else LABELS["not_estimable"][lang]
    )
    if result.ci_low is not None and result.ci_high is not None:
        data["ci_text"] = (
            f"{result.confidence:.0%}: {_fmt(result.ci_low, lang, digits=2)} … "
            f"{_fmt(result.ci_high, lang, digits=2)}"
        )
    else:
        data["ci_text"] = LABELS["no_ci"][lang]
    data["pre_trend_text"] = (
        f"{result.treated_unit} {_fmt(result.pre_trend_treated, lang, digits=2, sign=True)}, "
        f"{result.comparison_unit} {_fmt(result.pre_trend_comparison, lang, digits=2, sign=True)}"
    )
    data["pre_years_text"] = ", ".join(str(y) for y in result.pre_years) or "–"
    data["post_years_text"] = ", ".join(str(y) for y in result.post_years) or "–"
    favourable: bool | None = None
    if (
        result.estimate is not None
        and result.estimate != 0
        and direction in ("increase", "decrease")
    ):
        favourable = (result.estimate > 0) == (direction == "increase")
    data["favourable"] = favourable
    return data


def _summary(did: dict[str, Any], *, unit: str, lang: str) -> str:
    """One sentence: the raw changes of both units and the DiD between them."""
    if did["estimate"] is None:
        return (
            f"Jämfört med {did['comparison_unit']}: effekten kan inte skattas ännu."
            if lang == "sv"
            else f"Compared with {did['comparison_unit']}: the effect cannot be estimated yet."
        )
    diff_unit = _unit_label(unit, lang, difference=True)
    t = _fmt(did["change_treated"], lang, digits=2, sign=True)
    c = _fmt(did["change_comparison"], lang, digits=2, sign=True)
    if did["favourable"] is None:
        tail_sv = tail_en = ""
    elif did["favourable"]:
        tail_sv, tail_en = " i önskad riktning", " in the desired direction"
    else:
        tail_sv, tail_en = " i motsatt riktning mot den önskade", " against the desired direction"
    if lang == "sv":
        return (
            f"Jämfört med {did['comparison_unit']}: {did['treated_unit']} förändrades {t}, "
            f"jämförelseenheten {c} {diff_unit}; skillnad-i-skillnader {did['estimate_text']}"
            f"{tail_sv} (före: {did['pre_years_text']}; efter: {did['post_years_text']})."
        )
    return (
        f"Compared with {did['comparison_unit']}: {did['treated_unit']} changed by {t}, the "
        f"comparison unit by {c} {diff_unit}; difference-in-differences {did['estimate_text']}"
        f"{tail_en} (before: {did['pre_years_text']}; after: {did['post_years_text']})."
    )


def _two_by_two(
    treated: Series, comparison: Series, *, pre_year: int | None, start_year: int
) -> DidResult | None:
    common = sorted(set(treated.values) & set(comparison.values))
    post = [y for y in common if y >= start_year]
    if pre_year is None or pre_year not in common:
        before = [y for y in common if y < start_year]
        pre_year = before[-1] if before else None
    if pre_year is None or not post:
        return None
    return did_2x2(treated=treated, comparison=comparison, pre_year=pre_year, post_year=post[-1])


def _indicator_section(
    *,
    loan: Loan,
    li: LoanIndicator,
    ind: IndicatorDefinition,
    by_group: ByGroup,
    lang: str,
) -> dict[str, Any]:
    intervention_label = LABELS["intervention"][lang]
    treated_points: dict[int, Decimal] = {y: m.value for y, m in by_group.get("", {}).items()}
    baseline_used = False
    if (
        li.baseline_year is not None
        and li.baseline_value is not None
        and li.baseline_year not in treated_points
    ):
        treated_points[li.baseline_year] = li.baseline_value
        baseline_used = True
    comparison_units = sorted(g for g in by_group if g != "")
    all_years = sorted(set(treated_points) | {y for g in comparison_units for y in by_group[g]})
    start, start_rule = _start_year(li.baseline_year, loan, all_years, lang)
    treated = Series(
        unit=intervention_label, values={y: float(v) for y, v in treated_points.items()}
    )

    rows = []
    for year in all_years:
        cells = []
        value = treated_points.get(year)
        m = by_group.get("", {}).get(year)
        cells.append(
            {
                "value": None if value is None else str(value),
                "text": _fmt(value, lang),
                "estimated": bool(m and m.estimated),
                "baseline": baseline_used and year == li.baseline_year,
            }
        )
        for group in comparison_units:
            cm = by_group[group].get(year)
            cells.append(
                {
                    "value": None if cm is None else str(cm.value),
                    "text": _fmt(None if cm is None else cm.value, lang),
                    "estimated": bool(cm and cm.estimated),
                    "baseline": False,
                }
            )
        rows.append(
            {
                "year": year,
                "post": start is not None and year >= start,
                "cells": cells,
            }
        )

    raw_change: dict[str, Any] | None = None
    if treated_points:
        first_year = li.baseline_year if li.baseline_year in treated_points else min(treated_points)
        last_year = max(treated_points)
        if last_year != first_year:
            change = treated_points[last_year] - treated_points[first_year]
            raw_change = {
                "from_year": first_year,
                "to_year": last_year,
                "value": str(change),
                "text": f"{_fmt(change, lang, sign=True)} {_unit_label(ind.unit, lang, difference=True)} "
                f"({first_year}–{last_year})",
            }

    comparisons = []
    for group in comparison_units:
        comparison = Series(
            unit=group, values={y: float(m.value) for y, m in by_group[group].items()}
        )
        multi = (
            did_multi(treated=treated, comparison=comparison, start_year=start) if start else None
        )
        two = (
            _two_by_two(treated, comparison, pre_year=li.baseline_year, start_year=start)
            if start
            else None
        )
        multi_d = (
            _did_dict(multi, unit=ind.unit, direction=ind.direction, lang=lang) if multi else None
        )
        comparisons.append(
            {
                "unit": group,
                "did_multi": multi_d,
                "did_2x2": (
                    _did_dict(two, unit=ind.unit, direction=ind.direction, lang=lang)
                    if two
                    else None
                ),
                "summary": _summary(multi_d, unit=ind.unit, lang=lang) if multi_d else start_rule,
                "warnings": multi_d["warnings"] if multi_d else [],
            }
        )

    any_ci = any(c["did_multi"] and c["did_multi"]["ci_low"] is not None for c in comparisons)
    assumptions_sv = next(
        (c["did_multi"]["assumptions_sv"] for c in comparisons if c["did_multi"]), ""
    )
    assumptions_en = next(
        (c["did_multi"]["assumptions_en"] for c in comparisons if c["did_multi"]), ""
    )
    return {
        "loan_ref": loan.reference,
        "code": ind.code,
        "name": ind.name_sv if lang == "sv" else ind.name_en,
        "name_sv": ind.name_sv,
        "name_en": ind.name_en,
        "unit": ind.unit,
        "unit_label": _unit_label(ind.unit, lang),
        "direction": ind.direction,
        "baseline": {
            "value": None if li.baseline_value is None else str(li.baseline_value),
            "year": li.baseline_year,
        },
        "start_year": start,
        "start_rule": start_rule,
        "units": [intervention_label, *comparison_units],
        "table": {
            "columns": [LABELS["year"][lang], intervention_label, *comparison_units],
            "rows": rows,
        },
        "series": {
            "years": all_years,
            "values": {
                intervention_label: [
                    None if y not in treated_points else float(treated_points[y]) for y in all_years
                ],
                **{
                    g: [
                        float(by_group[g][y].value) if y in by_group[g] else None for y in all_years
                    ]
                    for g in comparison_units
                },
            },
        },
        "raw_change": raw_change,
        "comparisons": comparisons,
        "has_ci": any_ci,
        "assumptions": assumptions_sv if lang == "sv" else assumptions_en,
        "assumptions_sv": assumptions_sv,
        "assumptions_en": assumptions_en,
        "labels": labels(lang),
    }


def _loan_or_raise(session: Session, loan_ref: str) -> Loan:
    loan = get_loan(session, loan_ref)
    if loan is None or loan.id is None:
        raise LoanNotFound(loan_ref)
    return loan


def comparison_section(
    session: Session, *, loan_ref: str, lang: str = "sv"
) -> list[dict[str, Any]]:
    """One dict per loan indicator reported for at least one comparison unit: the yearly values
    side by side, the intervention's raw change, and a DiD against each comparison unit with its
    warnings and assumptions. Empty when the loan has no comparison units.

    Raises ``LoanNotFound`` for an unknown reference.
    """
    lang = _lang(lang)
    ((loan, rows),) = _compared_rows(session, [loan_ref])
    return [
        _indicator_section(loan=loan, li=li, ind=ind, by_group=by_group, lang=lang)
        for li, ind, by_group in rows
    ]


def comparison_by_language(
    session: Session, loan_refs: Sequence[str], *, langs: Sequence[str] = LANGS
) -> dict[str, list[dict[str, Any]]]:
    """``comparison_for_report`` in each of ``langs``, from one reading of the database."""
    rows = _compared_rows(session, loan_refs)
    out: dict[str, list[dict[str, Any]]] = {}
    for lang in langs:
        out[lang] = [
            {
                "loan_ref": ref,
                "title": loan.title,
                "indicators": [
                    _indicator_section(loan=loan, li=li, ind=ind, by_group=by_group, lang=lang)
                    for li, ind, by_group in items
                ],
            }
            for ref, (loan, items) in zip(loan_refs, rows, strict=True)
            if items
        ]
    return out


def comparison_for_report(
    session: Session, loan_refs: Sequence[str], *, lang: str = "sv"
) -> list[dict[str, Any]]:
    """The comparison sections of many loans (say, a bond's pool), for the bond report.

    One dict per loan that has a comparison: ``loan_ref``, ``title`` and ``indicators`` (the list
    ``comparison_section`` returns). Loans without a comparison unit are left out. Raises
    ``LoanNotFound`` for an unknown reference.
    """
    lang = _lang(lang)
    return comparison_by_language(session, loan_refs, langs=(lang,))[lang]


def power_panel(
    case: Case,
    settings: Settings | None = None,
    *,
    lang: str | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """The E12 power note for an application: with the planned participants per group and the
    outcome's base rate, the smallest detectable effect, whether a decrease could be shown at all,
    and the sample a yardstick effect would need (halving a rare outcome, else ten points).

    ``lang`` defaults to the settings' language. Without a planned sample or base rate the panel
    says what is missing (``available`` is False).
    """
    lang = _lang(lang or (settings.default_language if settings else "sv"))
    n = case.planned_sample_per_arm
    rate = case.outcome_base_rate
    base: dict[str, Any] = {
        "title": LABELS["power_title"][lang],
        "n_per_arm": n,
        "base_rate": rate,
        "alpha": alpha,
        "power": power,
    }
    if n is None or rate is None:
        sv = (
            "Ansökan anger inte planerat antal deltagare per grupp och utfallets basnivå, så "
            "det går inte att säga vilken effekt utvärderingen kan upptäcka."
        )
        en = (
            "The application states no planned number of participants per group and no base "
            "rate of the outcome, so what effect the evaluation could detect cannot be said."
        )
        return base | {
            "available": False,
            "message": sv if lang == "sv" else en,
            "message_sv": sv,
            "message_en": en,
            "notes": [],
            "result": None,
        }
    try:
        result = power_summary(base_rate=rate, n_per_arm=n, alpha=alpha, power=power)
    except ValueError as exc:
        sv, _, en = str(exc).partition(" / ")
        return base | {
            "available": False,
            "message": sv if lang == "sv" else (en or sv),
            "message_sv": sv,
            "message_en": en or sv,
            "notes": [],
            "result": None,
        }
    notes: list[dict[str, str]] = []
    pct_sv = _fmt(rate * 100, "sv", digits=1)
    pct_en = _fmt(rate * 100, "en", digits=1)
    decrease = mde_proportions(
        base_rate=rate, n_per_arm=n, alpha=alpha, power=power, direction="decrease"
    )
    if math.isinf(decrease):
        # the seed's point about rare outcomes: a reduction, usually the goal, cannot show at all
        notes.append(
            _warning_dict(
                "decrease_undetectable",
                f"En minskning går inte att upptäcka: inte ens om utfallet föll från {pct_sv} % "
                f"till noll skulle skillnaden synas med {n} per grupp.",
                f"A decrease cannot be detected: not even a fall from {pct_en} % to zero would "
                f"show with {n} per group.",
                lang,
            )
        )
    # A yardstick for the sample: halving a rare outcome, or ten points for a common one.
    target = rate / 2 if rate <= RARE_OUTCOME else (rate + 0.1 if rate + 0.1 < 1 else rate - 0.1)
    needed = n_for_proportions(base_rate=rate, effect=target - rate, alpha=alpha, power=power)
    to_sv = _fmt(target * 100, "sv", digits=1)
    to_en = _fmt(target * 100, "en", digits=1)
    what_sv = "en halvering" if rate <= RARE_OUTCOME else "en förändring på 10 procentenheter"
    what_en = "a halving" if rate <= RARE_OUTCOME else "a change of 10 percentage points"
    notes.append(
        _warning_dict(
            "n_for_halving" if rate <= RARE_OUTCOME else "n_for_ten_points",
            f"För att upptäcka {what_sv} (från {pct_sv} % till {to_sv} %) behövs "
            f"{_fmt(needed, 'sv', digits=0)} deltagare per grupp.",
            f"To detect {what_en} (from {pct_en} % to {to_en} %), "
            f"{_fmt(needed, 'en', digits=0)} participants per group are needed.",
            lang,
        )
    )
    return base | {
        "available": True,
        "message": result.message_sv if lang == "sv" else result.message_en,
        "message_sv": result.message_sv,
        "message_en": result.message_en,
        "notes": notes,
        "n_needed_for_yardstick": needed,
        "result": result.to_dict(),
    }


def smart_panel(session: Session, loan_ref: str, *, lang: str = "sv") -> list[dict[str, Any]]:
    """SMART hints for the loan's goals, with the library's better directions for the Realistic
    check. Each hint: ``goal_number`` (1-based, None for the whole application), ``code``,
    ``criterion`` letter and name, and the message in ``lang`` and both languages."""
    lang = _lang(lang)
    loan = _loan_or_raise(session, loan_ref)
    case = case_for(session, loan)
    directions = {
        ind.code: ind.direction for _li, ind in loan_indicator_rows(session, loan.id or 0)
    }
    out = []
    for hint in smart_hints(case, directions):
        data = asdict(hint)
        letter = SMART_LETTERS.get(hint.criterion)
        out.append(
            data
            | {
                "goal_number": None if hint.goal_index is None else hint.goal_index + 1,
                "criterion_name": letter[lang] if letter else "",
                "message": hint.message_sv if lang == "sv" else hint.message_en,
            }
        )
    return out


def evaluation_overview(
    session: Session, *, loan_ref: str, lang: str = "sv", settings: Settings | None = None
) -> dict[str, Any]:
    """Everything the evaluation page and its JSON show for one loan."""
    lang = _lang(lang)
    loan = _loan_or_raise(session, loan_ref)
    return {
        "loan_ref": loan.reference,
        "title": loan.title,
        "illustrative": loan.illustrative,
        "lang": lang,
        "labels": labels(lang),
        "comparison": comparison_section(session, loan_ref=loan_ref, lang=lang),
        "power": power_panel(case_for(session, loan), settings, lang=lang),
        "smart": smart_panel(session, loan_ref, lang=lang),
    }


#: What ``plotly.io.to_html``'s default ("plotly") template gave these charts, as plain layout: the
#: charts keep their look without building ``go.Figure`` objects (each embedded the ~7 kB template).
_COMPARISON_AXIS: dict[str, Any] = {
    "gridcolor": "white",
    "linecolor": "white",
    "ticks": "",
    "zerolinecolor": "white",
    "zerolinewidth": 2,
    "automargin": True,
}
_COMPARISON_LAYOUT: dict[str, Any] = {
    "colorway": [
        "#636efa",
        "#EF553B",
        "#00cc96",
        "#ab63fa",
        "#FFA15A",
        "#19d3f3",
        "#FF6692",
        "#B6E880",
        "#FF97FF",
        "#FECB52",
    ],
    "font": {"color": "#2a3f5f"},
    "paper_bgcolor": "white",
    "plot_bgcolor": "#E5ECF6",
    "hovermode": "closest",
    "hoverlabel": {"align": "left"},
}


def comparison_chart_html(item: dict[str, Any]) -> str:
    """A small plotly line chart of the intervention against each comparison unit, as an HTML
    fragment (plotly.js is loaded by the page, not embedded). ``item`` is one entry of
    ``comparison_section``; the start of the intervention is marked with a dashed line.

    The figure is a plain trace/layout spec drawn by ``reporting.charts.figure_html``: its element
    id is generated, its texts (group names, title) are escaped for plotly and its JSON for the
    script, like every other chart.
    """
    from lanportfolj.reporting.charts import div_id, figure_html

    series = item["series"]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": series["years"],
            "y": values,
            "mode": "lines+markers",
            "name": name,
            "connectgaps": False,
        }
        for name, values in series["values"].items()
    ]
    layout: dict[str, Any] = {
        **_COMPARISON_LAYOUT,
        "title": {"text": f"{item['name']} ({item['unit_label']})", "x": 0.05},
        "height": 320,
        "margin": {"l": 40, "r": 10, "t": 40, "b": 30},
        "xaxis": {
            **_COMPARISON_AXIS,
            "dtick": 1,
            "title": {"text": item["labels"]["year"], "standoff": 15},
        },
        "yaxis": {**_COMPARISON_AXIS, "title": {"standoff": 15}},
        "legend": {"orientation": "h"},
    }
    if item.get("start_year") is not None:
        start = item["start_year"] - 0.5
        layout["shapes"] = [
            {
                "type": "line",
                "x0": start,
                "x1": start,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
                "line": {"color": "grey", "dash": "dash"},
            }
        ]
    return figure_html(
        div_id("comparison", item["loan_ref"], item["code"]),
        traces,
        layout,
        config={"displayModeBar": False, "responsive": True},
    )
