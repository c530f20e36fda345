"""A stand-in for Kolada that answers from JSON files: for the demo without network, and for tests.

The folder holds v3-shaped documents: ``kpi.json``, ``municipality.json``, ``municipality_groups.json`` and
``data.json`` (each ``{"values": [...]}``; ``oudata.json`` optionally). :class:`OfflineKolada` answers the
same paths as Kolada (filtering, ``next_url`` paging, 422 for more than 25 ids in a segment) through an
``httpx.MockTransport``, and records every URL asked for, so a test can prove nothing else was called.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from lanportfolj.kolada.client import BASE_URL, MAX_IDS_PER_SEGMENT


def _load(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / name
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("values", []))


@dataclass
class OfflineKolada:
    """Kolada's v3 API answered from the files in ``directory``."""

    directory: Path
    per_page: int = 100
    base_url: str = BASE_URL
    #: Every URL requested.
    requests: list[str] = field(default_factory=list)
    #: Requests for anything this stand-in (and so the recorded data) does not serve.
    unexpected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.kpis = _load(self.directory, "kpi.json")
        self.municipalities = _load(self.directory, "municipality.json")
        self.groups = _load(self.directory, "municipality_groups.json")
        self.data = _load(self.directory, "data.json")
        self.oudata = _load(self.directory, "oudata.json")

    def transport(self) -> httpx.MockTransport:
        """The transport to hand to :class:`~lanportfolj.kolada.client.KoladaClient`."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        base = urlsplit(self.base_url)
        parts = urlsplit(url)
        if parts.netloc != base.netloc or not parts.path.startswith(base.path):
            self.unexpected.append(url)
            return httpx.Response(404, json={"error": "not served"})
        segments = [s for s in parts.path[len(base.path) :].split("/") if s]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for segment in segments:
            if segment.count(",") >= MAX_IDS_PER_SEGMENT:
                return httpx.Response(422, json={"error": "too many ids"})
        rows = self._route(segments, query)
        if rows is None:
            self.unexpected.append(url)
            return httpx.Response(404, json={"error": "not served"})
        return self._paged(request.url, rows, query)

    def _route(self, s: list[str], query: dict[str, str]) -> list[dict[str, Any]] | None:
        ids = lambda i: set(s[i].split(","))  # noqa: E731
        if len(s) == 2 and s[0] == "kpi":
            return [r for r in self.kpis if r.get("id") in ids(1)]
        if len(s) == 2 and s[0] == "municipality":
            return [r for r in self.municipalities if r.get("id") in ids(1)]
        if s == ["municipality_groups"]:
            title = query.get("title", "").casefold()
            return [g for g in self.groups if title in str(g.get("title", "")).casefold()]
        if len(s) == 2 and s[0] == "municipality_groups":
            return [g for g in self.groups if g.get("id") == s[1]]
        if len(s) == 7 and s[0] in ("data", "oudata") and s[1] == "kpi" and s[5] == "year":
            key = "municipality" if s[0] == "data" else "ou"
            if s[3] != key:
                return None
            source = self.data if s[0] == "data" else self.oudata
            years = ids(6)
            return [
                r
                for r in source
                if r.get("kpi") in ids(2) and r.get(key) in ids(4) and str(r.get("period")) in years
            ]
        return None

    def _paged(
        self, url: httpx.URL, rows: list[dict[str, Any]], query: dict[str, str]
    ) -> httpx.Response:
        page = int(query.get("page", "1"))
        size = int(query.get("per_page", str(self.per_page)))
        start = (page - 1) * size
        chunk = rows[start : start + size]
        more = start + size < len(rows)
        body = {
            "count": len(chunk),
            "values": chunk,
            "next_url": str(url.copy_set_param("page", str(page + 1))) if more else None,
            "previous_url": str(url.copy_set_param("page", str(page - 1))) if page > 1 else None,
        }
        return httpx.Response(200, json=body)
