"""Stores validated indicator values: one transaction per file, restatements as new versions.

The reading and checking is ``lanportfolj.ingest``; this module builds the context it checks against from the
database, decides what each row means (new, restated, unchanged) and writes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.db import bulk_insert
from lanportfolj.ingest import MeasurementRow, ParseResult, parse_file
from lanportfolj.ingest.issues import ImportIssue
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule
from lanportfolj.models import (
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
    Submission,
    utcnow,
)
from lanportfolj.services import audit

Key = tuple[int, str, int]  # (loan_indicator_id, group, year)


@dataclass(frozen=True)
class Change:
    """What one accepted row does to the stored values."""

    kind: str  # "insert" | "restate" | "unchanged"
    loan: str
    indicator: str
    year: int
    group: str
    value: Decimal
    estimated: bool
    old_value: Decimal | None = None
    old_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "loan": self.loan,
            "indicator": self.indicator,
            "year": self.year,
            "group": self.group,
            "value": str(self.value),
            "estimated": self.estimated,
            "old_value": None if self.old_value is None else str(self.old_value),
            "old_version": self.old_version,
        }


@dataclass
class ImportResult:
    """The outcome of an import or a dry run, the same for the web page, the API and the CLI."""

    file: str
    sha256: str
    accepted: bool
    dry_run: bool
    rows: int
    inserted: int = 0
    restated: int = 0
    unchanged: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    submission_id: int | None = None
    #: The submission that already brought exactly these bytes; nothing is done again.
    duplicate_of: int | None = None

    @property
    def nothing_changed(self) -> bool:
        return self.accepted and self.inserted == 0 and self.restated == 0

    def to_dict(self, lang: str = "en", *, with_changes: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "sha256": self.sha256,
            "accepted": self.accepted,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "inserted": self.inserted,
            "restated": self.restated,
            "unchanged": self.unchanged,
            "submission_id": self.submission_id,
            "duplicate_of": self.duplicate_of,
            "errors": [issue.to_dict(lang) for issue in self.errors],
        }
        if with_changes:
            data["changes"] = [c.to_dict() for c in self.changes if c.kind != "unchanged"]
        return data


def build_context(
    session: Session,
    *,
    settings: Settings,
    borrower_id: int | None = None,
    current_year: int | None = None,
) -> tuple[IngestContext, dict[tuple[str, str], int]]:
    """The rules a file is checked against, and the loan-indicator ids by (loan reference, code).

    ``borrower_id`` limits the loans the uploader may report for (a borrower user); None = every loan.
    """
    loans = session.exec(select(Loan.id, Loan.reference, Loan.borrower_id)).all()
    loan_ref = {loan_id: ref for loan_id, ref, _ in loans}
    allowed = (
        None
        if borrower_id is None
        else frozenset(ref for _, ref, owner in loans if owner == borrower_id)
    )
    # a borrower is told another organisation's loan is unknown: not even its existence leaks
    known = frozenset(loan_ref.values()) if allowed is None else allowed
    codes = frozenset(session.exec(select(IndicatorDefinition.code)).all())
    stmt = select(
        LoanIndicator.id,
        LoanIndicator.loan_id,
        LoanIndicator.baseline_year,
        IndicatorDefinition.code,
        IndicatorDefinition.min_value,
        IndicatorDefinition.max_value,
        IndicatorDefinition.integer,
    ).join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
    rules: dict[tuple[str, str], LoanIndicatorRule] = {}
    ids: dict[tuple[str, str], int] = {}
    for li_id, loan_id, baseline_year, code, lo, hi, integer in session.exec(stmt).all():
        key = (loan_ref[loan_id], code)
        rules[key] = LoanIndicatorRule(
            loan=key[0],
            indicator=code,
            baseline_year=baseline_year,
            min_value=lo,
            max_value=hi,
            integer=bool(integer),
        )
        ids[key] = li_id
    context = IngestContext(
        known_loans=known,
        known_indicators=codes,
        rules=rules,
        current_year=current_year or date.today().year,
        allowed_loans=allowed,
        max_bytes=settings.max_upload_bytes,
    )
    return context, ids


def plan_changes(
    session: Session, rows: list[MeasurementRow], ids: dict[tuple[str, str], int]
) -> tuple[list[Change], dict[Key, tuple[int, int]]]:
    """Classify each row against the current stored values; also returns (id, version) of those values."""
    li_ids = sorted({ids[(r.loan, r.indicator)] for r in rows})
    current: dict[Key, tuple[int, int, Decimal, bool]] = {}
    # chunked IN lists keep the statement within every database's parameter limit
    for start in range(0, len(li_ids), 500):
        chunk = li_ids[start : start + 500]
        stmt = select(
            Measurement.id,
            Measurement.loan_indicator_id,
            Measurement.group_name,
            Measurement.year,
            Measurement.version,
            Measurement.value,
            Measurement.estimated,
        ).where(col(Measurement.is_current), col(Measurement.loan_indicator_id).in_(chunk))
        for m_id, li, group, year, version, value, estimated in session.exec(stmt).all():
            current[(li, group, year)] = (m_id, version, value, estimated)
    changes: list[Change] = []
    for r in rows:
        key = (ids[(r.loan, r.indicator)], r.group, r.year)
        base = {
            "loan": r.loan,
            "indicator": r.indicator,
            "year": r.year,
            "group": r.group,
            "value": r.value,
            "estimated": r.estimated,
        }
        old = current.get(key)
        if old is None:
            changes.append(Change(kind="insert", **base))
        elif old[2] == r.value and old[3] == r.estimated:
            changes.append(Change(kind="unchanged", **base))
        else:
            changes.append(Change(kind="restate", old_value=old[2], old_version=old[1], **base))
    return changes, {k: (v[0], v[1]) for k, v in current.items()}


def import_file(
    *,
    session: Session,
    settings: Settings,
    filename: str,
    data: bytes,
    uploaded_by: str,
    user_id: int | None = None,
    borrower_id: int | None = None,
    dry_run: bool = False,
    current_year: int | None = None,
    source: str = "upload",
    progress: Callable[[int, int], None] | None = None,
    recorded_at: Any = None,
) -> ImportResult:
    """Check ``data`` and, unless rejected or a dry run, store it in ``session``.

    The caller owns the transaction (``session_scope``): everything this adds commits or rolls back together.
    A rejected file writes nothing. A file whose rows are all already stored writes nothing either.
    """
    digest = hashlib.sha256(data).hexdigest()
    dialect = session.get_bind().dialect.name
    if not dry_run and dialect == "sqlite":
        # take SQLite's write lock before reading anything, so a concurrent import waits for this one
        # instead of planning against values that are about to change
        session.execute(text("UPDATE loan SET id = id WHERE 0 = 1"))
    context, ids = build_context(
        session, settings=settings, borrower_id=borrower_id, current_year=current_year
    )
    parsed: ParseResult = parse_file(filename, data, context, progress=progress)
    result = ImportResult(
        file=filename,
        sha256=digest,
        accepted=parsed.ok,
        dry_run=dry_run,
        rows=parsed.total_rows,
        errors=list(parsed.issues),
    )
    if not parsed.ok:
        return result
    if not dry_run and dialect != "sqlite":
        # row locks on the file's loans: concurrent imports for the same loan run one after the other,
        # each planning against the values the previous one committed
        refs = sorted({r.loan for r in parsed.rows})
        session.execute(
            select(Loan.id)
            .where(col(Loan.reference).in_(refs))
            .order_by(col(Loan.id))
            .with_for_update()
        )
    # idempotent by content: the same bytes again change nothing, even after a later restatement
    earlier = session.exec(
        select(Submission.id).where(Submission.sha256 == digest, Submission.status == "accepted")
    ).first()
    if earlier is not None:
        result.duplicate_of = earlier
        result.unchanged = len(parsed.rows)
        return result
    changes, current = plan_changes(session, parsed.rows, ids)
    result.changes = changes
    result.inserted = sum(c.kind == "insert" for c in changes)
    result.restated = sum(c.kind == "restate" for c in changes)
    result.unchanged = sum(c.kind == "unchanged" for c in changes)
    if dry_run or result.nothing_changed:
        return result

    when = recorded_at or utcnow()
    submission = Submission(
        borrower_id=borrower_id,
        user_id=user_id,
        uploaded_by=uploaded_by,
        source=source,
        filename=filename,
        content=data,
        sha256=digest,
        size=len(data),
        uploaded_at=when,
        status="accepted",
        rows_total=parsed.total_rows,
        rows_accepted=len(parsed.rows),
        inserted=result.inserted,
        restated=result.restated,
        unchanged=result.unchanged,
    )
    session.add(submission)
    session.flush()
    result.submission_id = submission.id

    comments = {(r.loan, r.indicator, r.group, r.year): r.comment for r in parsed.rows}
    retire: list[int] = []
    new_rows: list[dict[str, Any]] = []
    for change in changes:
        if change.kind == "unchanged":
            continue
        li_id = ids[(change.loan, change.indicator)]
        version = 1
        if change.kind == "restate":
            old_id, old_version = current[(li_id, change.group, change.year)]
            retire.append(old_id)
            version = old_version + 1
        new_rows.append(
            {
                "loan_indicator_id": li_id,
                "group_name": change.group,
                "year": change.year,
                "value": change.value,
                "estimated": change.estimated,
                "comment": comments[(change.loan, change.indicator, change.group, change.year)],
                "version": version,
                "is_current": True,
                "source": source,
                "submission_id": submission.id,
                "recorded_by": uploaded_by,
                "recorded_at": when,
            }
        )
    # retire first: the partial unique index allows one current version per loan indicator and year
    for start in range(0, len(retire), 500):
        session.execute(
            update(Measurement)
            .where(col(Measurement.id).in_(retire[start : start + 500]))
            .values(is_current=False)
        )
    # one driver-level executemany: the ORM's per-row work would triple the cost of a large file
    bulk_insert(session, Measurement, new_rows)
    audit.record(
        session,
        actor=uploaded_by,
        action="measurements.import",
        entity="submission",
        entity_id=submission.id or "",
        after={
            "file": filename,
            "sha256": digest,
            "inserted": result.inserted,
            "restated": result.restated,
        },
    )
    return result
