"""The one JSON-for-script serializer, the generated chart ids and the escaping of plotly texts."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from lanportfolj.reporting.charts import div_id, figure_html, plotly_text
from lanportfolj.reporting.script_json import (
    allowed_script_hashes,
    dumps,
    figure_call,
    is_figure_call,
    script_hash,
)

HOSTILE = [
    "</script><b id=pwn>x</b>",
    '"><img src=x id=pwn onerror=alert(1)>',
    '<a href="https://evil.example" id=pwn>x</a>',
    "<!-- <script>",
    "a\u2028b\u2029c",
    "__lanportfolj_csrf_token__ & more",
]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize("text", HOSTILE)
def test_dumps_round_trips_and_cannot_end_a_script(text: str) -> None:
    value = {"name": text, "list": [text, 1, None, 2.5]}
    out = dumps(value)
    assert json.loads(out) == value
    for unsafe in ("<", ">", "&", "\u2028", "\u2029"):
        assert unsafe not in out
    page = _parse(f"<script>var x = {out};</script><p>after</p>")
    assert page.scripts == [f"var x = {out};"]  # the parser saw one whole script, then the <p>
    assert [tag for tag, _ in page.tags] == ["script", "p"]


def test_dumps_escapes_exactly_the_five_characters() -> None:
    assert dumps("<>&\u2028\u2029é€") == '"\\u003c\\u003e\\u0026\\u2028\\u2029é€"'


def test_ids_are_generated_from_a_hash_never_the_text() -> None:
    for text in HOSTILE:
        ident = div_id("progress", "SH-2024-002", text)
        assert ident.startswith("chart-progress-") and len(ident) == len("chart-progress-") + 16
        assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in ident)
    # the same parts give the same id (the same dict renders the same HTML), others another
    assert div_id("trajectory", "SH-1") == div_id("trajectory", "SH-1")
    assert div_id("trajectory", "SH-1") != div_id("trajectory", "SH-2")
    assert div_id("trajectory", "a", "b") != div_id("trajectory", "a-b")
    with pytest.raises(ValueError):
        div_id("</script>")


def test_a_figure_call_refuses_an_id_that_is_not_generated() -> None:
    for text in [*HOSTILE, "progress-SH-1-Code", "Chart"]:
        with pytest.raises(ValueError, match="not a generated element id"):
            figure_call(text, [[], {}])


def test_plotly_text_escapes_every_string_for_plotlys_markup() -> None:
    spec = {
        "name": '<a href="https://evil.example">x</a>',
        "x": ["A & B", 2024],
        "title": {"text": "<b>bold</b>"},
        "marker": {"color": "#1f77b4", "size": 8},
        "missing": None,
    }
    assert plotly_text(spec) == {
        "name": '&lt;a href="https://evil.example"&gt;x&lt;/a&gt;',
        "x": ["A &amp; B", 2024],
        "title": {"text": "&lt;b&gt;bold&lt;/b&gt;"},
        "marker": {"color": "#1f77b4", "size": 8},
        "missing": None,
    }


def test_figure_html_is_inert_whatever_the_texts() -> None:
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "x": [2024], "y": [1.0], "name": t, "hovertext": [t]} for t in HOSTILE
    ]
    layout = {"title": {"text": HOSTILE[0]}, "annotations": [{"text": HOSTILE[2]}]}
    html = figure_html(div_id("comparison", *HOSTILE), traces, layout)
    page = _parse(html)
    assert [tag for tag, _ in page.tags] == ["div", "script"]
    assert all("pwn" not in (attrs.get("id") or "") for _, attrs in page.tags)
    (script,) = page.scripts
    assert is_figure_call(script)
    assert allowed_script_hashes(html) == [script_hash(script)]
    args = json.loads(script[script.index("...") + 3 : -2])
    names = [t["name"] for t in args[0]]
    assert names[2] == '&lt;a href="https://evil.example" id=pwn&gt;x&lt;/a&gt;'
    assert all("<" not in n and ">" not in n for n in names)
    assert args[1]["title"]["text"] == "&lt;/script&gt;&lt;b id=pwn&gt;x&lt;/b&gt;"


def test_only_the_exact_figure_form_gets_a_hash() -> None:
    good = figure_call("chart-x-0123", [[{"type": "bar"}], {"height": 1}])
    assert is_figure_call(good)
    for bad in (
        'Plotly.newPlot("chart-x",...[[], {}]);alert(1)',
        'Plotly.newPlot("chart-x",...[[], {}, alert(1)]);',
        'Plotly.newPlot("chart-x",...[[], {}]);alert(1);Plotly.newPlot("chart-x",...[[], {}]);',
        'Plotly.newPlot("Chart-X",...[[], {}]);',
        'Plotly.newPlot("chart-x",...[1, 2]);',
        "alert(1)",
    ):
        assert not is_figure_call(bad), bad
    page = f"<script>{good}</script><script>alert(1)</script><script src=x>{good}</script>"
    assert allowed_script_hashes(page) == [script_hash(good)]
