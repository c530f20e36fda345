"""Fetch a loan's Kolada key figures and bring them in through the ordinary import path.

Two steps, so that a person stays in charge:

1. :func:`plan_fetch` reads the loan's indicators that map to Kolada, fetches them for the borrower's
   municipality (and comparison municipalities) and compares each value with what is already stored. The
   result is a side-by-side list: ``new`` (nothing stored yet), ``same``, or ``different``.
2. :func:`import_plan` sends the ``new`` values, and only those ``different`` ones a person accepted, through
   :func:`lanportfolj.services.measurements.import_file` with source ``kolada``, so validation, versions
   and audit are exactly those of a borrower's file. A stored value is never overwritten silently.

Where the values go: the borrower's municipality feeds the loan's own series (group ``""``), except for
indicators the borrower computes from its own counts (a ratio with numerator and denominator), where the
municipality's published share is a comparison, not the project's value; it then becomes a comparison unit
named after the municipality. Comparison municipalities are comparison units named after themselves, and
their mean is the unit ``Liknande kommuner (medel)`` — derived by this system, so its comment says "Egen
bearbetning av data från Kolada", never "Källa: Kolada".
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain.identifiers import Problem, shown, year_span_problem
from lanportfolj.ingest.inert import inert_text
from lanportfolj.kolada.client import (
    SOURCE_LINE,
    SOURCE_LINE_EN,
    KoladaClient,
    KoladaError,
    KoladaIssue,
    KoladaValue,
    MunicipalityGroup,
    issue,
    load_expected_titles,
    normalise_title,
)
from lanportfolj.models import Borrower, IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.services.measurements import ImportResult, import_file

MEAN_UNIT = "Liknande kommuner (medel)"
SOURCE = "kolada"
DEFAULT_FIRST_YEAR = 2018
DEFAULT_AREA = "övergripande"
_YEARS_RE = re.compile(r"^\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*$")


def source_comment(fetched: date) -> str:
    """The comment every value taken straight from Kolada carries."""
    return f"{SOURCE_LINE}, hämtad {fetched.isoformat()}"


def derived_comment(fetched: date, members: int) -> str:
    """The comment of a value this system computed from Kolada's (never labelled as Kolada's own)."""
    return (
        f"Egen bearbetning av data från Kolada: medel av {members} kommuner, "
        f"hämtad {fetched.isoformat()}"
    )


def parse_years(text: str | None, *, current_year: int) -> range:
    """``2018-2025`` (or ``2024``) as a range of years; None gives 2018 up to ``current_year``."""
    if not text:
        return range(DEFAULT_FIRST_YEAR, current_year + 1)
    match = _YEARS_RE.match(text)
    if not match:
        raise ValueError(f"years must look like 2018-2025, not {text!r}")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if last < first:
        raise ValueError(f"the years {text!r} run backwards")
    problem = year_span_problem(first, last)
    if problem is not None:
        raise YearSpanError(problem)
    return range(first, last + 1)


class YearSpanError(ValueError):
    """More years asked for than one fetch may span (``MAX_KOLADA_YEARS``); the reason in both languages."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message_en)
        self.problem = problem


@dataclass(frozen=True)
class CompareChoice:
    """Which comparison municipalities: Kolada's similar-municipalities group for an area, or codes."""

    similar_area: str | None = None
    codes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> CompareChoice | None:
        """``similar``, ``similar:grundskola`` or ``0126,0136``; None or empty for no comparison."""
        if not text or not text.strip():
            return None
        text = text.strip()
        if text == "similar" or text.startswith("similar:"):
            area = text.partition(":")[2].strip() or DEFAULT_AREA
            return cls(similar_area=area)
        codes = tuple(c.strip() for c in text.split(",") if c.strip())
        # the codes become part of Kolada's URL path: only ids such as 0126 or G33998 may pass
        bad = [c for c in codes if not c.isascii() or not c.isalnum()]
        if bad:
            raise ValueError(
                f"compare: 'similar' or municipality codes such as 0126, not {shown(bad[0])!r}"
            )
        return cls(codes=codes)

    def text(self) -> str:
        return f"similar:{self.similar_area}" if self.similar_area else ",".join(self.codes)


