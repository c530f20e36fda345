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
from dataclasses import asdict, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain.case import Case
from lanportfolj.domain.did import DidResult, Series, did_2x2, did_multi
from lanportfolj.domain.did_inference import (
    Observation,
    PanelDid,
    did_panel,
    residual_spread,
    sampling_variance,
)
from lanportfolj.domain.power import mde_did, mde_proportions, n_for_proportions, power_summary
from lanportfolj.domain.smart import smart_hints
from lanportfolj.library import UNITS
from lanportfolj.models import Borrower, IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.numtext import decimal_text
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
    "regression": {"sv": "regressionens skattning", "en": "the regression's estimate"},
    "official_title": {
        "sv": "Kommunen mot liknande kommuner (Koladas siffror, historik före utgångsåret)",
        "en": "The municipality against similar municipalities (Kolada's figures, history before "
        "the baseline year)",
    },
    "method": {"sv": "Metod", "en": "Method"},
    "placebo": {"sv": "Placebotest", "en": "Placebo test"},
    "pre_trend_test": {"sv": "Trendskillnad före start", "en": "Difference in trends before"},
    "event_study": {"sv": "Händelsestudie", "en": "Event study"},
    "relative_year": {"sv": "År från start", "en": "Years from start"},
    "estimate": {"sv": "Skattning", "en": "Estimate"},
    "reference_year": {"sv": "referensår", "en": "reference year"},
    "source": {"sv": "Källa", "en": "Source"},
    "regression_line": {"sv": "Regression", "en": "Regression"},
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
    text = decimal_text(number, lang, digits)
    if sign and number > 0 and text.strip("0,.") != "":
        text = "+" + text
    # the Swedish way: a true minus sign
    return text.replace("-", "−") if lang == "sv" else text


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
    n: int | None = None
    std_error: Decimal | None = None
    source: str = "upload"
    history: bool = False


#: Values of one loan indicator: unit ("" for the intervention) → year → value.
ByGroup = dict[str, dict[int, _Point]]

#: Ids per ``IN (…)`` list, well under SQLite's limit on bound parameters.
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class _Compared(NamedTuple):
    """One loan indicator with a comparison: its values, and what the statistics need besides."""

    li: LoanIndicator
    ind: IndicatorDefinition
    by_group: ByGroup
    #: For a ratio: the denominator's values (unit → year → count), the n behind each share.
    counts: dict[str, dict[int, int]]
    #: Kolada's name of the borrower's municipality, when its figures were fetched.
    municipality: str | None


def _compared_rows(
    session: Session, loan_refs: Sequence[str]
) -> list[tuple[Loan, list[_Compared]]]:
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
        for li_id, group, year, value, estimated, n, se, source, history in session.execute(
            sa_select(
                col(Measurement.loan_indicator_id),
                col(Measurement.group_name),
                col(Measurement.year),
                col(Measurement.value),
                col(Measurement.estimated),
                col(Measurement.n),
                col(Measurement.std_error),
                col(Measurement.source),
                col(Measurement.history),
            )
            .where(col(Measurement.loan_indicator_id).in_(chunk), col(Measurement.is_current))
            .order_by(
                col(Measurement.loan_indicator_id),
                col(Measurement.group_name),
                col(Measurement.year),
            )
        ).all():
            values[li_id][group][year] = _Point(
                value, estimated, n, se, source or "upload", bool(history)
            )
    counts = _denominator_counts(session, by_loan)
    names = _municipality_names(session, list(loans.values()))
    return [
        (
            loans[ref],
            [
                _Compared(
                    li,
                    ind,
                    values[li.id or 0],
                    counts.get((li.loan_id, ind.denominator or ""), {}),
                    names.get(loans[ref].id or 0),
                )
                for li, ind in by_loan.get(loans[ref].id or 0, [])
            ],
        )
        for ref in loan_refs
    ]


