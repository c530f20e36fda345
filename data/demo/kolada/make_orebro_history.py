"""Adds Örebro (1880) and its similar municipalities, 2015–2025, to the demo's recorded Kolada answers.

Run from the repository root: ``python data/demo/kolada/make_orebro_history.py`` (idempotent).

The municipality codes, the KPI ids and the shape of the group title follow Kolada; THE VALUES ARE
ILLUSTRATIVE (a smooth common trend, a fixed level per municipality and a small wobble, with a modest
rise for Örebro after 2022), not Kolada's published figures. They give the demo's outdoor-pedagogy
school (SH-2024-002, baseline 2022) seven years of official history before its baseline, so its
evaluation can test the parallel-trends assumption.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
OREBRO = "1880"
MEMBERS = {
    "1980": "Västerås",
    "0580": "Linköping",
    "0680": "Jönköping",
    "0484": "Eskilstuna",
    "2180": "Gävle",
    "0581": "Norrköping",
}
GROUP = {
    "id": "G91880",
    "title": "Liknande kommuner, övergripande, Örebro, 2024",
    "members": [{"member_id": code, "member_title": name} for code, name in MEMBERS.items()],
}
YEARS = range(2015, 2026)
BASELINE = 2022
# kpi → (level 2015, common yearly change, spread between municipalities, Örebro's yearly rise after
# the baseline, decimals)
SERIES = {
    "N15507": ("219.0", "0.9", "-2.2", "0.6", 1),
    "N15428": ("82.5", "0.3", "-0.8", "0.3", 1),
}


def value(kpi: str, index: int, year: int) -> Decimal:
    level, change, spread, rise, decimals = SERIES[kpi]
    raw = Decimal(level) + Decimal(change) * (year - YEARS.start) + Decimal(spread) * index
    raw += Decimal(((year * 7 + index * 3) % 5) - 2) * Decimal("0.35")
    if index == 0 and year > BASELINE:
        raw += Decimal(rise) * (year - BASELINE)
    return raw.quantize(Decimal(1).scaleb(-decimals))


def _rewrite(name: str, keep, add: list[dict]) -> None:
    path = HERE / name
    doc = json.loads(path.read_text("utf-8"))
    rows = [row for row in doc["values"] if keep(row)] + add
    doc["values"], doc["count"] = rows, len(rows)
    # one row a line, as the recorded answers are written
    text = '{"count": %d, "next_url": null, "values": [\n' % len(rows)
    text += ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows) + "\n]}\n"
    path.write_text(text, "utf-8")


def main() -> None:
    codes = [OREBRO, *MEMBERS]
    _rewrite(
        "municipality.json",
        lambda row: row["id"] not in codes,
        [{"id": OREBRO, "title": "Örebro", "type": "K"}]
        + [{"id": c, "title": n, "type": "K"} for c, n in MEMBERS.items()],
    )
    _rewrite("municipality_groups.json", lambda row: row["id"] != GROUP["id"], [GROUP])
    rows = []
    for kpi in SERIES:
        for index, code in enumerate(codes):
            for year in YEARS:
                v = value(kpi, index, year)
                rows.append(
                    {
                        "kpi": kpi,
                        "municipality": code,
                        "period": year,
                        "values": [
                            {
                                "gender": "T",
                                "count": 1,
                                "status": "",
                                "value": float(v),
                                "isdeleted": False,
                            }
                        ],
                    }
                )
    _rewrite("data.json", lambda row: row["municipality"] not in codes, rows)


if __name__ == "__main__":
    main()
