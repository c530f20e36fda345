"""A date where a year was expected: recognised, and spelled out for the message that names it.

A year typed into a date-formatted spreadsheet cell is stored as that many days after 1899-12-30, so
2026 becomes 17 July 1905; calamine gives the cell as ``1905-07-17 00:00:00``. A date whose year is in the
allowed range is read as its year (``normalise.year_number``); any other is named as the date it is.
"""

from __future__ import annotations

import re
from datetime import date

#: A cell as calamine renders a date (``2024-12-31``, ``1905-07-17 00:00:00``).
DATE_PATTERN = r"^\s*\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

_MONTHS = {
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def spelled_date(cell: str, lang: str) -> str:
    """``1905-07-17 00:00:00`` → ``17 juli 1905`` / ``17 July 1905``; the cell itself if no date."""
    match = _DATE.search(cell)
    if match is None:
        return cell
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return cell
    months = _MONTHS["sv" if lang == "sv" else "en"]
    return f"{day.day} {months[day.month - 1]} {day.year}"
