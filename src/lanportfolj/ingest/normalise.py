"""Polars expressions that turn the text of a cell into a number, a year or a yes/no.

All columns arrive as strings (CSV read without schema inference, XLSX cells rendered as text) so a
value is never rounded through a binary float on its way to ``Decimal``.
"""

from __future__ import annotations

import polars as pl

from lanportfolj.ingest.inert import PREFIXED_PATTERN

# Spaces users and Excel put in numbers: ordinary, no-break (U+00A0), narrow no-break (U+202F), thin.
_SPACE_CHARS = " \t\r\n\u00a0\u202f\u2009"
_SPACES = r"[ \t\r\n\u00a0\u202f\u2009]+"

#: A plain number after normalisation: optional sign, digits with one decimal point, optional exponent.
NUMBER_PATTERN = r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?$"

_YEAR_PATTERN = (
    r"^(\d{4})"
    r"(?:[.,]0+|-\d{2}-\d{2}(?:[ T]?\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$"
)

_TRUE_WORDS = ("ja", "j", "yes", "y", "true", "sant", "1", "1.0", "x", "uppskattat", "estimated")
_FALSE_WORDS = ("nej", "n", "no", "false", "falskt", "0", "0.0")
ESTIMATED_WORDS: dict[str, bool] = {
    **{word: True for word in _TRUE_WORDS},
    **{word: False for word in _FALSE_WORDS},
}


def clean_text(column: str) -> pl.Expr:
    """The cell stripped of surrounding spaces (no-break ones too); blank becomes null.

    The ``'`` the project's own CSV writers put before a text that starts like a formula
    (``ingest.inert``) is taken off first, so their files import the text that went in.
    """
    restored = pl.col(column).str.replace(PREFIXED_PATTERN, "$1")
    stripped = restored.str.strip_chars(_SPACE_CHARS)
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(None)


def number_text(expr: pl.Expr) -> pl.Expr:
    """Normalise a cleaned number text to a plain ``-1234.5`` form; null when it is no number.

    Spaces of every kind are thousands separators; a single comma is a decimal comma (Swedish
    practice wins the ambiguous ``1,234``); ``1.234,5`` and ``1,234.5`` are read by which mark
    comes last; a trailing ``%`` and a Unicode minus are accepted.
    """
    text = (
        expr.str.replace_all(_SPACES, "")
        .str.replace(r"^\u2212", "-")
        .str.replace(r"%$", "")
        .str.replace(r"^'", "")
    )
    european = r"^[-+]?\d{1,3}(?:\.\d{3})+,\d*$"
    european_whole = r"^[-+]?\d{1,3}(?:\.\d{3}){2,}$"
    english = r"^[-+]?\d{1,3}(?:,\d{3})+\.\d*$"
    english_whole = r"^[-+]?\d{1,3}(?:,\d{3}){2,}$"
    normalised = (
        pl.when(text.str.contains(european))
        .then(text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(text.str.contains(european_whole))
        .then(text.str.replace_all(".", "", literal=True))
        .when(text.str.contains(english) | text.str.contains(english_whole))
        .then(text.str.replace_all(",", "", literal=True))
        .otherwise(text.str.replace(",", ".", literal=True))
    )
    return pl.when(normalised.str.contains(NUMBER_PATTERN)).then(normalised).otherwise(None)


def number_texts(values: pl.Series) -> pl.Series:
    """:func:`number_text` over a column of cleaned cells, fast when most cells are plain numbers.

    A cell already in the plain form is its own normalisation (none of the rewrites applies to it), so
    only the others (decimal commas, spaces, percent signs, words) go through the chain of rewrites.
    """
    plain = values.str.contains(NUMBER_PATTERN).fill_null(False)
    rest = (~plain).arg_true()
    if rest.len() == 0:
        return values
    # lazily, so the rewrites' shared sub-expressions are computed once
    converted = (
        values.gather(rest).to_frame("cell").lazy().select(number_text(pl.col("cell"))).collect()
    )
    return values.scatter(rest, converted.to_series())


def year_number(expr: pl.Expr) -> pl.Expr:
    """The year in a cleaned cell (``2024``, ``2024.0`` from Excel, or a date); null otherwise."""
    text = expr.str.replace_all(_SPACES, "")
    return text.str.extract(_YEAR_PATTERN, 1).cast(pl.Int64, strict=False)


def estimated_flag(expr: pl.Expr) -> pl.Expr:
    """True / False for the accepted words (empty = not estimated); null for anything else."""
    return (
        pl.when(expr.is_null())
        .then(pl.lit(False))
        .otherwise(
            expr.str.to_lowercase().replace_strict(
                ESTIMATED_WORDS, default=None, return_dtype=pl.Boolean
            )
        )
    )