@dataclass(frozen=True)
class Proposal:
    """One Kolada value for a loan indicator, unit and year, next to what is stored."""

    indicator: str
    kpi: str
    municipality: str
    unit: str
    year: int
    value: Decimal
    fetched: date
    from_cache: bool
    derived: bool = False
    members: int = 0
    existing: Decimal | None = None
    existing_source: str | None = None
    #: A year before the loan's baseline: official history of a municipality, never the loan's own.
    history: bool = False

    @property
    def key(self) -> str:
        """How a person's acceptance names this value: ``indicator|unit|year``."""
        return f"{self.indicator}|{self.unit}|{self.year}"

    @property
    def status(self) -> str:
        """``new`` (nothing stored), ``same`` or ``different``."""
        if self.existing is None:
            return "new"
        return "same" if self.existing == self.value else "different"

    @property
    def comment(self) -> str:
        if self.derived:
            return derived_comment(self.fetched, self.members)
        return source_comment(self.fetched)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "indicator": self.indicator,
            "kpi": self.kpi,
            "municipality": self.municipality,
            "unit": self.unit,
            "year": self.year,
            "kolada_value": format(self.value, "f"),
            "existing_value": None if self.existing is None else format(self.existing, "f"),
            "existing_source": self.existing_source,
            "status": self.status,
            "derived": self.derived,
            "fetched": self.fetched.isoformat(),
            "from_cache": self.from_cache,
            "comment": self.comment,
            "history": self.history,
        }


@dataclass
class KoladaPlan:
    """What a fetch found for one loan: the values side by side, and every problem met."""

    loan: str
    municipality: str
    municipality_name: str
    years: range
    proposals: list[Proposal] = field(default_factory=list)
    issues: list[KoladaIssue] = field(default_factory=list)
    comparison_units: list[str] = field(default_factory=list)
    group_title: str | None = None

    def of_status(self, status: str) -> list[Proposal]:
        return [p for p in self.proposals if p.status == status]

    @property
    def fetched_dates(self) -> list[date]:
        """The distinct dates the values were fetched (several when some came from the cache)."""
        return sorted({p.fetched for p in self.proposals})

    @property
    def from_cache(self) -> bool:
        return any(p.from_cache for p in self.proposals)

    def source_line(self, lang: str = "sv") -> str:
        """``Källa: Kolada, hämtad …`` (with the cache noted), to show wherever these values are shown."""
        dates = ", ".join(d.isoformat() for d in self.fetched_dates)
        if lang == "sv":
            line = SOURCE_LINE + (f", hämtad {dates}" if dates else "")
            if self.from_cache:
                line += " (sparade svar; Kolada kunde inte nås eller svaren återanvändes)"
            return line
        line = SOURCE_LINE + f" ({SOURCE_LINE_EN}" + (f", fetched {dates})" if dates else ")")
        if self.from_cache:
            line += " (cached responses; Kolada was unreachable or the responses were reused)"
        return line

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "loan": self.loan,
            "municipality": self.municipality,
            "municipality_name": self.municipality_name,
            "years": [self.years.start, self.years.stop - 1],
            "source": self.source_line(lang),
            "from_cache": self.from_cache,
            "comparison_units": self.comparison_units,
            "group_title": self.group_title,
            "counts": {s: len(self.of_status(s)) for s in ("new", "same", "different")},
            "values": [p.to_dict() for p in self.proposals],
            "issues": [i.to_dict(lang) for i in self.issues],
        }


@dataclass(frozen=True)
class _Mapped:
    loan_indicator_id: int
    code: str
    kpi: str
    gender: str
    level: str
    own_counts: bool
    baseline_year: int | None


def _mapped_indicators(session: Session, loan_id: int) -> list[_Mapped]:
    stmt = (
        select(LoanIndicator, IndicatorDefinition)
        .join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
        .where(LoanIndicator.loan_id == loan_id, col(IndicatorDefinition.kolada_kpi).is_not(None))
        .order_by(col(IndicatorDefinition.code))
    )
    out = []
    for li, ind in session.exec(stmt).all():
        assert li.id is not None and ind.kolada_kpi is not None
        out.append(
            _Mapped(
                loan_indicator_id=li.id,
                code=ind.code,
                kpi=ind.kolada_kpi,
                gender=ind.kolada_gender or "T",
                level=ind.kolada_level or "municipality",
                own_counts=bool(ind.numerator and ind.denominator),
                baseline_year=li.baseline_year,
            )
        )
    return out


