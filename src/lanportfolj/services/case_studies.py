"""Case studies (issue 16 item 6): a short narrative per loan and year, in Swedish and English.

The owning borrower or an analyst writes one; it waits (``pending``) until an analyst approves it, and
only approved ones go into a bond's report. Writing and approving are recorded in the audit trail in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from lanportfolj.models import BondPoolEntry, CaseStudy, Loan, utcnow
from lanportfolj.services import audit

FIELDS = ("title", "year", "text_sv", "text_en")
TITLE_MAX = 200
TEXT_MAX = 20_000
FIRST_YEAR = 1990
LAST_YEAR = 2100


@dataclass(frozen=True)
class Draft:
    """A checked case study, ready to store."""

    title: str
    year: int
    text_sv: str
    text_en: str


def _controls(text: str) -> bool:
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text)


def check(form: dict[str, Any]) -> tuple[Draft | None, dict[str, str]]:
    """The form's values checked: a draft, or the problems by field (English message ids)."""
    values = {name: str(form.get(name) or "") for name in FIELDS}
    errors: dict[str, str] = {}
    title = values["title"].strip()
    if not title:
        errors["title"] = "Write a title."
    elif len(title) > TITLE_MAX or "\n" in title or "\r" in title or _controls(title):
        errors["title"] = "The title is one line of at most 200 characters."
    year = 0
    raw_year = values["year"].strip()
    if raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4:
        year = int(raw_year)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        errors["year"] = "Write the year as four digits, e.g. 2025."
    for name in ("text_sv", "text_en"):
        text = values[name].strip()
        if not text:
            errors[name] = "Write the text in both languages."
        elif len(text) > TEXT_MAX:
            errors[name] = "A case study is at most 20 000 characters."
        elif _controls(text):
            errors[name] = "The text holds control characters."
    if errors:
        return None, errors
    return Draft(title, year, values["text_sv"].strip(), values["text_en"].strip()), {}


def _snapshot(study: CaseStudy) -> dict[str, Any]:
    return {
        "loan_id": study.loan_id,
        "year": study.year,
        "title": study.title,
        "status": study.status,
        "text_sv": study.text_sv[:200],
        "text_en": study.text_en[:200],
    }


def add(session: Session, *, loan: Loan, draft: Draft, actor: str) -> CaseStudy:
    """Store a pending case study of ``loan`` (audited); the caller commits."""
    assert loan.id is not None
    study = CaseStudy(
        loan_id=loan.id,
        year=draft.year,
        title=draft.title,
        text_sv=draft.text_sv,
        text_en=draft.text_en,
        written_by=actor,
    )
    session.add(study)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case_study.written",
        entity="case_study",
        entity_id=study.id or "",
        after=_snapshot(study),
        detail=loan.reference,
    )
    return study


def find(session: Session, loan: Loan, study_id: int) -> CaseStudy | None:
    """The case study ``study_id`` if it belongs to ``loan``."""
    study = session.get(CaseStudy, study_id)
    return study if study is not None and study.loan_id == loan.id else None


def approve(session: Session, *, loan: Loan, study: CaseStudy, actor: str) -> bool:
    """Approve a pending case study (audited); False when it was approved already."""
    if study.status == "approved":
        return False
    before = _snapshot(study)
    study.status = "approved"
    study.approved_by = actor
    study.approved_at = utcnow()
    session.add(study)
    audit.record(
        session,
        actor=actor,
        action="case_study.approved",
        entity="case_study",
        entity_id=study.id or "",
        before=before,
        after=_snapshot(study),
        detail=loan.reference,
    )
    return True


def for_loan(session: Session, loan: Loan) -> list[CaseStudy]:
    """Every case study of ``loan``, newest year first."""
    return list(
        session.exec(
            select(CaseStudy)
            .where(CaseStudy.loan_id == loan.id)
            .order_by(col(CaseStudy.year).desc(), col(CaseStudy.id).desc())
        ).all()
    )


def for_report(session: Session, bond_id: int, report_date: date) -> list[dict[str, Any]]:
    """The approved case studies of the bond's pool loans for years up to the report's, by loan
    reference and then year (newest first): the report's ``case_studies``."""
    rows = session.execute(
        sa_select(
            col(Loan.reference),
            col(CaseStudy.year),
            col(CaseStudy.title),
            col(CaseStudy.text_sv),
            col(CaseStudy.text_en),
            col(CaseStudy.approved_at),
        )
        .join(Loan, col(Loan.id) == col(CaseStudy.loan_id))
        .where(
            col(CaseStudy.status) == "approved",
            col(CaseStudy.year) <= report_date.year,
            col(CaseStudy.loan_id).in_(
                sa_select(BondPoolEntry.loan_id).where(BondPoolEntry.bond_id == bond_id)
            ),
        )
        .order_by(col(Loan.reference), col(CaseStudy.year).desc(), col(CaseStudy.id))
    ).all()
    return [
        {
            "loan": reference,
            "year": year,
            "title": title,
            "text_sv": text_sv,
            "text_en": text_en,
            "approved_on": approved_at.date().isoformat() if approved_at else None,
        }
        for reference, year, title, text_sv, text_en, approved_at in rows
    ]
