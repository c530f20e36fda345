"""The fixed inline ``<style>`` texts the product's pages and report files may carry, as CSP hashes.

Both the server's policy (``web.security``) and a downloaded report's own ``<meta>`` policy
(``reporting.html``) allow styles by these hashes instead of ``'unsafe-inline'``: a ``<style>`` or
``style=`` smuggled in through stored text matches none of them, so the browser refuses it.
"""

from __future__ import annotations

import re
from functools import cache

from lanportfolj.reporting.script_json import script_hash

#: plotly.js's fixed stylesheets: ``var e=document.createElement("style");e.id="…",e.textContent='…'``.
_LIBRARY_STYLESHEET = re.compile(
    r'createElement\("style"\);(?P<var>\w+)\.id="[0-9a-f]+",(?P=var)\.textContent=\'(?P<css>[^\'\\]*)\''
)
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)


@cache
def plotly_style_hashes() -> tuple[str, ...]:
    """The ``<style>`` elements plotly.js itself adds: the empty one it fills through the CSSOM, and each
    stylesheet the shipped library writes as fixed text (read from it, so an upgrade follows)."""
    from plotly.offline import get_plotlyjs

    texts = ["", *(m.group("css") for m in _LIBRARY_STYLESHEET.finditer(get_plotlyjs()))]
    return tuple(dict.fromkeys(script_hash(text) for text in texts))


@cache
def report_style_hashes() -> tuple[str, ...]:
    """The bond report's own ``<style>``: fixed text in ``report/base.html`` (no template code inside)."""
    from lanportfolj.paths import templates_dir

    template = (templates_dir() / "report" / "base.html").read_text(encoding="utf-8")
    return tuple(script_hash(m.group(1)) for m in _STYLE_ELEMENT.finditer(template))


def style_element_hashes() -> tuple[str, ...]:
    """Every inline ``<style>`` any page or report file of the product may carry, as CSP hashes."""
    return (*plotly_style_hashes(), *report_style_hashes())
