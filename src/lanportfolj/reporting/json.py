"""The report as JSON: the report dict, serialised deterministically.

The schema is ``docs/report-schema.json``. Decimals are strings with their fixed scale, so no reader
ever sees a binary float; keys are sorted and separators fixed, so the same dict always gives the same
bytes.
"""

from __future__ import annotations

from typing import Any

from lanportfolj.reporting.model import report_json


def render_json(data: dict[str, Any]) -> bytes:
    """The report dict as UTF-8 JSON bytes (sorted keys, compact, one trailing newline)."""
    pieces = report_json(data)
    pieces.append(b"\n")
    return b"".join(pieces)
