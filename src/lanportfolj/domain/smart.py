"""SMART hints for an application's goals: concrete, fixable advice in Swedish and English.

The seed recommends goals written to the SMART criteria (Specific, Measurable, Accepted, Realistic,
Time-bound). Each hint names the goal ("Mål 2 saknar målår" / "Goal 2 has no target year") and the
letter it concerns. What is checked:

* Specific — the goal has text; the text is not very short (fewer than ``MIN_WORDS`` words); and it
  mentions a number or at least one word naming a group or a place (children, tenants, school,
  district …). This is a modest heuristic from word stems, meant to prompt, never to judge: it
  cannot tell a clear goal from a vague one that happens to say "children".
* Measurable — the goal is measured by an indicator that exists on the loan, has a numeric target
  (the goal's own or its indicators'), and each indicator has a baseline (value and year).
* Time-bound — a target year exists and lies between the application year and the loan's maturity,
  and not before the indicator's baseline year.
* Realistic — given the indicators' better directions, the target lies on the better side of the
  baseline (a decrease target on an increase indicator is flagged), and is not equal to it.
* Accepted — whether the goal is shared by those who carry it out cannot be read from the
  application; no hint is given.

Target values and years follow the eligibility rule E6: the goal's own, else its indicators'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal

from lanportfolj.domain.case import Case, GoalCase, IndicatorUse

#: A goal text shorter than this many words gets a "be more specific" hint.
MIN_WORDS = 5

#: Word stems that name a target group or a place (Swedish and English, lower case). Matched as
#: substrings, so "barn" also covers "barnfamiljer" and "school" covers "schools".
GROUP_OR_PLACE_STEMS: tuple[str, ...] = (
    # Swedish: groups
    "barn", "unga", "ungdom", "elev", "famil", "föräld", "hyresgäst", "boende", "invånare",
    "kvinn", "flick", "pojk", "äldre", "person", "deltagare", "nyanländ", "arbetslös",
    "hushåll", "patient", "brukare", "studerande", "pensionär", "medborgare",
    # Swedish: places
    "skola", "skolor", "förskol", "område", "stadsdel", "kommun", "förort", "kvarter", "bostad",
    "bostäder", "lägenhet", "fastighet", "centrum", "region",
    # English: groups
    "child", "youth", "young", "pupil", "student", "parent", "tenant", "resident", "women",
    "girl", "boy", "elderly", "older", "people", "participant", "household", "patient",
    "newly arrived", "unemployed", "citizen",
    # English: places
    "school", "district", "neighbourhood", "neighborhood", "area", "municipal", "suburb",
    "estate", "dwelling", "apartment", "flat", "town", "village",
)  # fmt: skip

_NUMBER = re.compile(r"\d|%|procent|percent")


@dataclass(frozen=True)
class Hint:
    """One piece of SMART advice.

    ``goal_index`` is the 0-based position in ``case.goals`` (None for the application as a whole);
    the messages number goals from 1, as the application form does.
    """

    goal_index: int | None
    code: str
    message_sv: str
    message_en: str
    #: The SMART letter concerned: "S", "M", "A", "R" or "T".
    criterion: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return asdict(self)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _specific(index: int, goal: GoalCase) -> list[Hint]:
    n = index + 1
    text = " ".join(goal.text.split())
    if not text:
        return [Hint(index, "goal_no_text", f"Mål {n} saknar text.", f"Goal {n} has no text.", "S")]
    if len(text.split()) < MIN_WORDS:
        return [
            Hint(
                index,
                "goal_text_short",
                f"Mål {n} är mycket kort: beskriv vad som ska förändras, för vilka och var.",
                f"Goal {n} is very short: say what should change, for whom and where.",
                "S",
            )
        ]
    lowered = text.lower()
    if not _NUMBER.search(lowered) and not any(stem in lowered for stem in GROUP_OR_PLACE_STEMS):
        return [
            Hint(
                index,
                "goal_text_vague",
                f"Mål {n} nämner varken en siffra, en målgrupp eller en plats: gör det mer "
                f"specifikt.",
                f"Goal {n} names no number, target group or place: make it more specific.",
                "S",
            )
        ]
    return []


def _target_years(goal: GoalCase, used: list[IndicatorUse]) -> list[int]:
    # Same rule as E6: the goal's own year, else its indicators' years.
    if goal.target_year is not None:
        return [goal.target_year]
    return sorted({ind.target_year for ind in used if ind.target_year is not None})


def _measurable(index: int, goal: GoalCase, by_code: Mapping[str, IndicatorUse]) -> list[Hint]:
    n = index + 1
    hints: list[Hint] = []
    codes = [code.strip() for code in goal.indicator_codes if code.strip()]
    if not codes:
        hints.append(
            Hint(
                index,
                "goal_no_indicator",
                f"Mål {n} mäts inte av någon indikator: koppla minst en.",
                f"Goal {n} is not measured by any indicator: link at least one.",
                "M",
            )
        )
    for code in codes:
        if code not in by_code:
            hints.append(
                Hint(
                    index,
                    "goal_unknown_indicator",
                    f"Mål {n} hänvisar till indikatorn {code}, som inte finns på lånet.",
                    f"Goal {n} refers to indicator {code}, which is not on the loan.",
                    "M",
                )
            )
    used = [by_code[code] for code in codes if code in by_code]
    if goal.target_value is None and not any(ind.target_value is not None for ind in used):
        hints.append(
            Hint(
                index,
                "goal_no_target_value",
                f"Mål {n} saknar ett numeriskt målvärde.",
                f"Goal {n} has no numeric target value.",
                "M",
            )
        )
    for ind in used:
        if ind.baseline_value is None or ind.baseline_year is None:
            hints.append(
                Hint(
                    index,
                    "indicator_no_baseline",
                    f"Mål {n}: indikatorn {ind.name_sv or ind.code} saknar utgångsvärde (värde "
                    f"och år), så förändringen kan inte mätas.",
                    f"Goal {n}: indicator {ind.name_en or ind.code} has no baseline (value and year), so the "
                    f"change cannot be measured.",
                    "M",
                )
            )
    return hints


def _time_bound(
    index: int,
    goal: GoalCase,
    used: list[IndicatorUse],
    application_year: int | None,
    maturity_year: int | None,
) -> list[Hint]:
    n = index + 1
    years = _target_years(goal, used)
    if not years:
        return [
            Hint(
                index,
                "goal_no_target_year",
                f"Mål {n} saknar målår.",
                f"Goal {n} has no target year.",
                "T",
            )
        ]
    hints: list[Hint] = []
    for year in years:
        if application_year is not None and year < application_year:
            hints.append(
                Hint(
                    index,
                    "target_before_application",
                    f"Mål {n}: målåret {year} ligger före ansökningsåret {application_year}.",
                    f"Goal {n}: the target year {year} is before the application year "
                    f"{application_year}.",
                    "T",
                )
            )
        if maturity_year is not None and year > maturity_year:
            hints.append(
                Hint(
                    index,
                    "target_after_maturity",
                    f"Mål {n}: målåret {year} ligger efter lånets förfall {maturity_year}; "
                    f"välj ett mål som kan nås under lånetiden.",
                    f"Goal {n}: the target year {year} is after the loan matures in "
                    f"{maturity_year}; choose a target reachable within the loan term.",
                    "T",
                )
            )
    for ind in used:
        ind_year = goal.target_year if goal.target_year is not None else ind.target_year
        if ind_year is not None and ind.baseline_year is not None and ind_year < ind.baseline_year:
            hints.append(
                Hint(
                    index,
                    "target_before_baseline",
                    f"Mål {n}: målåret {ind_year} ligger före utgångsvärdets år {ind.baseline_year} för "
                    f"{ind.name_sv or ind.code}.",
                    f"Goal {n}: the target year {ind_year} is before the baseline year "
                    f"{ind.baseline_year} of {ind.name_en or ind.code}.",
                    "T",
                )
            )
    return hints


def _realistic(
    index: int, goal: GoalCase, used: list[IndicatorUse], directions: Mapping[str, str]
) -> list[Hint]:
    n = index + 1
    hints: list[Hint] = []
    for ind in used:
        direction = directions.get(ind.code)
        target = ind.target_value
        if target is None and len(used) == 1:
            # A goal-level target only speaks for its indicator when there is just one.
            target = goal.target_value
        if direction not in ("increase", "decrease") or target is None:
            continue
        base = ind.baseline_value
        if base is None:
            continue
        if target == base:
            hints.append(
                Hint(
                    index,
                    "target_equals_baseline",
                    f"Mål {n}: målvärdet för {ind.name_sv or ind.code} är detsamma som utgångsvärdet "
                    f"({_fmt(base)}); vilken förändring eftersträvas?",
                    f"Goal {n}: the target for {ind.name_en or ind.code} equals its baseline ({_fmt(base)}); "
                    f"what change is sought?",
                    "R",
                )
            )
        elif (target < base) != (direction == "decrease"):
            better_sv = "högre" if direction == "increase" else "lägre"
            better_en = "higher" if direction == "increase" else "lower"
            hints.append(
                Hint(
                    index,
                    "target_against_direction",
                    f"Mål {n}: för {ind.name_sv or ind.code} är ett {better_sv} värde bättre, men målvärdet "
                    f"{_fmt(target)} ligger på fel sida om utgångsvärdet {_fmt(base)}.",
                    f"Goal {n}: for {ind.name_en or ind.code} a {better_en} value is better, but the target "
                    f"{_fmt(target)} lies on the wrong side of the baseline {_fmt(base)}.",
                    "R",
                )
            )
    return hints


def smart_hints(case: Case, directions: Mapping[str, str] | None = None) -> list[Hint]:
    """Every SMART hint for the case's goals, goal by goal, in the order S, M, T, R.

    ``directions`` maps indicator codes to their better direction (``"increase"`` or
    ``"decrease"``, from the indicator library); without it the Realistic check is skipped.
    """
    if not case.goals:
        return [
            Hint(
                None,
                "no_goals",
                "Ansökan har inga mål: formulera minst ett mål med indikator, målvärde och målår.",
                "The application has no goals: state at least one goal with an indicator, a "
                "target value and a target year.",
                "S",
            )
        ]
    by_code = {ind.code: ind for ind in case.indicators}
    application_year = case.application_date.year if case.application_date else None
    maturity_year = case.maturity_date.year if case.maturity_date else None
    hints: list[Hint] = []
    for index, goal in enumerate(case.goals):
        used = [by_code[c.strip()] for c in goal.indicator_codes if c.strip() in by_code]
        hints += _specific(index, goal)
        hints += _measurable(index, goal, by_code)
        hints += _time_bound(index, goal, used, application_year, maturity_year)
        hints += _realistic(index, goal, used, directions or {})
    return hints
