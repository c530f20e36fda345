"""The grammar of every identifier the system stores, and the limits on everything a request can make big.

An identifier ends up in places where text is not inert: element ids and script blocks of a page, a file
name in a download header, a cell of an investor's workbook, a URL. Whatever the sink does to protect itself,
an identifier that can only ever hold a few harmless characters cannot carry markup into it. Each kind has
one function that returns a :class:`Problem` (field, value, reason in Swedish and English) or None; the
web form, the API, ``portfolio load``, the import and the stored-value check
(:mod:`lanportfolj.services.identifier_check`) all call the same function.

The grammars (documented in the README as well):

==================  ===========================================================================================
indicator code      ``^[a-z][a-z0-9_]{1,63}$`` — library and a loan's own (``dwellings_renovated``)
loan reference      ``^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,6}$`` — given out by the system as ``SH-YYYY-NNN``;
                    staff, ``portfolio load`` and the demo may set one only within this pattern
comparison group    1–120 characters: a letter or digit first, then letters, digits, single spaces and
                    ``- – _ . , : ' ’ ( ) / & + %``
file name           1–255 characters, no control or format characters, none of ``/ \\ < > : " | ? *``,
                    not starting with a dot
ISIN                ISO 6166: 2 letters, 9 letters or digits, a check digit (Luhn over the letters
                    expanded to numbers, A = 10 … Z = 35)
org number          ``NNNNNN-NNNN`` with a Luhn check digit (:mod:`lanportfolj.domain.orgnr`)
==================  ===========================================================================================

Patterns are matched with ``re.fullmatch``: a ``$`` alone would let a trailing newline through.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from lanportfolj.domain.orgnr import OrgnrError, normalise_orgnr

# --- grammars -----------------------------------------------------------------------------------------

INDICATOR_CODE_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
LOAN_REFERENCE_PATTERN = r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,6}$"
#: The prefix of references the system gives out (``SH-2026-001``).
REFERENCE_PREFIX = "SH"
COMPARISON_GROUP_MAX = 120
FILE_NAME_MAX = 255

_INDICATOR_CODE = re.compile(INDICATOR_CODE_PATTERN)
_LOAN_REFERENCE = re.compile(LOAN_REFERENCE_PATTERN)
_GROUP_PUNCTUATION = "-–_.,:'’()/&+%"
_GROUP = re.compile(r"^[^\W_](?:[^\W_]|[" + re.escape(_GROUP_PUNCTUATION) + r"]| (?! ))*$")
_FILE_FORBIDDEN = set('/\\<>:"|?*')
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")

# --- limits -------------------------------------------------------------------------------------------

#: Longest title, indicator name, comparison group and other one-line names, in characters.
NAME_MAX = 200
#: Longest unit of an own indicator.
UNIT_MAX = 40
#: Longest data source.
DATA_SOURCE_MAX = 300
#: Longest goal text.
GOAL_TEXT_MAX = 2_000
#: Longest long text (the application's answers, intervention logic, evaluation plan …).
LONG_TEXT_MAX = 10_000
#: Most goals and indicators on one application.
MAX_GOALS = 20
MAX_INDICATORS = 40
#: Most entries in a short list (SDG targets, target populations, a goal's indicators).
MAX_LIST_ITEMS = 40
#: Deepest nesting of arrays and objects in an API body.
MAX_JSON_DEPTH = 20
#: Longest span of years one Kolada fetch may ask for.
MAX_KOLADA_YEARS = 25
#: Largest amount a money column holds (NUMERIC(20, 2)): below 10¹⁸ kronor.
MAX_AMOUNT = Decimal("1e18")
#: Largest measured, baseline or target value a value column holds (NUMERIC(28, 6)).
MAX_VALUE = Decimal("1e22")
#: Largest planned sample per arm (the column is an integer; no intervention reaches ten million).
MAX_SAMPLE_PER_ARM = 10_000_000
#: Largest row id a path or query parameter may name (a signed 64-bit integer, what SQLite and
#: PostgreSQL's bigint hold); beyond it a driver raises instead of finding nothing.
MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True)
class Problem:
    """An identifier or a size that cannot be accepted: which field, the value, and why."""

    field: str
    value: str
    code: str
    message_sv: str
    message_en: str

    def message(self, lang: str = "en") -> str:
        """The reason in ``lang`` (``sv`` or ``en``)."""
        return self.message_sv if lang == "sv" else self.message_en


def shown(value: object, limit: int = 80) -> str:
    """``value`` as a message quotes it: escaped (no control characters, no raw newlines) and cut short."""
    text = str(value)
    cut = text[:limit]
    escaped = cut.encode("unicode_escape").decode("ascii") if not cut.isprintable() else cut
    return escaped + ("…" if len(text) > limit else "")


def indicator_code_problem(value: str, field: str = "code") -> Problem | None:
    """An indicator code (library or own): 2–64 characters, a lower-case letter first, then lower-case
    letters, digits and underscores."""
    if _INDICATOR_CODE.fullmatch(value or ""):
        return None
    return Problem(
        field,
        value,
        "bad-indicator-code",
        f"{field}: koden '{shown(value)}' ska vara 2–64 tecken: en liten bokstav först, sedan små "
        "bokstäver (a–z), siffror och understreck, t.ex. dwellings_renovated.",
        f"{field}: the code '{shown(value)}' must be 2–64 characters: a lower-case letter first, then "
        "lower-case letters (a–z), digits and underscores, e.g. dwellings_renovated.",
    )


def loan_reference_problem(value: str, field: str = "reference") -> Problem | None:
    """A loan or application reference: ``SH-2026-001`` (2–4 capital letters, the year, 3–6 digits)."""
    if _LOAN_REFERENCE.fullmatch(value or ""):
        return None
    return Problem(
        field,
        value,
        "bad-reference",
        f"{field}: referensen '{shown(value)}' ska skrivas som SH-2026-001: 2–4 versaler, bindestreck, "
        "ett fyrsiffrigt år, bindestreck och 3–6 siffror.",
        f"{field}: the reference '{shown(value)}' must look like SH-2026-001: 2–4 capital letters, a "
        "hyphen, a four-digit year, a hyphen and 3–6 digits.",
    )


def comparison_group_problem(value: str, field: str = "group") -> Problem | None:
    """A comparison group's name (``Skola B``, ``Liknande kommuner (medel)``); empty means none."""
    if not value:
        return None
    if len(value) <= COMPARISON_GROUP_MAX and _GROUP.fullmatch(value):
        return None
    return Problem(
        field,
        value,
        "bad-group-name",
        f"{field}: jämförelsegruppens namn '{shown(value)}' ska vara högst {COMPARISON_GROUP_MAX} tecken: "
        f"en bokstav eller siffra först, sedan bokstäver, siffror, enkla mellanslag och {_GROUP_PUNCTUATION}.",
        f"{field}: the comparison group's name '{shown(value)}' must be at most {COMPARISON_GROUP_MAX} "
        "characters: a letter or digit first, then letters, digits, single spaces and "
        f"{_GROUP_PUNCTUATION}.",
    )


