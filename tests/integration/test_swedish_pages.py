"""The analyst's and the borrower's pages read in Swedish (issue 18 item 7, the review of every page):
no English kind words, no unit named twice, a baseline not listed twice, shares as percentages,
SMART hints naming the indicator, one heading per section."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from test_list_exports import _client

from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import users


def _pages(client: TestClient, paths: list[str]) -> dict[str, str]:
    out = {}
    for path in paths:
        response = client.get(path + ("&" if "?" in path else "?") + "lang=sv")
        assert response.status_code == 200, path
        out[path] = response.text
    return out


def _demo_users(demo_settings) -> None:
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.ensure_demo_users(db)
    engine.dispose()


def test_the_analyst_reads_the_loan_assessment_and_programme_in_swedish(demo_settings):
    _demo_users(demo_settings)
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        pages = _pages(
            client,
            [
                "/loans/SH-2023-001",
                "/analyst/applications/SH-2025-001",
                "/programme",
                "/loans/SH-2023-001/evaluation",
            ],
        )
        loan = pages["/loans/SH-2023-001"]
        assert "(output)" not in loan and "(outcome)" not in loan
        assert "prestation" in loan and "effekt" in loan
        assert "(index) (index)" not in re.sub(r"<[^>]+>", "", loan)
        # the baseline year's reported value that is the baseline is one row, noted as the baseline
        marker = 'data-testid="progress-resident_wellbeing_index"'
        assert marker in loan
        section = loan.split(marker, 1)[1].split("</table>", 1)[0]
        assert section.count("<td>2022</td>") == 1, section
        assert re.search(r"<td>2022</td><td class=\"num\">64</td><td>Utgångsvärde</td>", section)
        # the SMART hint names the indicator, not its code
        assessment = pages["/analyst/applications/SH-2025-001"]
        assert "youth_activity_participants" not in re.sub(r"<[^>]+>", " ", assessment)
        # a bond's share of the pool as a percentage, not 0.85445742
        programme = re.sub(r"<[^>]+>", " ", pages["/programme"])
        assert not re.search(r"\b0\.\d{4,}\b", programme), programme
        assert re.search(r"\d+,\d %", programme)
        evaluation = pages["/loans/SH-2023-001/evaluation"]
        assert evaluation.count("Statistisk styrka") == 1
    finally:
        client.__exit__(None, None, None)


def test_a_progress_chart_uses_swedish_separators_and_full_numbers(demo_settings):
    _demo_users(demo_settings)
    client = _client(demo_settings, "lantagare@demo.lanportfolj.se")
    try:
        loan = client.get("/loans/SH-2023-001?lang=sv").text
        # plotly's own "6.5B" would be English; the axis gets "6 500 000 000" with Swedish marks
        assert '"exponentformat":"none"' in loan.replace(" ", "")
        assert '"separators":",\u00a0"' in loan
    finally:
        client.__exit__(None, None, None)
