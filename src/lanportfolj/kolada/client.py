"""A small client for the Kolada API v3 (``https://api.kolada.se/v3``): key figures per municipality.

Kolada (run by RKA) publishes key figures (KPIs) for Sweden's municipalities and regions, and official groups
of "similar municipalities". The API needs no key. What this client knows about it:

- data lives under ``/data/kpi/{ids}/municipality/{ids}/year/{years}`` (``/oudata/kpi/…/ou/…`` for school
  and other organisational units); each path segment takes at most 25 comma-separated ids, so longer lists
  are sent in chunks;
- every response is ``{"count": n, "values": [...], "next_url": url | null, "previous_url": ...}``; pages are
  followed through ``next_url`` until it is null;
- a data row is ``{"kpi", "municipality" (or "ou"), "period", "values": [{"gender", "count", "status",
  "value", "isdeleted"}]}``; ``period`` comes as a number or a string; a value marked ``isdeleted`` has been
  withdrawn by Kolada and is ignored;
- metadata: ``/kpi/{ids}`` (``id``, ``title``, ``description``, ``municipality_type``, ``has_ou_data`` …),
  ``/municipality/{ids}`` (``id``, ``title``, ``type``), ``/municipality_groups?title=…`` and
  ``/municipality_groups/{id}`` (``id``, ``title``, ``members: [{"member_id", "member_title"}]``);
- 429 and 5xx answers are retried with exponential back-off (``Retry-After`` honoured), everything has a
  timeout, and a response that is not the JSON above is refused with a message naming what was asked for.

KPI ids are reused and retired, so :meth:`KoladaClient.check_title` compares a KPI's title with the one we
expect (``expected_titles.toml``) before its values are used.

Responses can be kept in a cache (:class:`ResponseCache`, see ``lanportfolj.kolada.cache``): when the network
is down, the cached page is used and every value from it carries the date it was fetched.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote

import httpx

BASE_URL = "https://api.kolada.se/v3"
#: Kolada refuses (HTTP 422) path segments with more ids than this.
MAX_IDS_PER_SEGMENT = 25
SOURCE_LINE = "Källa: Kolada"
SOURCE_LINE_EN = "Source: Kolada"

_MUNICIPALITY_RE = re.compile(r"^\d{4}$")
_KPI_RE = re.compile(r"^[NU]\d{5}$")


@dataclass(frozen=True)
class KoladaIssue:
    """A problem with a Kolada fetch: a stable code, what was asked for, and a message in both languages."""

    code: str
    message_sv: str
    message_en: str
    kpi: str | None = None
    municipality: str | None = None
    year: int | None = None

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (``sv`` or English)."""
        return self.message_sv if lang == "sv" else self.message_en

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "code": self.code,
            "kpi": self.kpi,
            "municipality": self.municipality,
            "year": self.year,
            "message": self.text(lang),
        }


