"""Hostile text stored straight into the demo database (no validation on the way), and the checks that a
page or a report file showing it stays inert. Shared by tests/integration/test_sinks.py and
tests/browser/test_sinks_browser.py.

The loan is the demo's SH-2024-002: it has an own indicator (``maths_science_pass_share``) with values
for the school and for one comparison group, so its loan page, its evaluation page and the bond report
all draw charts from the texts changed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from lanportfolj.db import session_scope
from lanportfolj.models import Borrower, Goal, IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.reporting.script_json import (
    DRAW_ON_DEMAND,
    FIGURE_CALL,
    allowed_script_hashes,
    is_figure_call,
)

LOAN = "SH-2024-002"
OWN_CODE = "maths_science_pass_share"
PLACEHOLDER = "__lanportfolj_csrf_token__"

CLOSE_SCRIPT = "</script><b id=pwn>x</b>"
ATTRIBUTE = '"><img src=x id=pwn onerror=alert(1)>'
LINK = '<a href="https://evil.example" id=pwn>x</a>'
SHORT_LINK = '<a href="https://evil.example">u</a>'  # a unit holds at most 40 characters
SEPARATORS = "\u2028\u2029"

#: what each stored field holds (the code is unique: library codes stay as they are)
CODE = f"{CLOSE_SCRIPT}{PLACEHOLDER}"
NAME = f"{ATTRIBUTE} {PLACEHOLDER}{SEPARATORS}"
UNIT = SHORT_LINK
GROUP = f"{LINK}{SEPARATORS}"
BORROWER = f"{CLOSE_SCRIPT} {PLACEHOLDER}"
GOAL = f"{PLACEHOLDER} {ATTRIBUTE}"
COMMENT = f"{CLOSE_SCRIPT}{SEPARATORS}{PLACEHOLDER}"


def store_hostile(engine: Engine) -> None:
    """Writes the payloads into SH-2024-002's own indicator, comparison group, borrower, goals and
    comments, as a compromised import or a direct database write would."""
    with session_scope(engine) as db:
        loan = db.exec(select(Loan).where(Loan.reference == LOAN)).one()
        own = db.exec(
            select(IndicatorDefinition).where(
                IndicatorDefinition.code == OWN_CODE, IndicatorDefinition.loan_id == loan.id
            )
        ).one()
        own.code, own.name_en, own.name_sv, own.unit = CODE, NAME, NAME, UNIT
        db.add(own)
        borrower = db.get(Borrower, loan.borrower_id)
        assert borrower is not None
        borrower.name = BORROWER
        db.add(borrower)
        for goal in db.exec(select(Goal).where(Goal.loan_id == loan.id)).all():
            goal.text = GOAL
            db.add(goal)
        ids = db.exec(select(LoanIndicator.id).where(LoanIndicator.loan_id == loan.id)).all()
        measurements = db.exec(
            select(Measurement).where(col(Measurement.loan_indicator_id).in_(ids))
        ).all()
        assert any(m.group_name for m in measurements), "the demo loan lost its comparison group"
        for m in measurements:
            if m.group_name:
                m.group_name = GROUP
            m.comment = COMMENT
            db.add(m)


@dataclass
class Parsed:
    ids: list[str]
    hrefs: list[str]
    handlers: list[str]
    images: list[str]
    inline_scripts: list[str]
    metas: list[dict[str, str | None]]
    csrf_values: list[str]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Parsed([], [], [], [], [], [], [])
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("id"):
            self.out.ids.append(named["id"] or "")
        if tag == "a" and named.get("href"):
            self.out.hrefs.append(named["href"] or "")
        if tag == "img":
            self.out.images.append(named.get("src") or "")
        if tag == "meta":
            self.out.metas.append(named)
        if tag == "input" and named.get("name") == "_csrf_token":
            self.out.csrf_values.append(named.get("value") or "")
        self.out.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self._script = [] if "src" not in named else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.out.inline_scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def parse(html: str) -> Parsed:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.out


def figures(html: str) -> list[list[Any]]:
    """Every figure's [traces, layout, config] in ``html``."""
    out = []
    for script in parse(html).inline_scripts:
        match = FIGURE_CALL.fullmatch(script.strip())
        if match:
            out.append(json.loads(match.group("args")))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def script_sources(policy: str) -> list[str]:
    (directive,) = [d.strip() for d in policy.split(";") if d.strip().startswith("script-src ")]
    return directive.split()[1:]


def assert_inert(html: str, policy: str) -> list[list[Any]]:
    """No markup from stored text, no script the policy would run but ours, and no plotly text that
    plotly.js would read as markup. Returns the page's figures."""
    page = parse(html)
    assert "pwn" not in page.ids
    assert not any("evil.example" in href for href in page.hrefs)
    assert page.images == [] and page.handlers == []
    allowed = set(script_sources(policy))
    assert "'unsafe-inline'" not in allowed
    # every inline script is one of ours, and the policy allows exactly ours (a hash each)
    assert page.inline_scripts, "the page drew no chart"
    hashes = set(allowed_script_hashes(html))
    for script in page.inline_scripts:
        assert is_figure_call(script) or script == DRAW_ON_DEMAND or len(script) > 1_000_000, (
            script[:200]
        )
    assert hashes <= allowed and len(hashes) == len(set(page.inline_scripts))
    found = figures(html)
    for traces, layout, *_config in found:
        for text in _strings(traces) + _strings(layout):
            assert "<" not in text and ">" not in text, text  # escaped for plotly.js
    return found


def assert_hostile_texts_are_drawn(found: list[list[Any]]) -> None:
    """The stored texts reached the charts, as text: the group name is a legend entry and the
    indicator's name and unit its title, each escaped for plotly.js (which shows it literally)."""
    names = {t.get("name") for traces, *_ in found for t in traces}
    assert '&lt;a href="https://evil.example" id=pwn&gt;x&lt;/a&gt;' + SEPARATORS in names
    titles = {(layout.get("title") or {}).get("text", "") for _t, layout, *_ in found}
    assert any('"&gt;&lt;img src=x id=pwn onerror=alert(1)&gt;' in t for t in titles), titles
    assert any('&lt;a href="https://evil.example"&gt;u&lt;/a&gt;' in t for t in titles), titles


def assert_token_only_in_its_slots(html: str, token: str) -> None:
    """The viewer's CSRF token is in the page's CSRF fields and nowhere else; the stored placeholder
    text comes out exactly as stored."""
    page = parse(html)
    assert token and len(token) >= 16
    assert page.csrf_values and set(page.csrf_values) == {token}
    slots = len(re.findall(rf'name="_csrf_token" value="{re.escape(token)}"', html))
    assert html.count(token) == slots
    assert PLACEHOLDER in html  # the stored text, untouched