def _denominator_counts(
    session: Session, by_loan: dict[int, list[tuple[LoanIndicator, IndicatorDefinition]]]
) -> dict[tuple[int, str], dict[str, dict[int, int]]]:
    """(loan id, denominator code) → unit → year → the denominator's current value, for the ratio
    indicators among ``by_loan``: a share's count of units measured."""
    wanted = {
        (loan_id, ind.denominator)
        for loan_id, rows in by_loan.items()
        for _li, ind in rows
        if ind.aggregation == "ratio" and ind.denominator
    }
    out: dict[tuple[int, str], dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    if not wanted:
        return out
    loan_ids = sorted({loan_id for loan_id, _ in wanted})
    codes = sorted({code for _, code in wanted})
    for chunk in _chunks(loan_ids):
        for loan_id, code, group, year, value in session.execute(
            sa_select(
                col(LoanIndicator.loan_id),
                col(IndicatorDefinition.code),
                col(Measurement.group_name),
                col(Measurement.year),
                col(Measurement.value),
            )
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(
                col(LoanIndicator.loan_id).in_(chunk),
                col(IndicatorDefinition.code).in_(codes),
                col(Measurement.is_current),
            )
        ).all():
            if (loan_id, code) in wanted and value is not None and value >= 0:
                out[(loan_id, code)][group][year] = int(value)
    return out


def _municipality_names(session: Session, loans: Sequence[Loan]) -> dict[int, str]:
    """Loan id → Kolada's name of its borrower's municipality, as the Kolada fetch named the unit."""
    from lanportfolj.kolada.cache import cached_municipality_titles

    borrower_ids = sorted({loan.borrower_id for loan in loans})
    codes: dict[int, str] = {}
    for chunk in _chunks(borrower_ids):
        for borrower_id, code in session.execute(
            sa_select(col(Borrower.id), col(Borrower.municipality_code)).where(
                col(Borrower.id).in_(chunk)
            )
        ).all():
            if code:
                codes[borrower_id] = code
    titles = cached_municipality_titles(session, set(codes.values()))
    return {
        loan.id: titles[codes[loan.borrower_id]]
        for loan in loans
        if loan.id is not None and codes.get(loan.borrower_id) in titles
    }


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


def _indicator_section(*, loan: Loan, row: _Compared, lang: str) -> dict[str, Any]:
    li, ind, by_group = row.li, row.ind, row.by_group
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
    own = by_group.get("", {})
    treated_obs: dict[int, _Point] = {
        y: own.get(y) or _Point(v, False) for y, v in treated_points.items()
    }

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
        # a comparison unit's official history before the intervention's first year cannot be
        # compared with the intervention (it is used in the municipality's own panel below)
        first_treated = min(treated_points, default=None)
        comparison = Series(
            unit=group,
            values={
                y: float(m.value)
                for y, m in by_group[group].items()
                if first_treated is None or y >= first_treated or not m.history
            },
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
        model = None
        if start is not None:
            # the intervention under a fixed key, so both languages of a report share one fit
            obs = _observations("", treated_obs, ind, row.counts.get("", {}))
            obs += _observations(group, by_group[group], ind, row.counts.get(group, {}))
            model = _panel_dict(
                replace(_panel(tuple(obs), "", start), treated_unit=intervention_label),
                ind=ind,
                lang=lang,
                official=False,
            )
            if (
                multi_d is not None
                and multi_d["ci_low"] is None
                and model["ci_low"] is not None
                and multi_d["estimate"] is not None
            ):
                # the regression gives the interval; weighted by the sampling variances its
                # estimate can differ a little from the plain means, so it is named with it
                same = multi_d["estimate_text"] == model["estimate_text"]
                multi_d["ci_low"], multi_d["ci_high"] = model["ci_low"], model["ci_high"]
                multi_d["ci_text"] = model["ci_text"] + (
                    "" if same else f" ({LABELS['regression'][lang]} {model['estimate_text']})"
                )
                multi_d["warnings"] = [
                    w for w in multi_d["warnings"] if w["code"] != "no_confidence_interval"
                ]
        comparisons.append(
            {
                "unit": group,
                "model": model,
                "did_multi": multi_d,
                "did_2x2": (
                    _did_dict(two, unit=ind.unit, direction=ind.direction, lang=lang)
                    if two
                    else None
                ),
                "summary": (
                    _summary(multi_d, unit=ind.unit, lang=lang)
                    + (
                        f" {LABELS['ci'][lang]} {multi_d['ci_text']}."
                        if multi_d["ci_low"] is not None
                        else ""
                    )
                    if multi_d
                    else start_rule
                ),
                "warnings": multi_d["warnings"] if multi_d else [],
            }
        )

    official = _official_panel(row, start=start, lang=lang) if start is not None else None
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
        "official": official,
        "has_ci": any_ci or bool(official and official["ci_low"] is not None),
        "assumptions": assumptions_sv if lang == "sv" else assumptions_en,
        "assumptions_sv": assumptions_sv,
        "assumptions_en": assumptions_en,
        "labels": labels(lang),
    }


#: Kolada's terms: a figure this system computed from Kolada's data is labelled so.
DERIVED_SOURCE = "Egen bearbetning av data från Kolada"
#: The unit a Kolada fetch gives the comparison municipalities' mean (never a unit of its own here).
_MEAN_UNIT = "Liknande kommuner (medel)"


def _value_kind(ind: IndicatorDefinition) -> tuple[str, float]:
    """How a count turns into a sampling variance for this indicator's unit."""
    if ind.unit == "percent":
        return "share", 100.0
    if ind.unit == "per_1000":
        return "rate", 1000.0
    if ind.unit == "count":
        return "count", 1.0
    return "other", 1.0


def _observations(
    unit: str, points: dict[int, _Point], ind: IndicatorDefinition, counts: dict[int, int]
) -> list[Observation]:
    kind, scale = _value_kind(ind)
    out = []
    for year, point in sorted(points.items()):
        value = float(point.value)
        n = point.n if point.n is not None else counts.get(year)
        out.append(
            Observation(
                unit=unit,
                year=year,
                value=value,
                variance=sampling_variance(
                    value=value,
                    kind=kind,
                    n=n,
                    std_error=None if point.std_error is None else float(point.std_error),
                    scale=scale,
                ),
            )
        )
    return out


def _official_panel(row: _Compared, *, start: int, lang: str) -> dict[str, Any] | None:
    """The borrower's municipality against the comparison municipalities, on Kolada's figures
    (history before the baseline included): the DiD, its placebo test, event study and pre-trend."""
    ind, by_group, name = row.ind, row.by_group, row.municipality
    if not ind.kolada_kpi or not name:
        return None
    points = dict(by_group.get(name, {}))
    for year, point in by_group.get("", {}).items():
        # the loan's own series is the municipality's figure when Kolada feeds it
        if point.source == "kolada" and year not in points:
            points[year] = point
    others = [
        g
        for g, values in by_group.items()
        if g not in ("", name, _MEAN_UNIT)
        and values
        and all(p.source == "kolada" for p in values.values())
    ]
    if not points or not others:
        return None
    obs = _observations(name, points, ind, {})
    for g in sorted(others):
        obs += _observations(g, by_group[g], ind, {})
    return _panel_dict(_panel(tuple(obs), name, start), ind=ind, lang=lang, official=True)


@lru_cache(maxsize=4096)
def _panel(obs: tuple[Observation, ...], treated: str, start: int) -> PanelDid:
    # the same fit for every language of a report: computed once
    return did_panel(obs, treated=treated, start_year=start)


def _ci_text(low: float | None, high: float | None, confidence: float, lang: str) -> str:
    if low is None or high is None:
        return LABELS["no_ci"][lang]
    return (
        f"{_percent(confidence, lang)}: {_fmt(low, lang, digits=2)} … {_fmt(high, lang, digits=2)}"
    )


def _panel_dict(
    result: PanelDid, *, ind: IndicatorDefinition, lang: str, official: bool
) -> dict[str, Any]:
    """A regression DiD as plain data, with its texts and plain-language sentences."""
    data = result.to_dict()
    diff_unit = _unit_label(ind.unit, lang, difference=True)
    data["estimate_text"] = (
        f"{_fmt(result.estimate, lang, digits=2, sign=True)} {diff_unit}"
        if result.estimate is not None
        else LABELS["not_estimable"][lang]
    )
    data["ci_text"] = _ci_text(result.ci_low, result.ci_high, result.confidence, lang)
    data["method_text"] = _method_text(result, lang)
    data["event_rows"] = [
        {
            "year": r.year,
            "relative_year": r.relative_year,
            "reference": r.reference,
            "text": _fmt(r.estimate, lang, digits=2, sign=True),
            "ci_text": "–"
            if r.reference
            else _ci_text(r.ci_low, r.ci_high, result.confidence, lang),
        }
        for r in result.event_study
    ]
    data["sentences"] = _sentences(result, ind=ind, lang=lang, official=official)
    data["source"] = DERIVED_SOURCE if official else ""
    return data


def _method_text(result: PanelDid, lang: str) -> str:
    groups = len(result.comparison_units) + 1
    texts = {
        "sampling": (
            "Regression med enhets- och årseffekter, viktad med värdenas urvalsvarians (från antal "
            "eller medelfel: binomial för andelar, Poisson för antal)",
            "Regression with unit and year effects, weighted by the values' sampling variance "
            "(from counts or standard errors: binomial for shares, Poisson for counts)",
        ),
        "cluster": (
            f"Regression med enhets- och årseffekter; klusterrobusta standardfel per enhet "
            f"({groups} enheter, t-fördelning med {groups - 1} frihetsgrader)",
            f"Regression with unit and year effects; cluster-robust standard errors by unit "
            f"({groups} units, t with {groups - 1} degrees of freedom)",
        ),
        "none": (
            "Regression med enhets- och årseffekter; osäkerheten kan inte anges (antal eller "
            "medelfel saknas och för få enheter)",
            "Regression with unit and year effects; the uncertainty cannot be stated (no counts or "
            "standard errors, and too few units)",
        ),
    }
    sv, en = texts[result.se_method]
    return sv if lang == "sv" else en


def _genitive_sv(name: str) -> str:
    # "Örebros", but "Västerås" and "Borås" take no further s
    return name if name[-1:].lower() in ("s", "x", "z") else name + "s"


def _sentences(
    result: PanelDid, *, ind: IndicatorDefinition, lang: str, official: bool
) -> list[str]:
    """Estimate, interval, what it shows and does not, and which assumption matters."""
    sv = lang == "sv"
    if result.estimate is None:
        return [
            "Effekten kan inte skattas: det behövs år både före och efter insatsens start och "
            "minst en jämförelseenhet."
            if sv
            else "The effect cannot be estimated: it needs years both before and after the "
            "start and at least one comparison unit."
        ]
    unit = _unit_label(ind.unit, lang, difference=True)
    est = _fmt(result.estimate, lang, digits=2, sign=True)
    t, k = result.treated_unit, len(result.comparison_units)
    pre = f"{result.pre_years[0]}–{result.pre_years[-1]}"
    post = f"{result.post_years[0]}–{result.post_years[-1]}"
    start = result.post_years[0]
    conf = f"{result.confidence:.0%}".replace("%", " %") if sv else f"{result.confidence:.0%}"
    out: list[str] = []
    if result.ci_low is not None and result.ci_high is not None:
        lo, hi = _fmt(result.ci_low, lang, digits=2), _fmt(result.ci_high, lang, digits=2)
        out.append(
            f"{t} jämfört med {k} jämförelseenheter: skillnad-i-skillnader {est} {unit} "
            f"({conf} konfidensintervall {lo} … {hi}), {post} mot {pre}."
            if sv
            else f"{t} against {k} comparison units: difference-in-differences {est} {unit} "
            f"({conf} confidence interval {lo} … {hi}), {post} against {pre}."
        )
        if result.ci_low <= 0 <= result.ci_high:
            out.append(
                "Intervallet innehåller noll: uppgifterna kan inte skilja effekten från ingen "
                "effekt alls."
                if sv
                else "The interval contains zero: the data cannot tell the effect from no effect "
                "at all."
            )
        else:
            out.append(
                "Intervallet innehåller inte noll." if sv else "The interval does not contain zero."
            )
    else:
        out.append(
            f"{t} jämfört med {k} jämförelseenheter: skillnad-i-skillnader {est} {unit}, {post} "
            f"mot {pre}; osäkerheten kan inte anges."
            if sv
            else f"{t} against {k} comparison units: difference-in-differences {est} {unit}, "
            f"{post} against {pre}; the uncertainty cannot be stated."
        )
    if result.placebo is not None:
        p = result.placebo
        out.append(
            f"Placebotest: när var och en av jämförelseenheterna i tur och ordning låtsas vara "
            f"behandlad är {_genitive_sv(t)} skattning nr {p.rank} av {p.units} till storleken "
            f"(permutations-p = {_fmt(p.p_value, lang, digits=2)})."
            if sv
            else f"Placebo test: with each comparison unit in turn pretending to be treated, "
            f"{t}'s estimate ranks {p.rank} of {p.units} by size (permutation p = "
            f"{_fmt(p.p_value, lang, digits=2)})."
        )
    shows_sv = (
        f"Skattningen visar hur mycket mer indikatorn ”{ind.name_sv}” förändrades i {t} än i "
        f"jämförelseenheterna från {start}. Den visar inte att insatsen orsakade skillnaden: "
        f"annat som hände samtidigt bara i {t} kan förklara den"
    )
    shows_en = (
        f"The estimate shows how much more the indicator “{ind.name_en}” changed in {t} than in the "
        f"comparison units from {start}. It does not show that the intervention caused the "
        f"difference: anything else that happened at the same time in {t} alone can explain it"
    )
    if official:
        shows_sv += (
            ", och kommunens siffra gäller fler än insatsens målgrupp, så en effekt av insatsen "
            "späds ut i den."
        )
        shows_en += (
            ", and the municipality's figure covers more people than the intervention reaches, "
            "so an effect of the intervention is diluted in it."
        )
    else:
        shows_sv += "."
        shows_en += "."
    out.append(shows_sv if sv else shows_en)
    trend = result.pre_trend
    if trend is not None and trend.bound is not None:
        slope = _fmt(trend.slope, lang, digits=2, sign=True)
        bound = _fmt(trend.bound, lang, digits=2)
        years = f"{trend.years[0]}–{trend.years[-1]}"
        out.append(
            f"Antagandet som bär skattningen är parallella trender: {years} skilde sig trenden i "
            f"{t} från jämförelseenheternas med {slope} {unit} per år ({conf} KI "
            f"{_fmt(trend.ci_low, lang, digits=2)} … {_fmt(trend.ci_high, lang, digits=2)}), "
            f"dvs. trenderna före {start} var parallella inom ±{bound} {unit} per år."
            if sv
            else f"The assumption the estimate rests on is parallel trends: in {years} the trend "
            f"in {t} differed from the comparison units' by {slope} {unit} a year ({conf} CI "
            f"{_fmt(trend.ci_low, lang, digits=2)} … {_fmt(trend.ci_high, lang, digits=2)}), so "
            f"the trends before {start} were parallel within ±{bound} {unit} a year."
        )
        if (
            trend.ci_low is not None
            and trend.ci_high is not None
            and (trend.ci_low > 0 or trend.ci_high < 0)
        ):
            out.append(
                "Trenderna skilde sig redan före starten (intervallet innehåller inte noll): "
                "skattningen kan spegla olika trender snarare än insatsen."
                if sv
                else "The trends already differed before the start (the interval does not "
                "contain zero): the estimate may reflect different trends rather than the "
                "intervention."
            )
    else:
        out.append(
            "Antagandet som bär skattningen är parallella trender; med bara ett år före insatsen "
            "går det inte att pröva."
            if sv
            else "The assumption the estimate rests on is parallel trends; with only one year "
            "before the intervention it cannot be checked."
        )
    return out


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
    return [_indicator_section(loan=loan, row=row, lang=lang) for row in rows]


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
                "indicators": [_indicator_section(loan=loan, row=row, lang=lang) for row in items],
            }
            for ref, (loan, items) in zip(loan_refs, rows, strict=True)
            if items
        ]
    return out


