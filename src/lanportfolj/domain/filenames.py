"""File names a user sends, made safe to store, show and send back.

A browser's file name is the user's text: it may carry a path (old browsers send ``C:\\Users\\…``), control
characters (a bell, a newline that would split a header or a log line), direction overrides that make
``gpj.csv`` look like ``csv.jpg``, or decomposed letters that compare unequal to the same name typed on
another system. What is stored is the last path component, NFC-normalised, without control or format
characters, and at most :data:`MAX_LENGTH` characters (the extension kept).
"""

from __future__ import annotations

import unicodedata

#: Longest stored name, in characters (the ``submission.filename`` column holds 300).
MAX_LENGTH = 200
#: The name used when nothing usable is left.
FALLBACK = "upload"
#: Unicode categories removed: control (Cc), format (Cf: bidi overrides, zero-width), line and
#: paragraph separators (Zl, Zp), surrogates (Cs), unassigned (Cn) and private use (Co).
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn", "Co"})
#: Longest extension kept whole when a name is shortened.
_MAX_EXTENSION = 16


def safe_filename(name: str, *, max_length: int = MAX_LENGTH) -> str:
    """``name`` as it may be stored: last path component, NFC, no control characters, length-capped.

    ``"C:\\\\tmp\\\\värden€\\x07.csv"`` → ``"värden€.csv"``; an empty or dot-only result becomes
    ``"upload"``.
    """
    text = unicodedata.normalize("NFC", name)
    # both separators, whatever the server's OS: the name came from someone else's
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _REMOVED_CATEGORIES)
    # other spaces (tabs became nothing above; NBSP and friends) read as one plain space
    text = " ".join(text.split())
    # a leading dot hides a file on Unix; trailing dots and spaces are dropped by Windows
    text = text.lstrip(". ").rstrip(". ")
    if len(text) > max_length:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION:
            text = stem[: max_length - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            text = text[:max_length].rstrip(". ")
    return text or FALLBACK


def ascii_filename(name: str) -> str:
    """An ASCII stand-in for ``name`` (for clients that ignore RFC 5987): ``värden€.csv`` → ``varden.csv``.

    Accents are dropped by decomposition, other non-ASCII letters and the characters a quoted header
    value cannot hold (``"``, ``\\``, ``;``, ``%``) become nothing or ``_``.
    """
    decomposed = unicodedata.normalize("NFKD", safe_filename(name))
    text = "".join(ch for ch in decomposed if ch.isascii() and ch.isprintable())
    text = "".join("_" if ch in '"\\;%' else ch for ch in text)
    text = " ".join(text.split())
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    stem = stem.strip(" ._") or FALLBACK
    return f"{stem}.{extension}" if extension else stem
