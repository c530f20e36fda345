"""The far-from-previous warning compares each row with the latest stored value before its year, read
from the database for the file's series only (issue 15): gaps in the stored years, several of the file's
years in one series and a comparison unit's own series each name the right earlier year and value."""

from __future__ import annotations

import re

import pytest

from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.integration

# The demo stores SH-2023-001's dwellings_renovated for 2022–2025 (236, 310, 431, 455) and its own
# perceived_safety_share for 2022–2025 (…, 65.6, 67.5); the test first stores a comparison unit's series
# with a gap. Every value in FILE is 50–100× off.
UNIT = (
    b"loan,indicator,year,group,value\n"
    b"SH-2023-001,perceived_safety_share,2022,Botkyrka,58\n"
    b"SH-2023-001,perceived_safety_share,2024,Botkyrka,63\n"
)
FILE = (
    b"loan,indicator,year,group,value\n"
    b"SH-2023-001,perceived_safety_share,2023,Botkyrka,1.1\n"
    b"SH-2023-001,perceived_safety_share,2025,Botkyrka,1\n"
    b"SH-2023-001,perceived_safety_share,2026,Botkyrka,1.2\n"
    b"SH-2023-001,dwellings_renovated,2023,,31000\n"
    b"SH-2023-001,dwellings_renovated,2024,,43100\n"
    b"SH-2023-001,dwellings_renovated,2026,,45500\n"
)


def test_each_row_is_compared_with_the_latest_stored_value_before_its_year(
    demo_settings, demo_session
) -> None:
    def run(name: str, data: bytes, dry_run: bool):
        return import_file(
            session=demo_session,
            settings=demo_settings,
            filename=name,
            data=data,
            uploaded_by="tester@example",
            current_year=2026,
            dry_run=dry_run,
        )

    stored = run("unit.csv", UNIT, False)
    assert (stored.accepted, stored.inserted) == (True, 2)
    demo_session.commit()
    result = run("far.csv", FILE, True)
    assert result.accepted, [e.message_en for e in result.errors if e.severity == "error"]
    far = {
        issue.row: re.search(r"than the (\d{4}) value ([\d ]+)\.", issue.message_en).groups()  # type: ignore[union-attr]
        for issue in result.errors
        if issue.code == "far-from-previous"
    }
    assert far == {
        # the unit's own series (never the intervention's 65.6 or 67.5): 2023 against 2022 across the
        # gap; 2025 and 2026 both against 2024, as nothing is stored for 2025
        2: ("2022", "58"),
        3: ("2024", "63"),
        4: ("2024", "63"),
        # each of the intervention's rows against the stored year before it, never the file's own row
        5: ("2022", "236"),
        6: ("2023", "310"),
        7: ("2025", "455"),
    }