def _control(char: str) -> bool:
    # Cc: C0/C1 controls; Cf: format characters (bidi overrides, zero-width); Zl/Zp: U+2028/U+2029
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def file_name_problem(value: str, field: str = "file") -> Problem | None:
    """An uploaded file's name: 1–255 characters, no control characters, no path or shell characters."""
    reason_sv = reason_en = ""
    if not value.strip():
        reason_sv, reason_en = "namnet är tomt", "the name is empty"
    elif len(value) > FILE_NAME_MAX:
        reason_sv = f"namnet är längre än {FILE_NAME_MAX} tecken"
        reason_en = f"the name is longer than {FILE_NAME_MAX} characters"
    elif any(_control(c) for c in value):
        reason_sv, reason_en = (
            "namnet innehåller styrtecken",
            "the name contains control characters",
        )
    elif any(c in _FILE_FORBIDDEN for c in value):
        found = " ".join(sorted({c for c in value if c in _FILE_FORBIDDEN}))
        reason_sv, reason_en = f"namnet innehåller {found}", f"the name contains {found}"
    elif value.startswith("."):
        reason_sv, reason_en = "namnet börjar med en punkt", "the name starts with a dot"
    if not reason_en:
        return None
    return Problem(
        field,
        value,
        "bad-file-name",
        f"{field}: filnamnet '{shown(value)}' kan inte användas: {reason_sv}.",
        f"{field}: the file name '{shown(value)}' cannot be used: {reason_en}.",
    )


def isin_check_digit(first_eleven: str) -> int:
    """The ISO 6166 check digit: letters become numbers (A = 10 … Z = 35), then Luhn from the right."""
    digits = "".join(str(int(c, 36)) for c in first_eleven)
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char) * (2 if position % 2 == 0 else 1)
        total += number - 9 if number > 9 else number
    return (10 - total % 10) % 10


#: A UN Sustainable Development Goal (1–17), or one of its targets: ``11.1``, ``1.a``, ``17.19``.
SDG_TARGET_PATTERN = r"^(1[0-7]|[1-9])(\.([1-9][0-9]?|[a-z]))?$"
_SDG_TARGET = re.compile(SDG_TARGET_PATTERN)


def sdg_target_problem(value: str, field: str = "sdgs") -> Problem | None:
    """An SDG goal or target as the UN numbers it: the goal 1–17, then ``.`` and a number or a letter."""
    if _SDG_TARGET.fullmatch(value or ""):
        return None
    return Problem(
        field,
        value,
        "bad-sdg-target",
        f"{field}: '{shown(value)}' är inget av FN:s globala mål eller delmål; skriv målet (1–17) "
        "och delmålet, t.ex. 11.1 eller 1.a.",
        f"{field}: '{shown(value)}' is not one of the UN's Sustainable Development Goals or targets; "
        "write the goal (1–17) and the target, e.g. 11.1 or 1.a.",
    )