def _current_values(
    session: Session, li_ids: Iterable[int]
) -> dict[tuple[int, str, int], tuple[Decimal, str]]:
    ids = sorted(set(li_ids))
    if not ids:
        return {}
    stmt = select(
        Measurement.loan_indicator_id,
        Measurement.group_name,
        Measurement.year,
        Measurement.value,
        Measurement.source,
    ).where(col(Measurement.is_current), col(Measurement.loan_indicator_id).in_(ids))
    return {(li, g, y): (v, s) for li, g, y, v, s in session.exec(stmt).all()}


def _pick_group(groups: list[MunicipalityGroup], name: str, area: str) -> MunicipalityGroup | None:
    """The newest "Liknande kommuner" group for ``area`` and the municipality ``name``."""
    wanted_area, wanted_name = normalise_title(area), normalise_title(name)
    candidates = []
    for group in groups:
        title = normalise_title(group.title)
        words = title.split()
        if "liknande kommuner" in title and wanted_area in title and wanted_name in words:
            year = max((int(w) for w in words if re.fullmatch(r"\d{4}", w)), default=0)
            candidates.append((year, group.id, group))
    return max(candidates)[2] if candidates else None


def _mean(values: list[Decimal]) -> Decimal:
    places = max(max(-v.as_tuple().exponent, 0) for v in values)  # type: ignore[operator]
    mean = sum(values, Decimal(0)) / Decimal(len(values))
    return mean.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def plan_fetch(
    *,
    session: Session,
    client: KoladaClient,
    loan_reference: str,
    years: range,
    compare: CompareChoice | None = None,
    current_year: int | None = None,
    expected_titles: dict[str, str] | None = None,
) -> KoladaPlan:
    """Fetch the loan's mapped indicators for its borrower's municipality and compare with stored values.

    Raises :class:`KoladaError` when the fetch as a whole cannot be done (unknown loan or municipality,
    Kolada unreachable with nothing cached, a malformed response); nothing is stored then. Problems that
    concern one KPI or one comparison municipality are listed in ``plan.issues`` and the rest goes on.
    """
    this_year = current_year or date.today().year
    loan = session.exec(select(Loan).where(Loan.reference == loan_reference)).first()
    if loan is None or loan.id is None:
        raise KoladaError(
            KoladaIssue(
                "unknown-loan",
                f"Lånet {loan_reference} finns inte.",
                f"There is no loan {loan_reference}.",
            )
        )
    borrower = session.get(Borrower, loan.borrower_id)
    code = borrower.municipality_code if borrower else None
    if not code:
        raise KoladaError(
            KoladaIssue(
                "no-municipality",
                f"Låntagaren för {loan_reference} har ingen kommunkod; Kolada kan inte frågas.",
                f"The borrower of {loan_reference} has no municipality code; Kolada cannot be asked.",
            )
        )
    titles = load_expected_titles() if expected_titles is None else expected_titles
    known = client.municipalities([code])
    if code not in known:
        raise KoladaError(
            issue(
                "unknown-municipality",
                "Kolada känner inte till kommunkoden.",
                "Kolada does not know this municipality code.",
                municipality=code,
            )
        )
    plan = KoladaPlan(loan_reference, code, known[code].title, years)
    mapped = _mapped_indicators(session, loan.id)
    if not mapped:
        plan.issues.append(
            KoladaIssue(
                "no-mapped-indicators",
                f"{loan_reference} har inga indikatorer med en Kolada-koppling.",
                f"{loan_reference} has no indicators mapped to Kolada.",
            )
        )
        return plan

    usable: list[_Mapped] = []
    for m in mapped:
        if m.level != "municipality":
            plan.issues.append(
                issue(
                    "unit-level",
                    f"{m.code} redovisas per skolenhet; ange enheternas id för att hämta dem.",
                    f"{m.code} is published per school unit; unit ids are needed to fetch it.",
                    kpi=m.kpi,
                )
            )
        else:
            usable.append(m)
    metas = client.kpis({m.kpi for m in usable})
    refused: set[str] = set()
    for kpi in sorted({m.kpi for m in usable}):
        problem = client.check_title(metas.get(kpi), titles.get(kpi), kpi=kpi)
        if problem is not None:
            plan.issues.append(problem)
            refused.add(kpi)
    usable = [m for m in usable if m.kpi not in refused]

    names = {code: plan.municipality_name}
    compare_codes: list[str] = []
    if compare is not None and compare.similar_area:
        group = _pick_group(
            client.municipality_groups(plan.municipality_name),
            plan.municipality_name,
            compare.similar_area,
        )
        if group is None:
            plan.issues.append(
                issue(
                    "no-similar-group",
                    f"ingen grupp ”Liknande kommuner, {compare.similar_area}” hittades.",
                    f"no group “Liknande kommuner, {compare.similar_area}” was found.",
                    municipality=code,
                )
            )
        else:
            plan.group_title = group.title
            for member, title in group.members:
                if member != code:
                    compare_codes.append(member)
                    names[member] = title
    elif compare is not None:
        wanted = [c for c in compare.codes if c != code]
        found = client.municipalities(wanted) if wanted else {}
        for c in wanted:
            if c in found:
                compare_codes.append(c)
                names[c] = found[c].title
            else:
                plan.issues.append(
                    issue(
                        "unknown-municipality",
                        "Kolada känner inte till kommunkoden; den jämförs inte.",
                        "Kolada does not know this municipality code; it is left out.",
                        municipality=c,
                    )
                )
    if not usable:
        return plan

    values: list[KoladaValue] = client.data(
        kpis=sorted({m.kpi for m in usable}),
        municipalities=[code, *compare_codes],
        years=list(years),
    )
    by_key: dict[tuple[str, str, str, int], KoladaValue] = {
        (v.kpi, v.gender, v.municipality, v.year): v for v in values
    }
    existing = _current_values(session, (m.loan_indicator_id for m in usable))
    proposals: list[Proposal] = []
    units_seen: list[str] = []
    for m in usable:
        first = max(years.start, m.baseline_year or years.start)
        # a borrower that reports its own comparison unit for the indicator (a school against a
        # comparison school) measures part of the municipality: the municipality's figure is then
        # one more comparison, not the project's value
        own_design = any(
            li == m.loan_indicator_id and unit != "" and source != SOURCE
            for (li, unit, _year), (_value, source) in existing.items()
        )
        outside = [y for y in years if y > this_year]
        if outside:
            plan.issues.append(
                issue(
                    "outside-reporting-years",
                    f"år {outside[0]}–{outside[-1]} ligger utanför lånets rapportår för {m.code} "
                    f"({first}–{this_year}) och hämtas inte in.",
                    f"years {outside[0]}–{outside[-1]} are outside the loan's reporting years for "
                    f"{m.code} ({first}–{this_year}) and are not imported.",
                    kpi=m.kpi,
                )
            )
        for year in range(years.start, min(years.stop - 1, this_year) + 1):
            # years before the baseline are the pre-period: kept as history of each municipality
            history = year < first
            member_values: list[KoladaValue] = []
            for where in [code, *compare_codes]:
                v = by_key.get((m.kpi, m.gender, where, year))
                if v is None:
                    continue
                if where == code:
                    unit = names[code] if m.own_counts or own_design or history else ""
                else:
                    unit = names[where]
                    member_values.append(v)
                if unit and unit not in units_seen:
                    units_seen.append(unit)
                old = existing.get((m.loan_indicator_id, unit, year))
                proposals.append(
                    Proposal(
                        indicator=m.code,
                        kpi=m.kpi,
                        municipality=where,
                        unit=unit,
                        year=year,
                        value=v.value,
                        fetched=v.fetched_at.date(),
                        from_cache=v.from_cache,
                        existing=old[0] if old else None,
                        existing_source=old[1] if old else None,
                        history=history,
                    )
                )
            # the mean needs a real group: with fewer than two members it is one municipality's value
            if len(member_values) >= 2:
                old = existing.get((m.loan_indicator_id, MEAN_UNIT, year))
                if MEAN_UNIT not in units_seen:
                    units_seen.append(MEAN_UNIT)
                proposals.append(
                    Proposal(
                        indicator=m.code,
                        kpi=m.kpi,
                        municipality="",
                        unit=MEAN_UNIT,
                        year=year,
                        value=_mean([v.value for v in member_values]),
                        fetched=min(v.fetched_at for v in member_values).date(),
                        from_cache=any(v.from_cache for v in member_values),
                        derived=True,
                        members=len(member_values),
                        existing=old[0] if old else None,
                        existing_source=old[1] if old else None,
                        history=history,
                    )
                )
        if not any(p.indicator == m.code for p in proposals):
            plan.issues.append(
                issue(
                    "no-values",
                    f"Kolada har inga publicerade värden för {m.code} dessa år.",
                    f"Kolada has no published values for {m.code} in these years.",
                    kpi=m.kpi,
                    municipality=code,
                    years=f"{years.start}–{years.stop - 1}",
                )
            )
    plan.proposals = proposals
    plan.comparison_units = units_seen
    return plan


