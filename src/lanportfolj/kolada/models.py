"""The table that keeps Kolada's responses, so a report can be rebuilt offline exactly as it was fetched.

Imported at the bottom of ``lanportfolj.models`` so that Alembic and the test database see the table; it
imports nothing from the rest of the application, which keeps that import free of cycles.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class KoladaResponse(SQLModel, table=True):
    """One page of a Kolada API response, as received, with the time it was fetched."""

    __tablename__ = "kolada_response"

    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the URL: URLs with many ids are long, and an index on a hash is small.
    url_sha256: str = Field(max_length=64, unique=True, index=True)
    url: str = Field(sa_type=Text)  # type: ignore[call-overload]
    body: str = Field(sa_type=Text)  # type: ignore[call-overload]
    fetched_at: datetime = Field(
        default_factory=_now,
        sa_type=DateTime(timezone=True),  # type: ignore[call-overload]
        nullable=False,
    )