def isin_problem(value: str, field: str = "isin") -> Problem | None:
    """An ISIN: two letters (the country), nine letters or digits, a Luhn check digit."""
    if not _ISIN.fullmatch(value or ""):
        return Problem(
            field,
            value,
            "bad-isin",
            f"{field}: '{shown(value)}' är inget ISIN: 12 tecken, två versaler (landet), nio versaler "
            "eller siffror och en kontrollsiffra, t.ex. SE0021150208.",
            f"{field}: '{shown(value)}' is not an ISIN: 12 characters, two capital letters (the "
            "country), nine capital letters or digits and a check digit, e.g. SE0021150208.",
        )
    expected = isin_check_digit(value[:11])
    if int(value[11]) != expected:
        return Problem(
            field,
            value,
            "bad-isin",
            f"{field}: kontrollsiffran i ISIN {value} stämmer inte: sista siffran är {value[11]} men "
            f"ska vara {expected}.",
            f"{field}: the check digit of ISIN {value} is wrong: the last digit is {value[11]} but "
            f"should be {expected}.",
        )
    return None


def orgnr_problem(value: str, field: str = "orgnr") -> Problem | None:
    """A Swedish organisation number as stored: exactly ``NNNNNN-NNNN`` with a valid check digit."""
    try:
        normal = normalise_orgnr(value)
    except OrgnrError as exc:
        return Problem(
            field, value, "bad-orgnr", f"{field}: {exc.message_sv}", f"{field}: {exc.message_en}"
        )
    if normal != value:
        return Problem(
            field,
            value,
            "bad-orgnr",
            f"{field}: '{shown(value)}' ska lagras som {normal}.",
            f"{field}: '{shown(value)}' must be stored as {normal}.",
        )
    return None


# --- limits -------------------------------------------------------------------------------------------


def too_long(field: str, value: str, limit: int) -> Problem | None:
    """A text longer than ``limit`` characters; the message names the field and the limit."""
    if len(value) <= limit:
        return None
    return Problem(
        field,
        shown(value, 40),
        "too-long",
        f"{field}: texten är {len(value)} tecken; högst {limit} tecken är tillåtna.",
        f"{field}: the text is {len(value)} characters long; at most {limit} are allowed.",
    )


def too_many(field: str, count: int, limit: int) -> Problem | None:
    """More than ``limit`` entries in a list; the message names the field and the limit."""
    if count <= limit:
        return None
    return Problem(
        field,
        str(count),
        "too-many",
        f"{field}: {count} rader; högst {limit} är tillåtna.",
        f"{field}: {count} entries; at most {limit} are allowed.",
    )


def too_big(field: str, value: Decimal | int, limit: Decimal | int) -> Problem | None:
    """A number whose size (either sign) reaches ``limit``: it would not fit its column."""
    if abs(Decimal(value)) < Decimal(limit):
        return None
    shown_limit = f"{limit:,}".replace(",", " ") if isinstance(limit, int) else f"{limit:.0E}"
    return Problem(
        field,
        shown(value, 40),
        "too-big",
        f"{field}: talet är för stort; det ska vara mindre än {shown_limit}.",
        f"{field}: the number is too large; it must be less than {shown_limit}.",
    )


def json_depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``value``'s arrays and objects nest, counted up to ``limit + 1`` (so a hostile body
    costs no more than the limit to look at). A scalar is depth 0."""
    depth = 0
    level: list[object] = [value]
    while level and depth <= limit:
        nested: list[object] = []
        for item in level:
            if isinstance(item, Mapping):
                nested.extend(item.values())
            elif isinstance(item, list | tuple):
                nested.extend(item)
        if not any(isinstance(item, Mapping | list | tuple) for item in level):
            break
        depth += 1
        level = nested
    return depth


def raw_json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of a JSON text without parsing it (brackets outside strings), stopping at
    ``limit + 1``; used before a body is decoded, so a 1 MB ``[[[[…`` is refused without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def too_deep(depth: int, limit: int = MAX_JSON_DEPTH) -> Problem | None:
    """A body nested deeper than ``limit``."""
    if depth <= limit:
        return None
    return Problem(
        "body",
        str(depth),
        "too-deep",
        f"body: JSON-texten är nästlad djupare än {limit} nivåer.",
        f"body: the JSON is nested deeper than {limit} levels.",
    )


def year_span_problem(first: int, last: int, field: str = "years") -> Problem | None:
    """A span of years longer than :data:`MAX_KOLADA_YEARS` (both ends counted)."""
    span = last - first + 1
    if span <= MAX_KOLADA_YEARS:
        return None
    return Problem(
        field,
        f"{first}-{last}",
        "too-many-years",
        f"{field}: {first}–{last} är {span} år; högst {MAX_KOLADA_YEARS} år åt gången.",
        f"{field}: {first}–{last} is {span} years; at most {MAX_KOLADA_YEARS} years at a time.",
    )


def row_id_in_range(value: int) -> bool:
    """True when ``value`` can be a row id (1 … :data:`MAX_ROW_ID`); anything else finds nothing."""
    return 1 <= value <= MAX_ROW_ID
