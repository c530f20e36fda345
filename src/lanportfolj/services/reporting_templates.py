"""The yearly reporting template of one loan, built from what the database knows about it.

``lanportfolj.ingest.template`` writes the bytes; this module only gathers the loan's indicators, units,
baseline, target, range and earlier (current-version) values into a :class:`TemplateSpec`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from lanportfolj.ingest import TemplateLine, TemplateSpec, write_template_csv, write_template_xlsx
from lanportfolj.models import Borrower
from lanportfolj.services.loans import get_loan, loan_indicator_rows, measurement_history

FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class LoanNotFound(LookupError):
    """No loan has the reference asked for."""


def template_years(baseline_years: list[int | None], current_year: int) -> list[int]:
    """The years a template asks for: the year after the earliest baseline up to last year.

    The reporting year is always a finished year, so the current year is never asked for; a loan without
    any baseline still gets last year's row.
    """
    known = [year for year in baseline_years if year is not None]
    last = current_year - 1
    first = min(known) + 1 if known else last
    return list(range(min(first, last), last + 1))


def build_template_spec(
    session: Session, reference: str, *, lang: str = "sv", current_year: int | None = None
) -> TemplateSpec:
    """The template of loan ``reference``: one line per indicator, earlier values pre-filled.

    Raises :class:`LoanNotFound` when there is no such loan (callers check access first).
    """
    loan = get_loan(session, reference)
    if loan is None or loan.id is None:
        raise LoanNotFound(reference)
    borrower = session.get(Borrower, loan.borrower_id)
    rows = loan_indicator_rows(session, loan.id)
    history = measurement_history(session, [li.id for li, _ in rows if li.id is not None])
    lines: list[TemplateLine] = []
    for li, ind in rows:
        # the intervention's own current values; comparison groups go on the blank rows
        previous: dict[int, Decimal] = {
            m.year: m.value
            for m in history.get(li.id or 0, [])
            if m.is_current and m.group_name == ""
        }
        estimated = frozenset(
            m.year
            for m in history.get(li.id or 0, [])
            if m.is_current and m.group_name == "" and m.estimated
        )
        comments = {
            m.year: m.comment
            for m in history.get(li.id or 0, [])
            if m.is_current and m.group_name == "" and m.comment
        }
        lines.append(
            TemplateLine(
                indicator=ind.code,
                name=ind.name_sv if lang == "sv" else ind.name_en,
                unit=ind.unit,
                baseline_value=li.baseline_value,
                baseline_year=li.baseline_year,
                target_value=li.target_value,
                target_year=li.target_year,
                previous=previous,
                previous_estimated=estimated,
                previous_comments=comments,
                min_value=ind.min_value,
                max_value=ind.max_value,
                integer=ind.integer,
            )
        )
    years = template_years([li.baseline_year for li, _ in rows], current_year or date.today().year)
    return TemplateSpec(
        loan=loan.reference,
        loan_title=loan.title,
        borrower=borrower.name if borrower else "",
        years=years,
        lines=lines,
        lang="sv" if lang == "sv" else "en",
    )


def template_bytes(
    session: Session,
    reference: str,
    *,
    fmt: str = "xlsx",
    lang: str = "sv",
    current_year: int | None = None,
) -> bytes:
    """The template as XLSX, or as CSV (Swedish: ``;`` and decimal comma; English: ``,`` and point)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    spec = build_template_spec(session, reference, lang=lang, current_year=current_year)
    if fmt == "xlsx":
        return write_template_xlsx(spec)
    return write_template_csv(spec, swedish=lang == "sv")


def template_filename(reference: str, fmt: str, lang: str = "sv") -> str:
    """A download name that says what the file is: ``SH-2023-001-rapportering.xlsx``."""
    word = "rapportering" if lang == "sv" else "reporting"
    return f"{reference}-{word}.{fmt}"
