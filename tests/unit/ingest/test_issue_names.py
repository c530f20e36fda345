"""An issue about an indicator names it in each language's message: by the names given, else by its code
(``make_issue``'s contract; mutation testing, issue 20)."""

from __future__ import annotations

import pytest

from lanportfolj.ingest.issues import make_issue

pytestmark = pytest.mark.unit


def test_an_indicator_given_only_by_its_code_is_named_by_it_in_both_languages() -> None:
    issue = make_issue(
        "not-whole",
        row=4,
        column="value",
        value="2,5",
        file="u.csv",
        indicator="dwellings_renovated",
    )
    assert (issue.message_sv, issue.message_en) == (
        "Värdet 2,5 måste vara ett heltal för dwellings_renovated.",
        "The value 2,5 must be a whole number for dwellings_renovated.",
    )


def test_an_indicator_with_only_a_swedish_name_keeps_its_code_in_english() -> None:
    issue = make_issue(
        "out-of-range",
        row=3,
        column="value",
        value="120",
        file="u.csv",
        indicator="perceived_safety_share",
        indicator_sv="Andel trygga boende",
        range_sv="0–100",
        range_en="0–100",
    )
    assert (issue.message_sv, issue.message_en) == (
        "Värdet 120 ligger utanför det tillåtna intervallet 0–100 för Andel trygga boende.",
        "The value 120 is outside the allowed range 0–100 for perceived_safety_share.",
    )
