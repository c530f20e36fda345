"""Every response that hands the user a named file goes through :func:`content_disposition`.

HTTP header values are Latin-1 on the wire, so a stored name such as ``värden€.csv`` put straight into
``filename="…"`` cannot even be encoded (a 500), and a quote or newline in it would break the header. The
header carries both forms RFC 6266 describes: a plain-ASCII ``filename`` for old clients and the exact name
percent-encoded as UTF-8 in ``filename*`` (RFC 5987), which every current browser prefers.
"""

from __future__ import annotations

from urllib.parse import quote

from lanportfolj.domain.filenames import ascii_filename, safe_filename


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """``attachment; filename="varden.csv"; filename*=UTF-8''v%C3%A4rden%E2%82%AC.csv``.

    The name is made safe first (:func:`lanportfolj.domain.filenames.safe_filename`), so whatever was
    stored, the header is one line of ASCII.
    """
    name = safe_filename(filename)
    fallback = ascii_filename(name)
    if fallback == name:
        return f'{disposition}; filename="{fallback}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_headers(filename: str) -> dict[str, str]:
    """Response headers for downloading ``filename``."""
    return {"Content-Disposition": content_disposition(filename)}