def _csv(loan: str, proposals: list[Proposal]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["loan", "indicator", "year", "value", "estimated", "comment", "group"])
    for p in proposals:
        # texts (a Kolada unit's name, a comment) made inert for a spreadsheet, read back unchanged by the
        # importer; the value is a number and written as one (ingest.inert)
        writer.writerow(
            [
                inert_text(loan),
                inert_text(p.indicator),
                p.year,
                format(p.value, "f"),
                "",
                inert_text(p.comment),
                inert_text(p.unit),
            ]
        )
    return out.getvalue().encode("utf-8")


def rows_to_import(
    session: Session, plan: KoladaPlan, accept: Iterable[str] = ()
) -> list[Proposal]:
    """The values that may go in: nothing stored yet, or a difference a person accepted.

    Re-reads what is stored now, so a value reported since the plan was made is not overwritten either.
    """
    accepted = set(accept)
    loan = session.exec(select(Loan).where(Loan.reference == plan.loan)).first()
    if loan is None or loan.id is None:
        return []
    ids = {m.code: m.loan_indicator_id for m in _mapped_indicators(session, loan.id)}
    now = _current_values(session, ids.values())
    chosen = []
    for p in plan.proposals:
        if p.indicator not in ids:
            continue
        stored = now.get((ids[p.indicator], p.unit, p.year))
        if stored is None or (stored[0] != p.value and p.key in accepted):
            chosen.append(p)
    return chosen