class KoladaError(Exception):
    """A fetch that could not be completed; ``issue`` says which KPI, municipality and year, and why."""

    def __init__(self, issue: KoladaIssue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue


def _what(kpi: str | None, municipality: str | None, years: str | None) -> tuple[str, str]:
    parts_sv, parts_en = [], []
    if kpi:
        parts_sv.append(f"nyckeltal {kpi}")
        parts_en.append(f"KPI {kpi}")
    if municipality:
        parts_sv.append(f"kommun {municipality}")
        parts_en.append(f"municipality {municipality}")
    if years:
        parts_sv.append(f"år {years}")
        parts_en.append(f"year {years}")
    return ", ".join(parts_sv) or "Kolada", ", ".join(parts_en) or "Kolada"


def issue(
    code: str,
    sv: str,
    en: str,
    *,
    kpi: str | None = None,
    municipality: str | None = None,
    year: int | None = None,
    years: str | None = None,
) -> KoladaIssue:
    """An issue whose message starts with what was asked for (KPI, municipality, year)."""
    what_sv, what_en = _what(kpi, municipality, years or (str(year) if year else None))
    return KoladaIssue(
        code=code,
        message_sv=f"{what_sv}: {sv}",
        message_en=f"{what_en}: {en}",
        kpi=kpi,
        municipality=municipality,
        year=year,
    )


@dataclass(frozen=True)
class Context:
    """What a request is for, so that an error can say it."""

    kpi: str | None = None
    municipality: str | None = None
    years: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a response: its JSON, and where and when it came from."""

    url: str
    data: dict[str, Any]
    fetched_at: datetime
    from_cache: bool


@dataclass(frozen=True)
class CachedBody:
    body: str
    fetched_at: datetime


class ResponseCache(Protocol):
    """Where responses are kept: looked up by URL, stored with the time fetched."""

    def get(self, url: str) -> CachedBody | None: ...

    def put(self, url: str, body: str, fetched_at: datetime) -> None: ...


@dataclass(frozen=True)
class KpiMeta:
    id: str
    title: str
    description: str = ""
    municipality_type: str = ""
    has_ou_data: bool = False


@dataclass(frozen=True)
class Municipality:
    id: str
    title: str
    type: str = "K"


@dataclass(frozen=True)
class MunicipalityGroup:
    id: str
    title: str
    #: (code, name) of each member.
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class KoladaValue:
    """One published value: a KPI for a municipality (or unit), a year and a gender."""

    kpi: str
    municipality: str
    year: int
    gender: str
    value: Decimal
    status: str
    fetched_at: datetime
    from_cache: bool


def normalise_title(title: str) -> str:
    """A title for comparison: case, accents kept, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFC", title).casefold()
    return " ".join(re.sub(r"[^\w%]+", " ", text).split())


def load_expected_titles() -> dict[str, str]:
    """The KPI titles the library's mappings were made for (``expected_titles.toml``), by KPI id."""
    raw = (resources.files("lanportfolj.kolada") / "expected_titles.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    return {str(k): str(v) for k, v in data.get("titles", {}).items()}


def chunks(ids: Sequence[str], size: int = MAX_IDS_PER_SEGMENT) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size`` (Kolada's limit per path segment)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _period(raw: Any) -> int | None:
    # Kolada sends ``period`` as 2024 or "2024"; anything else is not a year
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _is_deleted(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.strip().lower() in ("true", "1"))


@dataclass
class KoladaClient:
    """Reads Kolada over HTTP (``transport`` lets tests serve recorded responses instead)."""

    base_url: str = BASE_URL
    transport: httpx.BaseTransport | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    cache: ResponseCache | None = None
    #: ``online``: ask Kolada, fall back to the cache when it cannot be reached;
    #: ``cache-first``: use a cached page when there is one (reproduces what a person saw).
    mode: str = "online"
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    per_page: int | None = None
    #: Every URL requested over HTTP, in order (tests assert on it).
    requested: list[str] = field(default_factory=list)
    _http: httpx.Client | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                transport=self.transport,
                timeout=self.timeout,
                headers={"Accept": "application/json", "User-Agent": "lanportfolj"},
            )
        return self._http

    # -- transport -------------------------------------------------------------------------------

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        query = dict(params or {})
        if self.per_page:
            query.setdefault("per_page", str(self.per_page))
        if query:
            url += "?" + "&".join(f"{k}={quote(v, safe=',')}" for k, v in sorted(query.items()))
        return url

    def _unavailable(self, ctx: Context, detail_sv: str, detail_en: str) -> KoladaError:
        # said as a person would: what went wrong, that nothing changed, and what to do about it
        return KoladaError(
            issue(
                "kolada-unavailable",
                f"{detail_sv}, och inget sparat svar finns. Inget ändrades; försök igen senare.",
                f"{detail_en}, and no saved answer exists. Nothing was changed; try again later.",
                kpi=ctx.kpi,
                municipality=ctx.municipality,
                years=ctx.years,
            )
        )

    def _download(self, url: str, ctx: Context) -> str:
        attempt = 0
        while True:
            self.requested.append(url)
            try:
                response = self._client().get(url)
            except httpx.TimeoutException:
                seconds = format(self.timeout, "g")
                detail = (
                    f"Kolada svarade inte inom {seconds.replace('.', ',')} s",
                    f"Kolada gave no answer within {seconds} s",
                )
                status = None
            except httpx.TransportError:
                detail = (
                    "Ingen nätverksanslutning till Kolada",
                    "There is no network connection to Kolada",
                )
                status = None
            else:
                status = response.status_code
                if status == 200:
                    return response.text
                detail = (
                    f"Kolada svarade med fel {status}",
                    f"Kolada answered with error {status}",
                )
                if status != 429 and status < 500:
                    raise KoladaError(
                        issue(
                            "kolada-rejected",
                            f"Kolada avvisade frågan (fel {status}); kontrollera id och år.",
                            f"Kolada refused the request (error {status}); check the ids and years.",
                            kpi=ctx.kpi,
                            municipality=ctx.municipality,
                            years=ctx.years,
                        )
                    )
            if attempt >= self.retries:
                raise self._unavailable(ctx, *detail)
            wait = self.backoff * (2**attempt)
            if status == 429:
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.strip().isdigit():
                    wait = max(wait, float(retry_after))
            self.sleep(wait)
            attempt += 1

    def _parse(self, url: str, body: str, ctx: Context) -> dict[str, Any]:
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("values"), list):
            raise KoladaError(
                issue(
                    "kolada-malformed",
                    "Kolada svarade med något annat än väntad JSON; inget sparades.",
                    "Kolada answered with something other than the expected JSON; nothing was stored.",
                    kpi=ctx.kpi,
                    municipality=ctx.municipality,
                    years=ctx.years,
                )
            )
        return data

    def get_page(self, url: str, ctx: Context = Context()) -> Page:
        """One page of ``url``: from Kolada (and cached), or from the cache per ``mode``."""
        cached = self.cache.get(url) if self.cache is not None else None
        if cached is not None and self.mode == "cache-first":
            return Page(url, self._parse(url, cached.body, ctx), cached.fetched_at, True)
        try:
            body = self._download(url, ctx)
        except KoladaError as exc:
            if exc.issue.code == "kolada-unavailable" and cached is not None:
                return Page(url, self._parse(url, cached.body, ctx), cached.fetched_at, True)
            raise
        data = self._parse(url, body, ctx)  # a malformed answer is never cached
        fetched_at = self.now()
        if self.cache is not None:
            self.cache.put(url, body, fetched_at)
        return Page(url, data, fetched_at, False)

    def pages(self, url: str, ctx: Context = Context()) -> Iterator[Page]:
        """Every page of a response, following ``next_url`` (a loop of pages is refused)."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen:
                raise KoladaError(
                    issue(
                        "kolada-malformed",
                        "Koladas sidor pekar i en slinga.",
                        "Kolada's pages point in a loop.",
                        kpi=ctx.kpi,
                        municipality=ctx.municipality,
                        years=ctx.years,
                    )
                )
            seen.add(next_url)
            page = self.get_page(next_url, ctx)
            yield page
            raw_next = page.data.get("next_url") or page.data.get("next_page")
            next_url = str(raw_next) if raw_next else None

    def _values(self, path: str, params: dict[str, str] | None, ctx: Context) -> list[Any]:
        out: list[Any] = []
        for page in self.pages(self._url(path, params), ctx):
            out.extend(page.data["values"])
        return out

    # -- metadata -------------------------------------------------------------------------------

    def kpis(self, ids: Iterable[str]) -> dict[str, KpiMeta]:
        """Metadata of the KPIs ``ids`` that Kolada knows (unknown ids are simply absent)."""
        wanted = sorted(set(ids))
        found: dict[str, KpiMeta] = {}
        for chunk in chunks(wanted):
            ctx = Context(kpi=",".join(chunk))
            for row in self._values(f"kpi/{','.join(chunk)}", None, ctx):
                if isinstance(row, dict) and isinstance(row.get("id"), str):
                    found[row["id"]] = KpiMeta(
                        id=row["id"],
                        title=str(row.get("title") or ""),
                        description=str(row.get("description") or ""),
                        municipality_type=str(row.get("municipality_type") or ""),
                        has_ou_data=bool(row.get("has_ou_data")),
                    )
        return found

    def municipalities(self, ids: Iterable[str]) -> dict[str, Municipality]:
        """The municipalities ``ids`` that Kolada knows, by code."""
        wanted = sorted(set(ids))
        found: dict[str, Municipality] = {}
        for chunk in chunks(wanted):
            ctx = Context(municipality=",".join(chunk))
            for row in self._values(f"municipality/{','.join(chunk)}", None, ctx):
                if isinstance(row, dict) and isinstance(row.get("id"), str):
                    found[row["id"]] = Municipality(
                        row["id"], str(row.get("title") or row["id"]), str(row.get("type") or "")
                    )
        return found

    def municipality_groups(self, title: str) -> list[MunicipalityGroup]:
        """Kolada's municipality groups whose title contains ``title``, with their members."""
        rows = self._values("municipality_groups", {"title": title}, Context())
        return [g for g in (self._group(row) for row in rows) if g is not None]

    def municipality_group(self, group_id: str) -> MunicipalityGroup | None:
        """One municipality group by id, or None when Kolada does not know it."""
        rows = self._values(f"municipality_groups/{group_id}", None, Context())
        groups = [g for g in (self._group(row) for row in rows) if g is not None]
        return groups[0] if groups else None

    @staticmethod
    def _group(row: Any) -> MunicipalityGroup | None:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            return None
        members = []
        for m in row.get("members") or []:
            if isinstance(m, dict):
                code = m.get("member_id") or m.get("id")
                name = m.get("member_title") or m.get("title") or code
                if isinstance(code, str):
                    members.append((code, str(name)))
        return MunicipalityGroup(row["id"], str(row.get("title") or ""), tuple(members))

    def check_title(
        self, meta: KpiMeta | None, expected: str | None, *, kpi: str
    ) -> KoladaIssue | None:
        """None when ``meta`` is the KPI we expect; else why its values must not be used."""
        if meta is None:
            return issue(
                "unknown-kpi",
                "Kolada känner inte till nyckeltalet (okänt eller avvecklat id).",
                "Kolada does not know this KPI (unknown or retired id).",
                kpi=kpi,
            )
        if expected and normalise_title(meta.title) != normalise_title(expected):
            return issue(
                "kpi-title-changed",
                f"titeln är nu ”{meta.title}”, väntad ”{expected}”; id:t kan ha återanvänts, "
                "så värdena hämtas inte förrän kopplingen är granskad.",
                f"its title is now “{meta.title}”, expected “{expected}”; the id may have been "
                "reused, so its values are not fetched until the mapping is reviewed.",
                kpi=kpi,
            )
        return None

    # -- data -----------------------------------------------------------------------------------

    def data(
        self,
        *,
        kpis: Sequence[str],
        municipalities: Sequence[str],
        years: Sequence[int],
        unit_level: bool = False,
    ) -> list[KoladaValue]:
        """Every published (not deleted, not empty) value for the KPIs × municipalities (or units) × years.

        The lists are sent at most 25 ids per path segment. Raises :class:`KoladaError` when a page cannot be
        had (neither from Kolada nor from the cache) or is malformed: the caller then stores nothing.
        """
        for kpi in kpis:
            if not _KPI_RE.match(kpi):
                raise KoladaError(
                    issue(
                        "bad-kpi-id",
                        "felaktigt id; ett Kolada-id skrivs t.ex. N15428.",
                        "malformed id; a Kolada id looks like N15428.",
                        kpi=kpi,
                    )
                )
        if not unit_level:
            for code in municipalities:
                if not _MUNICIPALITY_RE.match(code):
                    raise KoladaError(
                        issue(
                            "bad-municipality-code",
                            "en kommunkod har fyra siffror, t.ex. 0127.",
                            "a municipality code has four digits, e.g. 0127.",
                            municipality=code,
                        )
                    )
        prefix, segment, key = (
            ("oudata", "ou", "ou") if unit_level else ("data", "municipality", "municipality")
        )
        out: list[KoladaValue] = []
        year_ids = [str(y) for y in sorted(set(years))]
        for kpi_chunk in chunks(sorted(set(kpis))):
            for m_chunk in chunks(sorted(set(municipalities))):
                for y_chunk in chunks(year_ids):
                    ctx = Context(
                        kpi=",".join(kpi_chunk),
                        municipality=",".join(m_chunk),
                        years=f"{y_chunk[0]}–{y_chunk[-1]}" if len(y_chunk) > 1 else y_chunk[0],
                    )
                    path = (
                        f"{prefix}/kpi/{','.join(kpi_chunk)}/{segment}/{','.join(m_chunk)}"
                        f"/year/{','.join(y_chunk)}"
                    )
                    for page in self.pages(self._url(path), ctx):
                        out.extend(self._rows(page, key, ctx))
        return out

    def _rows(self, page: Page, key: str, ctx: Context) -> Iterator[KoladaValue]:
        for row in page.data["values"]:
            if not isinstance(row, dict):
                raise KoladaError(
                    issue(
                        "kolada-malformed",
                        "en datarad är inte ett objekt.",
                        "a data row is not an object.",
                        kpi=ctx.kpi,
                        municipality=ctx.municipality,
                        years=ctx.years,
                    )
                )
            kpi, where, year = row.get("kpi"), row.get(key), _period(row.get("period"))
            if not isinstance(kpi, str) or not isinstance(where, str) or year is None:
                raise KoladaError(
                    issue(
                        "kolada-malformed",
                        "en datarad saknar nyckeltal, kommun eller år.",
                        "a data row lacks its KPI, municipality or year.",
                        kpi=ctx.kpi,
                        municipality=ctx.municipality,
                        years=ctx.years,
                    )
                )
            if _is_deleted(row.get("isdeleted")):
                continue
            for cell in row.get("values") or []:
                if not isinstance(cell, dict) or _is_deleted(cell.get("isdeleted")):
                    continue
                raw = cell.get("value")
                if raw is None or isinstance(raw, bool):
                    continue  # not published (or withheld): never read as zero
                try:
                    value = Decimal(str(raw))
                except ArithmeticError:
                    value = None
                if value is None or not value.is_finite():
                    raise KoladaError(
                        issue(
                            "kolada-malformed",
                            f"värdet {raw!r} är inte ett tal.",
                            f"the value {raw!r} is not a number.",
                            kpi=kpi,
                            municipality=where,
                            year=year,
                        )
                    )
                yield KoladaValue(
                    kpi=kpi,
                    municipality=where,
                    year=year,
                    gender=str(cell.get("gender") or "T"),
                    value=value,
                    status=str(cell.get("status") or ""),
                    fetched_at=page.fetched_at,
                    from_cache=page.from_cache,
                )