#: Where a figure the borrower reported comes from, in the report's evaluation section.
_REPORTED_SOURCE = {"sv": "Låntagarens rapportering", "en": "The borrower's reports"}


def evaluation_summary(
    comparison: dict[str, list[dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """The bond report's short evaluation section, per language: for each loan with a comparison,
    one row per estimate (the loan's own comparison units, and the municipality against similar
    municipalities on Kolada's figures) with estimate, interval, method and data source.

    ``comparison`` is what :func:`comparison_by_language` returns; nothing is read again.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for lang, loans in comparison.items():
        sv = lang == "sv"
        rows_by_loan = []
        for loan in loans:
            rows = []
            for item in loan["indicators"]:
                for c in item["comparisons"]:
                    model, multi = c.get("model"), c.get("did_multi")
                    if not model or not multi or multi["estimate"] is None:
                        continue
                    if c["unit"] == _MEAN_UNIT or _from_kolada_only(item, c["unit"]):
                        continue  # the municipalities are summed up in the official row
                    rows.append(
                        {
                            "indicator": item["name"],
                            "compared_with": c["unit"],
                            # the regression's own estimate: the interval is centred on it
                            "estimate": _plain(model["estimate"]),
                            "estimate_text": model["estimate_text"],
                            "ci_low": _plain(model["ci_low"]),
                            "ci_high": _plain(model["ci_high"]),
                            "ci_text": model["ci_text"],
                            "method": model["method_text"],
                            "source": _REPORTED_SOURCE[lang],
                        }
                    )
                official = item.get("official")
                if official and official["estimate"] is not None:
                    k = len(official["comparison_units"])
                    rows.append(
                        {
                            "indicator": item["name"],
                            "compared_with": (
                                f"{official['treated_unit']} mot {k} liknande kommuner"
                                if sv
                                else f"{official['treated_unit']} against {k} similar "
                                "municipalities"
                            ),
                            "estimate": _plain(official["estimate"]),
                            "estimate_text": official["estimate_text"],
                            "ci_low": _plain(official["ci_low"]),
                            "ci_high": _plain(official["ci_high"]),
                            "ci_text": official["ci_text"],
                            "method": official["method_text"],
                            "source": DERIVED_SOURCE,
                        }
                    )
            if rows:
                rows_by_loan.append(
                    {"loan_ref": loan["loan_ref"], "title": loan["title"], "rows": rows}
                )
        out[lang] = rows_by_loan
    return out


def _plain(x: float | None) -> str | None:
    # the report's JSON carries no binary floats: a fixed-decimal string, as its indicator values
    return None if x is None else format(x, ".4f")


def _from_kolada_only(item: dict[str, Any], unit: str) -> bool:
    return bool(item.get("official")) and unit in (
        item["official"]["comparison_units"] + [item["official"]["treated_unit"]]
    )


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


def _mde_texts(key: str, lang: str, **f: Any) -> tuple[str, str]:
    texts = {
        "no_history": (
            "Koladas historik för kommunen och liknande kommuner är inte hämtad: använd "
            "”Hämta från Kolada” (med jämförelse mot liknande kommuner) för att se den minsta "
            "effekt en utvärdering kan upptäcka.",
            "Kolada's history for the municipality and similar municipalities has not been "
            "fetched: use “Fetch from Kolada” (compared with similar municipalities) to see the "
            "smallest effect an evaluation could detect.",
        ),
        "no_baseline": (
            "Indikatorn har inget utgångsår, så för- och efterperioden kan inte bestämmas.",
            "The indicator has no baseline year, so the periods before and after cannot be set.",
        ),
        "no_follow_up": (
            "Ansökan anger inget uppföljningsår efter utgångsåret.",
            "The application states no follow-up year after the baseline year.",
        ),
        "too_little": (
            "För lite historik (minst två år och två kommuner behövs) för att skatta variationen.",
            "Too little history (at least two years and two municipalities) to estimate the "
            "variation.",
        ),
        "mde": (
            "Minsta upptäckbara förändring: {mde} {unit} ({power} styrka vid {alpha} "
            "signifikans, {post} uppföljningsår mot {pre} år före, {muni} mot {k} liknande "
            "kommuner; variation kring trenden {sd} {unit}).",
            "Smallest detectable change: {mde} {unit} ({power} power at {alpha} significance, "
            "{post} follow-up years against {pre} years before, {muni} against {k} similar "
            "municipalities; variation around the trend {sd} {unit}).",
        ),
        "below": (
            "Ert mål {target} {unit} är mindre än den minsta upptäckbara förändringen "
            "({signed}): överväg ett större område, en längre uppföljning eller en annan "
            "indikator.",
            "Your target {target} {unit} is below the smallest detectable change ({signed}): "
            "consider a larger area, a longer follow-up or another indicator.",
        ),
        "above": (
            "Ert mål {target} {unit} är större än den minsta upptäckbara förändringen "
            "({signed}): en utvärdering mot liknande kommuner kan visa det om det nås.",
            "Your target {target} {unit} is above the smallest detectable change ({signed}): an "
            "evaluation against similar municipalities could show it if it is reached.",
        ),
        "caveat": (
            "Beräknad med oberoende fel mellan åren; samvarierar åren är den verkliga gränsen "
            "högre. Avser kommunens siffra i Kolada, där insatsens målgrupp är en del.",
            "Computed with errors independent across years; if years move together the real "
            "limit is higher. It concerns the municipality's figure in Kolada, of which the "
            "intervention's target group is a part.",
        ),
    }
    sv, en = texts[key]
    return sv.format(**f), en.format(**f)


def _percent(share: float, lang: str) -> str:
    # "80 %" in Swedish, "80%" in English
    text = f"{share:.0%}"
    return text.replace("%", " %") if lang == "sv" else text


def _mde_item(
    li: LoanIndicator,
    ind: IndicatorDefinition,
    row: _Compared | None,
    follow_up: int | None,
    *,
    lang: str,
    alpha: float,
    power: float,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": ind.code,
        "name": ind.name_sv if lang == "sv" else ind.name_en,
        "kpi": ind.kolada_kpi,
        "unit_label": _unit_label(ind.unit, lang, difference=True),
        "baseline_year": li.baseline_year,
        "follow_up_until_year": follow_up,
        "available": False,
        "mde": None,
        "target_change": None,
        "detectable": None,
        "notes": [],
    }

    def missing(key: str) -> dict[str, Any]:
        sv, en = _mde_texts(key, lang)
        return base | {"message": sv if lang == "sv" else en, "message_sv": sv, "message_en": en}

    if li.baseline_year is None:
        return missing("no_baseline")
    end = follow_up or li.target_year
    if end is None or end <= li.baseline_year:
        return missing("no_follow_up")
    if row is None or not row.municipality:
        return missing("no_history")
    name, by_group = row.municipality, row.by_group
    history = {y: p for y, p in by_group.get(name, {}).items() if y <= li.baseline_year}
    for y, p in by_group.get("", {}).items():
        if p.source == "kolada" and y <= li.baseline_year:
            history.setdefault(y, p)
    others = [
        g
        for g, values in sorted(by_group.items())
        if g not in ("", name, _MEAN_UNIT)
        and values
        and all(p.source == "kolada" for p in values.values())
    ]
    obs = [Observation(name, y, float(p.value)) for y, p in history.items()]
    obs += [
        Observation(g, y, float(p.value))
        for g in others
        for y, p in by_group[g].items()
        if y in history
    ]
    if not others or not history:
        return missing("no_history")
    spread = residual_spread(obs)
    if spread is None:
        return missing("too_little")
    pre = len(spread.years)
    post = end - li.baseline_year
    mde = mde_did(
        residual_sd=spread.sd,
        pre_years=pre,
        post_years=post,
        comparison_units=spread.units - 1,
        alpha=alpha,
        power=power,
    )

    def texts(key: str, **f: Any) -> tuple[str, str]:
        # each language with its own numbers: decimal comma and true minus in Swedish
        sv = _mde_texts(key, "sv", **{k: v("sv") if callable(v) else v for k, v in f.items()})[0]
        en = _mde_texts(key, "en", **{k: v("en") if callable(v) else v for k, v in f.items()})[1]
        return sv, en

    def unit(lg: str) -> str:
        return _unit_label(ind.unit, lg, difference=True)

    mde_sv, mde_en = texts(
        "mde",
        mde=lambda lg: _fmt(mde, lg, digits=2),
        unit=unit,
        power=lambda lg: _percent(power, lg),
        alpha=lambda lg: _percent(alpha, lg),
        post=post,
        pre=pre,
        muni=name,
        k=spread.units - 1,
        sd=lambda lg: _fmt(spread.sd, lg, digits=2),
    )
    caveat_sv, caveat_en = _mde_texts("caveat", lang)
    notes = [_warning_dict("mde_assumptions", caveat_sv, caveat_en, lang)]
    target_change: float | None = None
    detectable: bool | None = None
    verdict_sv = verdict_en = ""
    if li.target_value is not None and li.baseline_value is not None:
        target_change = float(li.target_value - li.baseline_value)
        detectable = abs(target_change) >= mde
        signed = -mde if target_change < 0 else mde
        verdict_sv, verdict_en = texts(
            "above" if detectable else "below",
            target=lambda lg: _fmt(target_change, lg, digits=2, sign=True),
            unit=unit,
            signed=lambda lg: _fmt(signed, lg, digits=2, sign=True),
        )
    message_sv = (verdict_sv + " " if verdict_sv else "") + mde_sv
    message_en = (verdict_en + " " if verdict_en else "") + mde_en
    unit_label = unit(lang)
    return base | {
        "available": True,
        "mde": mde,
        "mde_text": f"{_fmt(mde, lang, digits=2)} {unit_label}",
        "residual_sd": spread.sd,
        "pre_years": list(spread.years),
        "post_years": post,
        "municipality": name,
        "comparison_units": others,
        "target_change": target_change,
        "detectable": detectable,
        "message": message_sv if lang == "sv" else message_en,
        "message_sv": message_sv,
        "message_en": message_en,
        "notes": notes,
    }


def mde_panel(
    session: Session,
    *,
    loan_ref: str,
    lang: str = "sv",
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """For each outcome indicator with a Kolada mapping: the smallest effect a DiD of the
    municipality against its similar municipalities could detect over the planned follow-up,
    from their official history up to the baseline year, beside the borrower's target.

    Raises ``LoanNotFound`` for an unknown reference.
    """
    lang = _lang(lang)
    loan = _loan_or_raise(session, loan_ref)
    follow_up = loan.follow_up_until_year
    mapped = [
        (li, ind)
        for li, ind in loan_indicator_rows(session, loan.id or 0)
        if ind.kolada_kpi and ind.kind == "outcome"
    ]
    rows = {row.ind.code: row for row in _compared_rows(session, [loan_ref])[0][1]}
    items = [
        _mde_item(li, ind, rows.get(ind.code), follow_up, lang=lang, alpha=alpha, power=power)
        for li, ind in mapped
    ]
    title = {
        "sv": "Minsta upptäckbara effekt mot liknande kommuner (Kolada)",
        "en": "Smallest detectable effect against similar municipalities (Kolada)",
    }[lang]
    return {
        "loan_ref": loan.reference,
        "title": title,
        "alpha": alpha,
        "power": power,
        "items": items,
        "available": any(i["available"] for i in items),
        "source": DERIVED_SOURCE,
        "labels": labels(lang),
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
        "mde": mde_panel(session, loan_ref=loan_ref, lang=lang),
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
