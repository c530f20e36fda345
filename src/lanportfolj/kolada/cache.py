"""Kolada responses kept in the database with the time they were fetched.

A report built from Kolada values can then be rebuilt offline exactly, and when Kolada cannot be reached the
cached page is used, labelled with its fetch date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.kolada.client import CachedBody
from lanportfolj.kolada.models import KoladaResponse


def url_key(url: str) -> str:
    """The cache key of ``url``."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; they were stored in UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class DatabaseCache:
    """The :class:`~lanportfolj.kolada.client.ResponseCache` kept in ``kolada_response``.

    Writes go into ``session``; the caller's transaction decides when they are committed.
    """

    session: Session

    def get(self, url: str) -> CachedBody | None:
        row = self.session.exec(
            select(KoladaResponse).where(KoladaResponse.url_sha256 == url_key(url))
        ).first()
        if row is None:
            return None
        return CachedBody(body=row.body, fetched_at=_aware(row.fetched_at))

    def put(self, url: str, body: str, fetched_at: datetime) -> None:
        key = url_key(url)
        row = self.session.exec(
            select(KoladaResponse).where(KoladaResponse.url_sha256 == key)
        ).first()
        if row is None:
            row = KoladaResponse(url_sha256=key, url=url, body=body, fetched_at=fetched_at)
        else:
            row.body = body
            row.fetched_at = fetched_at
        self.session.add(row)
        self.session.flush()


def list_cached(session: Session) -> list[dict[str, Any]]:
    """Every cached response: URL, size and fetch time, newest first."""
    rows = session.exec(select(KoladaResponse).order_by(col(KoladaResponse.fetched_at).desc()))
    return [
        {
            "url": r.url,
            "bytes": len(r.body.encode("utf-8")),
            "fetched_at": _aware(r.fetched_at).isoformat(timespec="seconds"),
        }
        for r in rows
    ]


def cached_municipality_titles(session: Session, codes: set[str]) -> dict[str, str]:
    """Kolada's titles of the municipalities ``codes`` (``0127`` → ``Botkyrka``), from the cached
    ``/municipality`` answers: how the evaluation names a borrower's municipality offline, as the
    fetch named it. Codes never fetched are missing from the result."""
    import json

    found: dict[str, str] = {}
    if not codes:
        return found
    rows = session.exec(
        select(KoladaResponse.body).where(
            col(KoladaResponse.url).contains("/municipality/"),
            ~col(KoladaResponse.url).contains("/data/"),
        )
    )
    for body in rows:
        try:
            values = json.loads(body).get("values", [])
        except (ValueError, AttributeError):
            continue
        for item in values if isinstance(values, list) else []:
            if isinstance(item, dict) and item.get("id") in codes and item.get("title"):
                found[str(item["id"])] = str(item["title"])
    return found
