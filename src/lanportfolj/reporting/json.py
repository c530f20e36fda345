"""The report as JSON: the report dict, serialised deterministically.

The schema is ``docs/report-schema.json``. Decimals are strings with their fixed scale, so no reader
ever sees a binary float; keys are sorted and separators fixed, so the same dict always gives the same
bytes.
"""

from __future__ import annotations

import json
from typing import Any


def render_json(data: dict[str, Any]) -> bytes:
    """The report dict as UTF-8 JSON bytes (sorted keys, compact, one trailing newline)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")
