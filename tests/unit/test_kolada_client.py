"""The Kolada client against recorded v3 responses: paging, chunking, deleted values, retries, timeouts,
malformed answers, title checks, the cache. A fake transport serves only the URLs listed; any other
request fails the test, so nothing reaches the network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from lanportfolj.kolada.client import (
    BASE_URL,
    CachedBody,
    KoladaClient,
    KoladaError,
    chunks,
    load_expected_titles,
)
from lanportfolj.kolada.fetch import CompareChoice, parse_years
from lanportfolj.kolada.offline import OfflineKolada

pytestmark = pytest.mark.unit

RECORDED = Path(__file__).parents[1] / "fixtures" / "kolada" / "recorded"
DATASET = RECORDED.parent
DATA_URL = f"{BASE_URL}/data/kpi/N15428/municipality/0127/year/2022,2023,2024"
PAGE_2 = DATA_URL + "?page=2&per_page=2"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeKolada:
    """Serves a fixed list of answers per URL (in order); anything else is an error in the test."""

    def __init__(self, routes: dict[str, list[Answer]]) -> None:
        self.routes = routes
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.seen.append(url)
        assert url in self.routes, f"unexpected request {url}"
        answers = self.routes[url]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer


def recorded(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=(RECORDED / name).read_bytes())


class MemoryCache:
    def __init__(self) -> None:
        self.rows: dict[str, CachedBody] = {}

    def get(self, url: str) -> CachedBody | None:
        return self.rows.get(url)

    def put(self, url: str, body: str, fetched_at: datetime) -> None:
        self.rows[url] = CachedBody(body, fetched_at)


def client(fake: FakeKolada, **kwargs: object) -> tuple[KoladaClient, list[float]]:
    slept: list[float] = []
    c = KoladaClient(
        transport=httpx.MockTransport(fake),
        sleep=slept.append,
        now=lambda: T0,
        **kwargs,  # type: ignore[arg-type]
    )
    return c, slept


def test_follows_next_url_and_skips_deleted_and_empty_values() -> None:
    fake = FakeKolada(
        {DATA_URL: [recorded("data_page1.json")], PAGE_2: [recorded("data_page2.json")]}
    )
    c, _ = client(fake)
    values = c.data(kpis=["N15428"], municipalities=["0127"], years=[2024, 2022, 2023])
    assert fake.seen == [DATA_URL, PAGE_2]
    totals = {(v.year, v.gender): v.value for v in values}
    # 2023 was withdrawn by Kolada (isdeleted); the women's 2024 value is null, not zero
    assert totals == {
        (2022, "K"): Decimal("80.4"),
        (2022, "M"): Decimal("75.0"),
        (2022, "T"): Decimal("77.6"),
        (2024, "T"): Decimal("79.3"),
    }
    assert all(v.fetched_at == T0 and not v.from_cache for v in values)


def test_long_id_lists_are_sent_in_chunks_of_25() -> None:
    codes = [f"{n:04d}" for n in range(100, 160)]  # 60 municipalities
    server = OfflineKolada(DATASET)
    c = KoladaClient(transport=server.transport(), sleep=lambda _s: None)
    c.data(kpis=["N01951"], municipalities=codes, years=[2024])
    data_urls = [u for u in server.requests if "/data/" in u]
    assert len(data_urls) == 3
    assert [u.split("/municipality/")[1].split("/")[0].count(",") + 1 for u in data_urls] == [
        25,
        25,
        10,
    ]
    assert server.unexpected == []
    assert [len(c) for c in chunks(list(range(51)))] == [25, 25, 1]


def test_429_is_retried_after_the_servers_pause_then_succeeds() -> None:
    fake = FakeKolada(
        {
            DATA_URL: [
                httpx.Response(429, headers={"Retry-After": "3"}),
                httpx.Response(503),
                recorded("data_page2.json"),
            ]
        }
    )
    c, slept = client(fake, backoff=0.5)
    values = c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert [v.year for v in values] == [2024]
    assert slept == [3.0, 1.0]  # Retry-After honoured, then exponential back-off
    assert fake.seen == [DATA_URL] * 3


def test_a_failing_api_gives_up_with_kpi_municipality_and_year_named() -> None:
    fake = FakeKolada({DATA_URL: [httpx.Response(500)]})
    c, slept = client(fake, retries=2)
    with pytest.raises(KoladaError) as failed:
        c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert len(slept) == 2
    assert failed.value.issue.code == "kolada-unavailable"
    assert failed.value.issue.message_en.startswith(
        "KPI N15428, municipality 0127, year 2022–2024: Kolada answered with error 500, and no saved"
        " answer exists. Nothing was changed; try again later."
    )
    assert failed.value.issue.message_sv.startswith("nyckeltal N15428, kommun 0127, år 2022–2024")


def test_a_slow_api_times_out_and_is_reported() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    c, _ = client(FakeKolada({DATA_URL: [slow]}), retries=1, timeout=0.5)
    with pytest.raises(KoladaError) as failed:
        c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert "Kolada gave no answer within 0.5 s" in failed.value.issue.message_en
    assert "Kolada svarade inte inom 0,5 s" in failed.value.issue.message_sv


def test_no_network_is_said_in_plain_words_in_both_languages() -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    c, _ = client(FakeKolada({DATA_URL: [offline]}), retries=0)
    with pytest.raises(KoladaError) as failed:
        c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    issue = failed.value.issue
    assert issue.code == "kolada-unavailable"
    assert "There is no network connection to Kolada" in issue.message_en
    assert "Nothing was changed; try again later." in issue.message_en
    assert "Ingen nätverksanslutning till Kolada" in issue.message_sv
    assert "Inget ändrades; försök igen senare." in issue.message_sv
    # no exception class names or errno text reach a person
    for text in (issue.message_en, issue.message_sv):
        assert "ConnectError" not in text
        assert "Errno" not in text


def test_a_malformed_response_is_refused_and_never_cached() -> None:
    cache = MemoryCache()
    c, _ = client(FakeKolada({DATA_URL: [recorded("malformed.json")]}), cache=cache)
    with pytest.raises(KoladaError) as failed:
        c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert failed.value.issue.code == "kolada-malformed"
    assert "KPI N15428, municipality 0127" in failed.value.issue.message_en
    assert cache.rows == {}


def test_a_refused_request_is_not_retried() -> None:
    fake = FakeKolada({DATA_URL: [httpx.Response(422, json={"error": "too many ids"})]})
    c, slept = client(fake)
    with pytest.raises(KoladaError) as failed:
        c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert failed.value.issue.code == "kolada-rejected" and slept == []


def test_malformed_ids_are_refused_before_any_request() -> None:
    c, _ = client(FakeKolada({}))
    with pytest.raises(KoladaError) as bad_kpi:
        c.data(kpis=["X1"], municipalities=["0127"], years=[2024])
    with pytest.raises(KoladaError) as bad_code:
        c.data(kpis=["N15428"], municipalities=["127"], years=[2024])
    assert bad_kpi.value.issue.kpi == "X1"
    assert bad_code.value.issue.municipality == "127"


def test_network_down_uses_the_cached_page_with_its_fetch_date() -> None:
    cache = MemoryCache()
    earlier = datetime(2025, 11, 1, tzinfo=UTC)
    cache.put(DATA_URL, (RECORDED / "data_page2.json").read_text("utf-8"), earlier)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("unreachable", request=request)

    c, _ = client(FakeKolada({DATA_URL: [down]}), cache=cache, retries=0)
    values = c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert [(v.value, v.fetched_at, v.from_cache) for v in values] == [
        (Decimal("79.3"), earlier, True)
    ]


def test_a_fresh_answer_is_cached_with_the_time_fetched() -> None:
    cache = MemoryCache()
    c, _ = client(FakeKolada({DATA_URL: [recorded("data_page2.json")]}), cache=cache)
    c.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    assert cache.rows[DATA_URL].fetched_at == T0
    # cache-first reproduces the page without asking Kolada again
    again, _ = client(FakeKolada({}), cache=cache, mode="cache-first")
    assert [
        v.year
        for v in again.data(kpis=["N15428"], municipalities=["0127"], years=[2022, 2023, 2024])
    ] == [2024]


def test_a_reused_kpi_id_is_caught_by_its_title() -> None:
    url = f"{BASE_URL}/kpi/N07633,N15428,N99999"
    c, _ = client(FakeKolada({url: [recorded("kpi_retired.json")]}))
    metas = c.kpis(["N15428", "N07633", "N99999"])
    titles = load_expected_titles()
    assert c.check_title(metas["N15428"], titles["N15428"], kpi="N15428") is None
    changed = c.check_title(metas["N07633"], titles["N07633"], kpi="N07633")
    assert changed is not None and changed.code == "kpi-title-changed"
    assert "Anmälda brott om skadegörelse" in changed.message_en
    unknown = c.check_title(metas.get("N99999"), None, kpi="N99999")
    assert unknown is not None and unknown.code == "unknown-kpi"
    assert unknown.message_en.startswith("KPI N99999:")


def test_municipality_groups_by_title_with_members() -> None:
    url = f"{BASE_URL}/municipality_groups?title=Botkyrka"
    c, _ = client(FakeKolada({url: [recorded("groups_botkyrka.json")]}))
    groups = c.municipality_groups("Botkyrka")
    assert [g.id for g in groups] == ["G90127", "G90128"]
    assert groups[1].members == (("0181", "Södertälje"), ("0191", "Sigtuna"))


def test_every_library_mapping_has_an_expected_title() -> None:
    from lanportfolj.library import load_library

    kpis = {ind.kolada.kpi for ind in load_library().values() if ind.kolada}
    assert kpis <= set(load_expected_titles())


def test_years_and_compare_options() -> None:
    assert parse_years("2018-2025", current_year=2026) == range(2018, 2026)
    assert parse_years("2024", current_year=2026) == range(2024, 2025)
    assert parse_years(None, current_year=2026) == range(2018, 2027)
    with pytest.raises(ValueError):
        parse_years("2025-2018", current_year=2026)
    assert CompareChoice.parse("similar") == CompareChoice(similar_area="övergripande")
    assert CompareChoice.parse("similar:grundskola") == CompareChoice(similar_area="grundskola")
    assert CompareChoice.parse("0126, 0136") == CompareChoice(codes=("0126", "0136"))
    assert CompareChoice.parse("") is None
