"""Exact decimals as the database columns give them back (no SQLAlchemy here: the CLI's listings read
values through the bare driver and must convert them as ``dbtypes.ExactDecimal`` does)."""

from __future__ import annotations

from decimal import Decimal


def plain(number: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form: PostgreSQL's ``390.000000`` reads as ``390``,
    as SQLite's does, so both databases give the same values and the same JSON."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()
