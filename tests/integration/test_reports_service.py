"""The bond report from the demo database: reconciliation, publishing, restatements, races, FX."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import BondPoolEntry, Measurement, Report, ReportChunk, SocialBond
from lanportfolj.reporting.inputs import FxRate
from lanportfolj.reporting.json import render_json
from lanportfolj.services import reports
from lanportfolj.services.measurements import import_file
from lanportfolj.services.reports import ReportError

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
DAY = date(2025, 12, 31)
VARA = "SH-2023-002"
VISITS = "home_visits_new_parents"
RESTATE_CSV = (
    f"lån;indikator;år;värde;uppskattat;kommentar;grupp\n{VARA};{VISITS};2025;440;;Rättad siffra;\n"
).encode()


def _bond(session: Session, isin: str = ISIN) -> SocialBond:
    bond = reports.get_bond(session, isin)
    assert bond is not None
    return bond


def _all_formats(data: dict) -> dict[str, bytes]:
    return {fmt: reports.render(data, fmt=fmt) for fmt in reports.FORMATS}


def test_demo_allocation_reconciles(demo_session: Session) -> None:
    data = reports.draft_report(session=demo_session, bond=_bond(demo_session), report_date=DAY)
    summary = data["allocation"]["summary"]
    assert summary["loan_count"] == 7
    assert Decimal(summary["allocated"]) + Decimal(summary["unallocated"]) == Decimal(
        data["bond"]["nominal_amount"]
    )
    # per-loan rows add up to the categories, which add up to the pool
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for loan in data["allocation"]["loans"]:
        by_category[loan["programme_category"]] += Decimal(loan["outstanding"])
    table = {
        row["programme_category"]: Decimal(row["outstanding"])
        for row in data["allocation"]["by_category"]
    }
    assert table == dict(by_category)
    assert sum(table.values()) == Decimal(summary["pool_outstanding"])
    financing = sum(Decimal(row["outstanding"]) for row in data["allocation"]["financing"])
    assert financing == Decimal(summary["pool_outstanding"])

    # impact: attributed per-loan values of summable indicators add up to categories and the bond
    totals: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for series in data["impact"]["values"]:  # one series per loan and indicator
        if series["aggregation"] != "sum":
            continue
        for year, attributed in zip(series["years"], series["attributed"], strict=True):
            if attributed is not None:
                totals[(series["indicator"], year)] += Decimal(attributed)
    bond_rows = {
        (row["indicator"], row["year"]): Decimal(row["attributed"])
        for row in data["impact"]["bond"]
        if row["aggregation"] == "sum"
    }
    assert totals and bond_rows == dict(totals)
    # the Örebro school's comparison is in the report, in both languages
    comparison = data["impact"]["comparison"]
    assert [c["loan_ref"] for c in comparison["en"]] == ["SH-2024-002"]
    assert [c["loan_ref"] for c in comparison["sv"]] == ["SH-2024-002"]
    assert 'id="comparison"' in reports.render(data, fmt="html").decode()


def test_publish_freezes_the_report_and_the_next_one_lists_later_restatements(
    demo_settings, demo_engine
) -> None:
    with session_scope(demo_engine) as db:
        report = reports.publish_report(
            session=db, bond=_bond(db), report_date=DAY, fx=None, actor="analyst@test"
        )
        frozen, digest = reports.frozen_bytes(report), report.sha256
    assert digest == hashlib.sha256(frozen).hexdigest()
    with Session(demo_engine) as db:
        data = reports.load_published(db, _bond(db), DAY)
        assert data is not None
        before = _all_formats(data)
    assert before["json"] == frozen  # the frozen bytes are the JSON download

    with session_scope(demo_engine) as db:
        result = import_file(
            session=db,
            settings=demo_settings,
            filename="rattelse.csv",
            data=RESTATE_CSV,
            uploaded_by="vara@test",
            current_year=2026,
        )
        assert result.accepted and result.restated == 1, result.to_dict()

    with Session(demo_engine) as db:
        bond = _bond(db)
        stored = reports.published_report(db, bond, DAY)
        assert stored is not None and stored.sha256 == digest
        again = reports.load_published(db, bond, DAY)
        assert again is not None
        assert _all_formats(again) == before  # all three formats, byte for byte
        # a draft of the same date would show the new value: the published one does not
        live = reports.draft_report(session=db, bond=bond, report_date=DAY)
        assert live != again
        nxt = reports.draft_report(session=db, bond=bond, report_date=date(2026, 6, 30))
    listed = [
        (r["loan"], r["indicator"], r["year"], r["old"], r["new"], r["by"])
        for r in nxt["restatements"]
    ]
    assert listed == [(VARA, VISITS, 2025, "431", "440", "vara@test")]
    flagged = [
        (series["indicator"], year)
        for series in nxt["impact"]["values"]
        if series["loan"] == VARA
        for year, restated in zip(series["years"], series["restated"], strict=True)
        if restated
    ]
    assert flagged == [(VISITS, 2025)]
    # the demo's own earlier restatement (Botkyrkabyggen) was in the first report and is not repeated
    assert all(r["loan"] != "SH-2023-001" for r in nxt["restatements"])
    assert any(r["loan"] == "SH-2023-001" for r in again["restatements"])


def test_publishing_twice_is_refused_and_a_tampered_report_is_detected(
    demo_engine, tmp_path
) -> None:
    with session_scope(demo_engine) as db:
        reports.publish_report(session=db, bond=_bond(db), report_date=DAY, fx=None, actor="a")
    with session_scope(demo_engine) as db, pytest.raises(ReportError) as refused:
        reports.publish_report(session=db, bond=_bond(db), report_date=DAY, fx=None, actor="b")
    assert refused.value.code == "already_published"
    assert "already published" in refused.value.message("en")
    assert "redan publicerad" in refused.value.message("sv")
    with session_scope(demo_engine) as db:
        stored = db.exec(select(Report)).one()
        assert stored.published_by == "a"
        piece = db.exec(select(ReportChunk).where(ReportChunk.report_id == stored.id)).one()
        piece.content = piece.content.replace(b'"SEK"', b'"EUR"', 1)
        db.add(piece)
    with Session(demo_engine) as db, pytest.raises(ReportError) as tampered:
        reports.load_published(db, _bond(db), DAY)
    assert tampered.value.code == "hash_mismatch"
    with Session(demo_engine) as db, pytest.raises(ReportError) as written:
        out = tmp_path / "out"
        out.mkdir()
        reports.write_frozen(db.exec(select(Report)).one(), out / "report.json")
    assert written.value.code == "hash_mismatch"
    assert list(out.iterdir()) == []  # no file of altered bytes left behind


def test_a_frozen_report_is_stored_in_pieces_and_read_back_as_one(
    demo_engine, monkeypatch, tmp_path
) -> None:
    """At national scale the JSON is hundreds of MB: stored as it is made, in pieces of whole UTF-8
    characters, and read back (whole or into a file) as the same bytes."""
    monkeypatch.setattr(reports, "CHUNK_BYTES", 4096)
    with session_scope(demo_engine) as db:
        report = reports.publish_report(
            session=db, bond=_bond(db), report_date=DAY, fx=None, actor="a"
        )
        report_id = report.id
    with Session(demo_engine) as db:
        stored = reports.published_report(db, _bond(db), DAY)
        assert stored is not None and stored.id == report_id
        pieces = list(reports.frozen_chunks(db, report_id))
        assert len(pieces) > 3
        assert all(piece.decode("utf-8") for piece in pieces)  # never a character cut in two
        payload = reports.frozen_bytes(stored)
        assert payload == b"".join(pieces)
        assert hashlib.sha256(payload).hexdigest() == stored.sha256
        target = tmp_path / "report.json"
        reports.write_frozen(stored, target)
        assert target.read_bytes() == payload
        # the same bytes the report dict gives, and the demo's Swedish texts as UTF-8
        assert payload == reports.render(reports.parse_frozen(payload), fmt="json")
        assert not payload.isascii()


def test_concurrent_publishes_give_exactly_one_published_report(demo_settings) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def publish(n: int) -> None:
        engine = make_engine(demo_settings)
        try:
            with Session(engine, expire_on_commit=False) as db:
                bond = _bond(db)
                barrier.wait()
                try:
                    reports.publish_report(
                        session=db, bond=bond, report_date=DAY, fx=None, actor=f"t{n}"
                    )
                    db.commit()
                    outcomes.append("published")
                except ReportError as exc:
                    db.rollback()
                    outcomes.append(exc.code)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["already_published"] * 3 + ["published"]
    engine = make_engine(demo_settings)
    try:
        with Session(engine) as db:
            rows = db.exec(select(Report)).all()
            assert len(rows) == 1 and rows[0].status == "published"
    finally:
        engine.dispose()


def test_a_eur_draft_converts_each_loan_at_the_stated_rate(demo_session: Session) -> None:
    sek = _bond(demo_session)
    eur = SocialBond(
        isin="XS0000000017",
        name="Social bond EUR",
        currency="EUR",
        nominal_amount=Decimal("100000000"),
        issue_date=date(2025, 9, 1),
        maturity_date=date(2030, 9, 1),
    )
    demo_session.add(eur)
    demo_session.flush()
    loan_ids = demo_session.exec(
        select(BondPoolEntry.loan_id).where(BondPoolEntry.bond_id == sek.id)
    ).all()
    for loan_id in loan_ids:
        demo_session.add(BondPoolEntry(bond_id=eur.id or 0, loan_id=loan_id))
    demo_session.commit()

    with pytest.raises(ReportError) as missing:
        reports.make_fx(eur, report_date=DAY)
    assert missing.value.code == "fx_required"
    fx = reports.make_fx(eur, report_date=DAY, rate="11.5", source="Riksbanken 2025-12-30")
    assert fx == FxRate("EUR", Decimal("11.5"), DAY, "Riksbanken 2025-12-30")
    data = reports.draft_report(session=demo_session, bond=eur, report_date=DAY, fx=fx)
    vara = next(loan for loan in data["allocation"]["loans"] if loan["reference"] == VARA)
    assert vara["outstanding_sek"] == "16000000.00"
    assert vara["outstanding"] == "1391304.35"  # 16 000 000 / 11.5, rounded half-even to the cent
    summary = data["allocation"]["summary"]
    assert summary["other_bonds_nominal"] == "260869565.22"  # the SEK bond's 3 bn on the same pool
    assert data["fx"] == {
        "currency": "EUR",
        "sek_per_unit": "11.5",
        "as_of": "2025-12-31",
        "source": "Riksbanken 2025-12-30",
    }
    assert Decimal(summary["allocated"]) + Decimal(summary["unallocated"]) == Decimal(
        "100000000.00"
    )
    with pytest.raises(ReportError):
        reports.draft_report(
            session=demo_session, bond=sek, report_date=DAY, fx=fx
        )  # a EUR rate for a SEK bond


def test_kolada_values_are_labelled_and_named_in_the_methodology(demo_session: Session) -> None:
    bond = _bond(demo_session)
    plain = reports.draft_report(session=demo_session, bond=bond, report_date=DAY)
    assert "Källa: Kolada" not in plain["methodology"]["data_sources"]
    row = demo_session.exec(
        select(Measurement).where(Measurement.is_current, Measurement.group_name == "")
    ).first()
    assert row is not None
    row.source = "kolada"
    demo_session.add(row)
    demo_session.commit()
    data = reports.draft_report(session=demo_session, bond=bond, report_date=DAY, lang="sv")
    assert "Källa: Kolada" in data["methodology"]["data_sources"]
    section = next(s for s in data["methodology"]["sections"] if s["key"] == "kolada")
    assert section["title"]["sv"] == "Källa: Kolada"
    labelled = [
        r for r in data["impact"]["per_loan"] if "Källa: Kolada" in (r["data_source"] or "")
    ]
    assert len(labelled) == 1
    assert labelled[0]["loan"] in section["text"]["sv"]


def test_the_demo_report_matches_the_documented_json_schema(demo_session: Session) -> None:
    from report_schema_check import load_schema, validate

    data = reports.draft_report(session=demo_session, bond=_bond(demo_session), report_date=DAY)
    document = json.loads(reports.render(data, fmt="json"))
    schema = load_schema()
    assert document["impact"]["comparison"]["en"], (
        "the demo's comparison school should be in the report"
    )
    assert validate(document, schema, schema, "$") == []


def test_an_indicator_that_cannot_be_judged_is_null_in_the_json_not_off_track(
    demo_session: Session,
) -> None:
    """Botkyrkabyggen's average rent has no target direction to judge: the investor's JSON must say
    ``null`` ("cannot be judged"), never ``false`` ("not on track"), and the per-loan rows whose
    target is missed stay ``false``."""
    data = reports.draft_report(session=demo_session, bond=_bond(demo_session), report_date=DAY)
    written = json.loads(render_json(data))
    on_track = {(r["loan"], r["indicator"]): r["on_track"] for r in written["impact"]["per_loan"]}
    assert on_track[("SH-2023-001", "average_rent_sek_per_sqm")] is None
    assert on_track[("SH-2024-004", "vocational_course_starts")] is False
    assert {value for value in on_track.values()} == {True, False, None}
