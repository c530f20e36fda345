"""Integer parameters a request may send, bounded by what a database row id can be (issue 14).

Python's integers have no upper bound, the drivers' do: beyond 2⁶³−1 SQLite raises OverflowError and
PostgreSQL an out-of-range error, which would be a 500. A path id outside 1 … ``MAX_ROW_ID`` is a 400
(Litestar checks the bound before the handler runs); a form or query field holding one finds nothing.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from lanportfolj.domain.identifiers import MAX_ROW_ID, row_id_in_range

#: A row id in a path: ``/admin/users/{user_id:int}/role`` takes ``user_id: RowId``.
RowId = Annotated[int, Parameter(ge=1, le=MAX_ROW_ID)]


def row_id_or_none(raw: str) -> int | None:
    """A row id typed into a form or query (``"12"``), or None when it is blank, not ASCII digits
    (``"²"`` is a digit to :meth:`str.isdigit` but not to :func:`int`) or out of range."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if row_id_in_range(value) else None