def import_plan(
    *,
    session: Session,
    settings: Settings,
    plan: KoladaPlan,
    uploaded_by: str,
    accept: Iterable[str] = (),
    dry_run: bool = False,
    user_id: int | None = None,
    borrower_id: int | None = None,
    current_year: int | None = None,
) -> ImportResult:
    """Import the plan's new values and the accepted differences through the ordinary import path.

    Years before the baseline go in as a second file marked history (only named units, only up to
    the baseline year); both files are checked first, so either both go in or neither does.
    """
    rows = rows_to_import(session, plan, accept)
    stamp = date.today().strftime("%Y%m%d")
    filename = f"kolada-{plan.loan}-{stamp}.csv"
    if not rows:
        # nothing new and nothing accepted: an empty file would be refused as empty, which it is not
        return ImportResult(file=filename, sha256="", accepted=True, dry_run=dry_run, rows=0)
    parts = [
        (filename, [p for p in rows if not p.history], False),
        (f"kolada-history-{plan.loan}-{stamp}.csv", [p for p in rows if p.history], True),
    ]
    parts = [part for part in parts if part[1]]

    def run(name: str, chosen: list[Proposal], history: bool, dry: bool) -> ImportResult:
        return import_file(
            session=session,
            settings=settings,
            filename=name,
            data=_csv(plan.loan, chosen),
            uploaded_by=uploaded_by,
            user_id=user_id,
            borrower_id=borrower_id,
            dry_run=dry,
            current_year=current_year,
            source=SOURCE,
            history=history,
        )

    if len(parts) == 1:
        return run(*parts[0], dry_run)
    checked = [run(*part, True) for part in parts]
    results = checked if dry_run or not all(r.accepted for r in checked) else None
    if results is None:
        results = [run(*part, False) for part in parts]
    return ImportResult(
        file=filename,
        sha256=results[0].sha256,
        accepted=all(r.accepted for r in results),
        dry_run=dry_run,
        rows=sum(r.rows for r in results),
        inserted=sum(r.inserted for r in results),
        restated=sum(r.restated for r in results),
        unchanged=sum(r.unchanged for r in results),
        errors=[e for r in results for e in r.errors],
        submission_id=next((r.submission_id for r in results if r.submission_id), None),
    )


def grouped_by_indicator(plan: KoladaPlan) -> dict[str, list[Proposal]]:
    """The plan's values per indicator, ordered by unit (own series first) and year, for display."""
    groups: dict[str, list[Proposal]] = defaultdict(list)
    order = {u: i for i, u in enumerate(["", *plan.comparison_units])}
    for p in sorted(plan.proposals, key=lambda p: (p.indicator, order.get(p.unit, 99), p.year)):
        groups[p.indicator].append(p)
    return dict(groups)
