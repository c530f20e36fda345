"""The FX table: loading rate files, adding one rate, listing, and the rate at a date.

A rate file is all or nothing: any problem refuses the whole file and writes nothing. A rate for a
currency and date already stored with the same value is unchanged; with another value it replaces the
stored one, and the change (before and after) goes to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from lanportfolj.domain.fx import (
    RateAt,
    RateProblem,
    RateRow,
    StoredRate,
    read_rate_file,
)
from lanportfolj.models import ExchangeRate
from lanportfolj.services import audit


@dataclass
class LoadResult:
    """What loading a rate file did (or, when ``problems`` is not empty, why it did nothing)."""

    layout: str
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[RateProblem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems


def _store(
    session: Session, rows: list[RateRow], source: str, actor: str, result: LoadResult
) -> None:
    currencies = sorted({r.currency for r in rows})
    existing = {
        (r.currency, r.rate_date): r
        for r in session.exec(
            select(ExchangeRate).where(col(ExchangeRate.currency).in_(currencies))
        ).all()
    }
    changes = []
    for row in rows:
        stored = existing.get((row.currency, row.day))
        if stored is None:
            stored = ExchangeRate(
                currency=row.currency,
                rate_date=row.day,
                sek_per_unit=row.sek_per_unit,
                source=source[:200],
                created_by=actor,
            )
            session.add(stored)
            existing[(row.currency, row.day)] = stored
            result.inserted += 1
        elif stored.sek_per_unit == row.sek_per_unit:
            result.unchanged += 1
        else:
            changes.append(
                {
                    "currency": row.currency,
                    "date": row.day.isoformat(),
                    "old": str(stored.sek_per_unit),
                    "old_source": stored.source,
                    "new": str(row.sek_per_unit),
                }
            )
            stored.sek_per_unit = row.sek_per_unit
            stored.source = source[:200]
            stored.created_by = actor
            result.replaced += 1
    session.flush()
    if result.inserted or result.replaced:
        audit.record(
            session,
            actor=actor,
            action="fx.load",
            entity="fx_rate",
            after={
                "source": source,
                "inserted": result.inserted,
                "replaced": result.replaced,
                "changes": changes[:100],
            },
        )


def load_rates(session: Session, *, data: bytes, source: str, actor: str) -> LoadResult:
    """Store the rates of a Riksbank series file or a plain ``date;currency;rate`` file."""
    parsed = read_rate_file(data)
    result = LoadResult(
        layout=parsed.layout, skipped=parsed.skipped, problems=list(parsed.problems)
    )
    if not parsed.problems and not parsed.rates:
        result.problems.append(
            RateProblem(1, "", "the file holds no rates", "filen innehåller inga kurser")
        )
    if result.problems:
        return result
    unique = {(r.currency, r.day): r for r in parsed.rates}
    _store(session, list(unique.values()), source, actor, result)
    return result


def add_rate(
    session: Session, *, currency: str, day: date, sek_per_unit: Decimal, source: str, actor: str
) -> LoadResult:
    """Store one rate (already checked by ``domain.fx``'s parsers)."""
    result = LoadResult(layout="form")
    _store(session, [RateRow(0, day, currency, sek_per_unit)], source, actor, result)
    return result


def list_rates(
    session: Session, *, currency: str | None = None, limit: int | None = None
) -> list[StoredRate]:
    """The stored rates, newest first (of one currency when given)."""
    query = select(ExchangeRate).order_by(
        col(ExchangeRate.rate_date).desc(), col(ExchangeRate.currency)
    )
    if currency:
        query = query.where(ExchangeRate.currency == currency.upper())
    if limit:
        query = query.limit(limit)
    return [
        StoredRate(r.currency, r.rate_date, r.sek_per_unit, r.source)
        for r in session.exec(query).all()
    ]


def rate_on(session: Session, currency: str, wanted: date) -> RateAt | None:
    """The stored rate of ``currency`` on ``wanted`` or the latest before it (None: no such rate)."""
    row = session.exec(
        select(ExchangeRate)
        .where(ExchangeRate.currency == currency.upper(), col(ExchangeRate.rate_date) <= wanted)
        .order_by(col(ExchangeRate.rate_date).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return RateAt(wanted, StoredRate(row.currency, row.rate_date, row.sek_per_unit, row.source))
