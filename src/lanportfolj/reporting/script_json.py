"""JSON that is safe inside an HTML ``<script>`` element, and the one form of inline script we emit.

Every value this project puts into a ``<script>`` goes through :func:`dumps`. Plain ``json.dumps`` is
not enough there: the HTML parser ends a script element at the first ``</script`` whatever the
JavaScript means, so a borrower's ``</script><form …>`` in a chart label would close it and start
markup of the borrower's choosing; ``<!--`` changes how the parser reads the rest of the element; and
U+2028 / U+2029 are line terminators in older JavaScript engines. :func:`dumps` writes ``<``, ``>``,
``&``, U+2028 and U+2029 as JSON unicode escapes (``\\u003c`` …), which mean the same string to
``JSON.parse`` and to JavaScript and cannot be read as markup.

The only inline script the charts emit is :func:`figure_call`: ``Plotly.newPlot("<id>",...<array>);``
with a generated id and one JSON array (data, which cannot run). ``web.security`` hashes exactly that
form for the Content-Security-Policy and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from typing import Any, Final

#: What a chart's element id looks like: generated (``reporting.charts.div_id``), never user text.
ELEMENT_ID: Final = re.compile(r"[a-z][a-z0-9-]{0,80}")

_UNSAFE: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_UNSAFE_CHARS: Final = re.compile("[<>&\u2028\u2029]")

_SCRIPT: Final = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC: Final = re.compile(r"\bsrc\s*=", re.IGNORECASE)

#: The figure call as emitted by :func:`figure_call` (``args`` is checked as JSON separately).
FIGURE_CALL: Final = re.compile(
    r'Plotly\.newPlot\("(?P<id>[a-z][a-z0-9-]{0,80})",\.\.\.(?P<args>\[.*\])\);', re.DOTALL
)


#: The one other inline script we emit, once per report document, right after plotly.js and before
#: any figure call: it makes ``Plotly.newPlot`` draw a figure only when its element comes near the
#: viewport (an IntersectionObserver), and every waiting figure before printing; a waiting figure's
#: element keeps the figure's height (through the CSSOM, which the style policy does not govern), so
#: only the figures near the viewport are near it, not every one still waiting. A national report has
#: hundreds of charts (a comparison per loan and indicator): drawn at once, Chromium took 50 s to open
#: it; on demand, the first screen draws at once. Constant text, so its hash is allowed like a figure
#: call's and the figure calls stay exactly what they were.
DRAW_ON_DEMAND: Final = (
    "(function(){var P=window.Plotly;if(!P||!window.IntersectionObserver)return;"
    "var draw=P.newPlot,waiting={};"
    "function now(id){var f=waiting[id];if(f){delete waiting[id];seen.unobserve(f[0]);"
    "draw.apply(P,f[1]);}}"
    "var seen=new IntersectionObserver(function(entries){entries.forEach(function(e){"
    'if(e.isIntersecting){now(e.target.id);}});},{rootMargin:"800px 0px"});'
    "P.newPlot=function(id){var el=document.getElementById(id);"
    'if(!el||typeof id!=="string"){return draw.apply(P,arguments);}'
    'var layout=arguments[2];if(layout&&layout.height){el.style.minHeight=layout.height+"px";}'
    "waiting[id]=[el,arguments];seen.observe(el);return Promise.resolve(el);};"
    'window.addEventListener("beforeprint",function(){Object.keys(waiting).forEach(now);});'
    "})();"
)


def dumps(value: Any) -> str:
    """``value`` as compact JSON that can stand anywhere inside a ``<script>`` element."""
    # ensure_ascii=False keeps non-Latin text readable (and the page small); the characters that
    # matter to the HTML parser or to JavaScript line breaking are escaped below
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE_CHARS.sub(lambda m: _UNSAFE[m.group(0)], text)


def figure_call(element_id: str, arguments: list[Any]) -> str:
    """The script text that draws a plotly figure into the element ``element_id``.

    ``element_id`` must be a generated id (:data:`ELEMENT_ID`): it is refused otherwise, so a caller
    that passes data by mistake fails loudly instead of writing it into the page.
    """
    if not ELEMENT_ID.fullmatch(element_id):
        raise ValueError(f"not a generated element id: {element_id!r}")
    return f"Plotly.newPlot({dumps(element_id)},...{dumps(arguments)});"


def is_figure_call(script_text: str) -> bool:
    """True when ``script_text`` is exactly a :func:`figure_call` whose arguments are JSON data
    (traces, layout and an optional config)."""
    match = FIGURE_CALL.fullmatch(script_text.strip())
    if match is None:
        return False
    try:
        args = json.loads(match.group("args"))
    except ValueError:
        return False
    return (
        isinstance(args, list)
        and 2 <= len(args) <= 3
        and isinstance(args[0], list)
        and all(isinstance(a, dict) for a in args[1:])
    )


def script_hash(script_text: str) -> str:
    """The CSP source expression (``'sha256-…'``) that allows an inline script with this text."""
    # browsers hash the text after the HTML parser has normalised line endings
    normalised = script_text.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256(normalised.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _plotly_library_hash() -> tuple[int, str]:
    from plotly.offline import get_plotlyjs

    library = get_plotlyjs()
    return len(library), script_hash(library)


def allowed_script_hashes(page: str) -> list[str]:
    """The CSP hashes of the inline scripts in ``page`` that may run: figure calls
    (:func:`is_figure_call`), :data:`DRAW_ON_DEMAND` and the plotly.js library that ships with
    plotly, byte for byte.

    Any other inline script (an injected one, an event handler attribute) gets no hash, so a policy
    made of these hashes refuses it."""
    hashes: list[str] = []
    for match in _SCRIPT.finditer(page):
        attributes, text = match.group(1), match.group(2)
        if _SRC.search(attributes) or not text.strip():
            continue
        if is_figure_call(text) or text == DRAW_ON_DEMAND:
            hashes.append(script_hash(text))
        elif len(text) > 1_000_000:
            size, library_hash = _plotly_library_hash()
            if len(text) == size and script_hash(text) == library_hash:
                hashes.append(library_hash)
    return sorted(set(hashes))
