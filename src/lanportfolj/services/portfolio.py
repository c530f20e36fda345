"""Loads a portfolio folder (docs/portfolio-format.md) in one transaction.

Every record is checked before anything is written; all problems come back together, each naming the file,
the record and the field. Loading the same folder again changes nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain import identifiers as ids
from lanportfolj.domain.categories import (
    BORROWER_KINDS,
    ICMA_CATEGORIES,
    INVESTMENT_TYPES,
    LOAN_STATUSES,
    PROGRAMME_CATEGORIES,
    TARGET_POPULATIONS,
)
from lanportfolj.domain.lei import lei_problem
from lanportfolj.domain.orgnr import OrgnrError, normalise_orgnr
from lanportfolj.library import IndicatorDef, check_references, load_library, parse_indicator
from lanportfolj.models import (
    BondPoolEntry,
    Borrower,
    Decision,
    Goal,
    GoalIndicator,
    IndicatorDefinition,
    Judgement,
    Loan,
    LoanIndicator,
    SocialBond,
    Submission,
    utcnow,
)
from lanportfolj.services import audit
from lanportfolj.services.indicators import apply_fields, definition_fields, sync_library
from lanportfolj.services.measurements import import_file


@dataclass(frozen=True)
class PortfolioIssue:
    """One problem in a portfolio folder."""

    file: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = " › ".join(part for part in (self.file, self.record, self.field) if part)
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "record": self.record,
            "field": self.field,
            "message": self.message,
        }


class PortfolioError(Exception):
    """The folder was rejected; nothing was written."""

    def __init__(self, issues: list[PortfolioIssue]) -> None:
        super().__init__(f"{len(issues)} problem(s) in the portfolio")
        self.issues = issues


@dataclass
class LoadSummary:
    borrowers: int = 0
    loans: int = 0
    bonds: int = 0
    indicators_added: int = 0
    submissions: int = 0
    inserted: int = 0
    restated: int = 0
    unchanged: int = 0
    changed_records: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "borrowers": self.borrowers,
            "loans": self.loans,
            "bonds": self.bonds,
            "indicators_added": self.indicators_added,
            "submissions": self.submissions,
            "inserted": self.inserted,
            "restated": self.restated,
            "unchanged": self.unchanged,
            "changed_records": self.changed_records,
        }


LOAN_TEXT_FIELDS = (
    "physical_investment",
    "social_intervention",
    "social_need",
    "target_group_who",
    "target_group_where",
    "target_group_attributes",
    "interventions",
    "change_for_target_group",
    "future_state",
    "intervention_logic",
    "systematic_work_ref",
    "developed_practice",
    "evaluation_plan",
    "comparison_group",
    "notes",
)
LOAN_FIELDS = {
    "reference",
    "borrower",
    "title",
    "status",
    "currency",
    "amount",
    "disbursed_amount",
    "outstanding_amount",
    "total_project_cost",
    "application_date",
    "disbursement_date",
    "maturity_date",
    "margin_bp",
    "discount_bp",
    "programme_category",
    "icma_category",
    "target_populations",
    "sdgs",
    "investment_type",
    "planned_sample_per_arm",
    "outcome_base_rate",
    "follow_up_until_year",
    "illustrative",
    "indicator",
    "own_indicator",
    "goal",
    "decision",
    "judgement",
    *LOAN_TEXT_FIELDS,
}
BORROWER_FIELDS = {"orgnr", "name", "kind", "member", "owner", "municipality_code", "contact_email"}
BOND_FIELDS = {
    "isin",
    "name",
    "currency",
    "nominal_amount",
    "coupon_pct",
    "issue_date",
    "maturity_date",
    "framework_version",
    "pool",
    "illustrative",
    # the report header (issue 16 item 7), all optional
    "issuer_name",
    "issuer_lei",
    "reviewer",
    "review_scope",
}


class _Checker:
    """Collects issues while turning raw TOML values into typed ones."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[PortfolioIssue] = []

    def add(self, record: str, fld: str, message: str) -> None:
        self.issues.append(PortfolioIssue(self.file, record, fld, message))

    def unknown(self, record: str, raw: dict[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(raw) - allowed):
            self.add(record, key, "unknown field")

    def text(self, record: str, raw: dict[str, Any], fld: str, *, required: bool = False) -> str:
        value = raw.get(fld, "")
        if not isinstance(value, str):
            self.add(record, fld, "must be text")
            return ""
        if required and not value.strip():
            self.add(record, fld, "is required")
        return value.strip()

    def money(
        self, record: str, raw: dict[str, Any], fld: str, *, required: bool = False
    ) -> Decimal | None:
        if fld not in raw:
            if required:
                self.add(record, fld, "is required")
            return None
        value = raw[fld]
        if isinstance(value, float):
            self.add(record, fld, "write amounts as strings or integers, not binary floats")
            return None
        try:
            number = Decimal(str(value).replace(" ", "").replace("_", ""))
        except InvalidOperation:
            self.add(record, fld, f"{value!r} is not a number")
            return None
        if not number.is_finite():
            self.add(record, fld, f"{value!r} is not a number")
            return None
        if number < 0:
            self.add(record, fld, f"must not be negative (got {number})")
            return None
        return number

    def number(self, record: str, raw: dict[str, Any], fld: str) -> Decimal | None:
        if fld not in raw or raw[fld] is None:
            return None
        try:
            number = Decimal(str(raw[fld]).replace(",", "."))
        except InvalidOperation:
            self.add(record, fld, f"{raw[fld]!r} is not a number")
            return None
        if not number.is_finite():
            self.add(record, fld, f"{raw[fld]!r} is not a number")
            return None
        return number

    def day(
        self, record: str, raw: dict[str, Any], fld: str, *, required: bool = False
    ) -> date | None:
        value = raw.get(fld)
        if value is None:
            if required:
                self.add(record, fld, "is required")
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.add(record, fld, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def moment(self, record: str, raw: dict[str, Any], fld: str) -> datetime | None:
        value = raw.get(fld)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        self.add(record, fld, f"{value!r} is not a date-time")
        return None

    def year(self, record: str, raw: dict[str, Any], fld: str) -> int | None:
        value = raw.get(fld)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
            self.add(record, fld, f"{value!r} is not a year")
            return None
        return value

    def choice(
        self, record: str, raw: dict[str, Any], fld: str, allowed: Any, *, required: bool = True
    ) -> str:
        value = raw.get(fld, "")
        if not value and not required:
            return ""
        if value not in allowed:
            self.add(record, fld, f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return str(value)

    def strings(self, record: str, raw: dict[str, Any], fld: str) -> list[str]:
        value = raw.get(fld, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(record, fld, "must be a list of text")
            return []
        return value


@dataclass
class _Parsed:
    portfolio: dict[str, Any]
    borrowers: list[dict[str, Any]]
    loans: list[dict[str, Any]]
    bonds: list[dict[str, Any]]
    submissions: list[tuple[Path, dict[str, Any]]]


def _reason(problem: ids.Problem) -> str:
    """The grammar's reason without its field (the issue names the field itself)."""
    return problem.message_en.removeprefix(f"{problem.field}: ")


def read_portfolio(
    path: Path, library: dict[str, IndicatorDef]
) -> tuple[_Parsed, list[PortfolioIssue]]:
    """Parse and check ``path/portfolio.toml`` without touching a database."""
    toml_path = path / "portfolio.toml" if path.is_dir() else path
    folder = toml_path.parent
    chk = _Checker(str(toml_path))
    empty = _Parsed({}, [], [], [], [])
    if not toml_path.is_file():
        chk.add("", "", "no portfolio.toml here")
        return empty, chk.issues
    try:
        with toml_path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        chk.add("", "", f"not valid TOML: {exc}")
        return empty, chk.issues
    except UnicodeDecodeError:
        chk.add("", "", "not UTF-8 text")
        return empty, chk.issues
    for key in sorted(set(raw) - {"portfolio", "borrower", "loan", "bond", "submission"}):
        chk.add("", key, "unknown section")
    meta = raw.get("portfolio", {})
    default_illustrative = bool(meta.get("illustrative", False))

    borrowers: list[dict[str, Any]] = []
    orgnrs: dict[str, str] = {}
    for i, b in enumerate(raw.get("borrower", []), start=1):
        rec = f"borrower #{i} ({b.get('name', '?')})"
        chk.unknown(rec, b, BORROWER_FIELDS)
        try:
            orgnr = normalise_orgnr(str(b.get("orgnr", "")))
        except OrgnrError as exc:
            chk.add(rec, "orgnr", exc.message_en)
            orgnr = str(b.get("orgnr", ""))
        if orgnr in orgnrs:
            chk.add(rec, "orgnr", f"{orgnr} is already used by {orgnrs[orgnr]}")
        orgnrs[orgnr] = rec
        kind = chk.choice(rec, b, "kind", BORROWER_KINDS)
        owner = b.get("owner")
        if owner is not None:
            try:
                owner = normalise_orgnr(str(owner))
            except OrgnrError as exc:
                chk.add(rec, "owner", exc.message_en)
        if kind.endswith("_company") and owner is None:
            chk.add(rec, "owner", "a company needs its owner's orgnr")
        code = b.get("municipality_code")
        if code is not None and not (isinstance(code, str) and len(code) == 4 and code.isdigit()):
            chk.add(rec, "municipality_code", f"{code!r} is not a four-digit municipality code")
        borrowers.append(
            {
                "orgnr": orgnr,
                "name": chk.text(rec, b, "name", required=True),
                "kind": kind,
                "member": bool(b.get("member", False)),
                "owner": owner,
                "municipality_code": code,
                "contact_email": b.get("contact_email"),
                "_rec": rec,
            }
        )
    for b in borrowers:
        if b["owner"] is not None and b["owner"] not in orgnrs:
            chk.add(b["_rec"], "owner", f"{b['owner']} is not a borrower in this file")

    loans: list[dict[str, Any]] = []
    refs: set[str] = set()
    for i, ln in enumerate(raw.get("loan", []), start=1):
        ref = str(ln.get("reference", "")).strip()
        rec = f"loan {ref or '#' + str(i)}"
        chk.unknown(rec, ln, LOAN_FIELDS)
        if not ref:
            chk.add(rec, "reference", "is required")
        elif ref in refs:
            chk.add(rec, "reference", f"{ref} appears twice")
        elif (problem := ids.loan_reference_problem(ref)) is not None:
            chk.add(rec, "reference", _reason(problem))
        refs.add(ref)
        try:
            borrower = normalise_orgnr(str(ln.get("borrower", "")))
        except OrgnrError as exc:
            chk.add(rec, "borrower", exc.message_en)
            borrower = ""
        if borrower and borrower not in orgnrs:
            chk.add(rec, "borrower", f"{borrower} is not a borrower in this file")
        loan = {
            "reference": ref,
            "borrower": borrower,
            "title": chk.text(rec, ln, "title", required=True),
            "status": chk.choice(rec, ln, "status", LOAN_STATUSES),
            "currency": str(ln.get("currency", "SEK")),
            "amount": chk.money(rec, ln, "amount", required=True),
            "disbursed_amount": chk.money(rec, ln, "disbursed_amount") or Decimal(0),
            "outstanding_amount": chk.money(rec, ln, "outstanding_amount") or Decimal(0),
            "total_project_cost": chk.money(rec, ln, "total_project_cost"),
            "application_date": chk.day(rec, ln, "application_date"),
            "disbursement_date": chk.day(rec, ln, "disbursement_date"),
            "maturity_date": chk.day(rec, ln, "maturity_date"),
            "margin_bp": chk.number(rec, ln, "margin_bp"),
            "discount_bp": chk.number(rec, ln, "discount_bp") or Decimal(0),
            "programme_category": chk.choice(
                rec, ln, "programme_category", PROGRAMME_CATEGORIES, required=False
            ),
            "icma_category": chk.choice(rec, ln, "icma_category", ICMA_CATEGORIES, required=False),
            "target_populations": chk.strings(rec, ln, "target_populations"),
            "sdgs": chk.strings(rec, ln, "sdgs"),
            "investment_type": chk.choice(
                rec, ln, "investment_type", INVESTMENT_TYPES, required=False
            ),
            "planned_sample_per_arm": ln.get("planned_sample_per_arm"),
            "outcome_base_rate": ln.get("outcome_base_rate"),
            "follow_up_until_year": chk.year(rec, ln, "follow_up_until_year"),
            "illustrative": bool(ln.get("illustrative", default_illustrative)),
        }
        for fld in LOAN_TEXT_FIELDS:
            loan[fld] = chk.text(rec, ln, fld)
        for pop in loan["target_populations"]:
            if pop not in TARGET_POPULATIONS:
                chk.add(rec, "target_populations", f"{pop!r} is not an ICMA target population")
        if loan["currency"] != "SEK":
            chk.add(rec, "currency", "loans are in SEK")
        if (
            loan["disbursement_date"]
            and loan["maturity_date"]
            and loan["maturity_date"] <= loan["disbursement_date"]
        ):
            chk.add(rec, "maturity_date", "must be after the disbursement date")
        amount = loan["amount"]
        if amount is not None and loan["outstanding_amount"] > amount:
            chk.add(rec, "outstanding_amount", "exceeds the loan amount")
        if amount is not None and loan["disbursed_amount"] > amount:
            chk.add(rec, "disbursed_amount", "exceeds the loan amount")
        tpc = loan["total_project_cost"]
        if tpc is not None and tpc == 0:
            chk.add(rec, "total_project_cost", "must be greater than zero")
        rate = loan["outcome_base_rate"]
        if rate is not None and not (isinstance(rate, int | float) and 0 < rate < 1):
            chk.add(rec, "outcome_base_rate", "must be a proportion between 0 and 1")

        own: dict[str, IndicatorDef] = {}
        for j, raw_ind in enumerate(ln.get("own_indicator", []), start=1):
            ind, problems = parse_indicator(raw_ind, file=str(toml_path), own=True)
            for p in problems:
                chk.add(f"{rec} own_indicator #{j}", p.field or "", p.message)
            if ind is not None:
                if ind.code in library:
                    chk.add(f"{rec} own_indicator #{j}", "code", f"{ind.code} is a library code")
                own[ind.code] = ind
        # an own ratio must point at parts that exist (in the library or among the loan's own)
        for p in check_references(list(own.values()), {**library, **own}):
            chk.add(f"{rec} own_indicator {p.code}", p.field or "", p.message)
        loan["own_indicators"] = own

        uses: list[dict[str, Any]] = []
        used_codes: set[str] = set()
        for j, li in enumerate(ln.get("indicator", []), start=1):
            code = str(li.get("code", ""))
            lrec = f"{rec} indicator #{j} ({code})"
            chk.unknown(
                lrec,
                li,
                {
                    "code",
                    "baseline_value",
                    "baseline_year",
                    "target_value",
                    "target_year",
                    "expected_value",
                    "data_source",
                },
            )
            if code not in library and code not in own:
                chk.add(lrec, "code", f"unknown indicator {code!r}")
            if code in used_codes:
                chk.add(lrec, "code", f"{code} is listed twice on this loan")
            used_codes.add(code)
            uses.append(
                {
                    "code": code,
                    "baseline_value": chk.number(lrec, li, "baseline_value"),
                    "baseline_year": chk.year(lrec, li, "baseline_year"),
                    "target_value": chk.number(lrec, li, "target_value"),
                    "target_year": chk.year(lrec, li, "target_year"),
                    "expected_value": chk.number(lrec, li, "expected_value"),
                    "data_source": str(li.get("data_source", "")),
                }
            )
        loan["indicators"] = uses

        goals: list[dict[str, Any]] = []
        for j, g in enumerate(ln.get("goal", []), start=1):
            grec = f"{rec} goal #{j}"
            chk.unknown(grec, g, {"text", "indicators", "target_value", "target_year"})
            codes = chk.strings(grec, g, "indicators")
            for code in codes:
                if code not in used_codes:
                    chk.add(grec, "indicators", f"{code!r} is not one of this loan's indicators")
            goals.append(
                {
                    "text": chk.text(grec, g, "text", required=True),
                    "indicators": codes,
                    "target_value": chk.number(grec, g, "target_value"),
                    "target_year": chk.year(grec, g, "target_year"),
                }
            )
        loan["goals"] = goals

        decisions: list[dict[str, Any]] = []
        for j, d in enumerate(ln.get("decision", []), start=1):
            drec = f"{rec} decision #{j}"
            chk.unknown(drec, d, {"kind", "outcome", "by", "at", "rationale"})
            decisions.append(
                {
                    "kind": chk.choice(drec, d, "kind", ("committee", "credit")),
                    "outcome": chk.choice(drec, d, "outcome", ("approved", "rejected")),
                    "by": chk.text(drec, d, "by", required=True),
                    "at": chk.moment(drec, d, "at"),
                    "rationale": chk.text(drec, d, "rationale"),
                }
            )
        loan["decisions"] = decisions

        judgements: list[dict[str, Any]] = []
        for j, jd in enumerate(ln.get("judgement", []), start=1):
            jrec = f"{rec} judgement #{j}"
            chk.unknown(jrec, jd, {"criterion", "result", "by", "at", "rationale"})
            judgements.append(
                {
                    "criterion": chk.choice(jrec, jd, "criterion", ("E9", "E10", "E11")),
                    "result": chk.choice(jrec, jd, "result", ("pass", "fail")),
                    "by": chk.text(jrec, jd, "by", required=True),
                    "at": chk.moment(jrec, jd, "at"),
                    "rationale": chk.text(jrec, jd, "rationale", required=True),
                }
            )
        loan["judgements"] = judgements
        loans.append(loan)

    bonds: list[dict[str, Any]] = []
    for i, bd in enumerate(raw.get("bond", []), start=1):
        rec = f"bond {bd.get('isin', '#' + str(i))}"
        chk.unknown(rec, bd, BOND_FIELDS)
        isin = str(bd.get("isin", ""))
        if (problem := ids.isin_problem(isin)) is not None:
            chk.add(rec, "isin", _reason(problem))
        pool = chk.strings(rec, bd, "pool")
        for ref in pool:
            if ref not in refs:
                chk.add(rec, "pool", f"{ref!r} is not a loan in this file")
        bond = {
            "isin": isin,
            "name": chk.text(rec, bd, "name", required=True),
            "currency": str(bd.get("currency", "SEK")),
            "nominal_amount": chk.money(rec, bd, "nominal_amount", required=True),
            "coupon_pct": chk.number(rec, bd, "coupon_pct"),
            "issue_date": chk.day(rec, bd, "issue_date", required=True),
            "maturity_date": chk.day(rec, bd, "maturity_date", required=True),
            "framework_version": str(bd.get("framework_version", "")),
            "illustrative": bool(bd.get("illustrative", default_illustrative)),
            "pool": pool,
            "issuer_name": str(bd.get("issuer_name", ""))[:200],
            "issuer_lei": str(bd.get("issuer_lei", "")),
            "reviewer": str(bd.get("reviewer", ""))[:200],
            "review_scope": str(bd.get("review_scope", ""))[:1000],
        }
        if bond["issuer_lei"] and (problem_lei := lei_problem(bond["issuer_lei"])) is not None:
            chk.add(rec, "issuer_lei", problem_lei)
        if (
            bond["issue_date"]
            and bond["maturity_date"]
            and bond["maturity_date"] <= bond["issue_date"]
        ):
            chk.add(rec, "maturity_date", "must be after the issue date")
        bonds.append(bond)

    submissions: list[tuple[Path, dict[str, Any]]] = []
    for i, s in enumerate(raw.get("submission", []), start=1):
        rec = f"submission #{i}"
        chk.unknown(rec, s, {"file", "uploaded_by", "uploaded_at"})
        file = folder / str(s.get("file", ""))
        if not s.get("file") or not file.is_file():
            chk.add(rec, "file", f"no such file: {s.get('file')!r}")
        submissions.append(
            (
                file,
                {
                    "uploaded_by": str(s.get("uploaded_by", "portfolio")),
                    "at": chk.moment(rec, s, "uploaded_at"),
                },
            )
        )
    return _Parsed(meta, borrowers, loans, bonds, submissions), chk.issues


def _upsert(
    session: Session, row: Any, values: dict[str, Any], summary: LoadSummary, label: str
) -> Any:
    if row is None:
        return None
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        summary.changed_records.append(label)
    return row


def load_portfolio(
    *,
    session: Session,
    settings: Settings,
    path: Path,
    library_dir: Path | None = None,
    actor: str = "portfolio-loader",
    current_year: int | None = None,
    progress: Callable[[str], None] | None = None,
    submitted_until: datetime | None = None,
) -> LoadSummary:
    """Check and store the portfolio at ``path`` in ``session``; raises ``PortfolioError`` with every problem.

    ``submitted_until``: only the measurement files uploaded at or before that moment are imported
    (the demo publishes a report as it stood then, and loads the later files after it).

    The caller owns the transaction: on ``PortfolioError`` it must roll back (``session_scope`` does).
    """
    library = load_library(library_dir)
    parsed, issues = read_portfolio(path, library)
    if issues:
        raise PortfolioError(issues)
    summary = LoadSummary()
    summary.indicators_added, _ = sync_library(session, library)
    step = progress or (lambda _msg: None)

    by_orgnr: dict[str, Borrower] = {b.orgnr: b for b in session.exec(select(Borrower)).all()}
    # owners first, so companies can point at them
    for b in sorted(parsed.borrowers, key=lambda b: b["owner"] is not None):
        values = {
            "name": b["name"],
            "kind": b["kind"],
            "member": b["member"],
            "municipality_code": b["municipality_code"],
            "contact_email": b["contact_email"],
            "owner_id": by_orgnr[b["owner"]].id if b["owner"] else None,
        }
        row = by_orgnr.get(b["orgnr"])
        if row is None:
            row = Borrower(orgnr=b["orgnr"], **values)
            session.add(row)
            session.flush()
            by_orgnr[row.orgnr] = row
            summary.changed_records.append(f"borrower {row.orgnr}")
        else:
            _upsert(session, row, values, summary, f"borrower {row.orgnr}")
        summary.borrowers += 1

    library_ids = {
        code: ind_id
        for ind_id, code in session.exec(
            select(IndicatorDefinition.id, IndicatorDefinition.code).where(
                col(IndicatorDefinition.loan_id).is_(None)
            )
        ).all()
    }
    loans_by_ref: dict[str, Loan] = {}
    for ln in parsed.loans:
        step(f"loan {ln['reference']}")
        scalar = {
            k: ln[k]
            for k in (
                "title",
                "status",
                "currency",
                "amount",
                "disbursed_amount",
                "outstanding_amount",
                "total_project_cost",
                "application_date",
                "disbursement_date",
                "maturity_date",
                "margin_bp",
                "programme_category",
                "icma_category",
                "target_populations",
                "sdgs",
                "investment_type",
                "planned_sample_per_arm",
                "outcome_base_rate",
                "follow_up_until_year",
                "illustrative",
                *LOAN_TEXT_FIELDS,
            )
        }
        approved = {d["kind"] for d in ln["decisions"] if d["outcome"] == "approved"}
        # the discount follows the decisions, never typed: both approvals, or none
        scalar["discount_bp"] = (
            settings.discount_bp if {"committee", "credit"} <= approved else Decimal(0)
        )
        scalar["borrower_id"] = by_orgnr[ln["borrower"]].id
        loan = session.exec(select(Loan).where(Loan.reference == ln["reference"])).first()
        label = f"loan {ln['reference']}"
        if loan is None:
            loan = Loan(reference=ln["reference"], **scalar)
            session.add(loan)
            session.flush()
            summary.changed_records.append(label)
            audit.record(
                session, actor=actor, action="loan.load", entity="loan", entity_id=loan.reference
            )
        else:
            _upsert(session, loan, scalar, summary, label)
        loans_by_ref[loan.reference] = loan
        summary.loans += 1
        _sync_children(session, loan, ln, library_ids, summary)

    for bd in parsed.bonds:
        values = {k: bd[k] for k in bd if k not in ("isin", "pool")}
        bond = session.exec(select(SocialBond).where(SocialBond.isin == bd["isin"])).first()
        if bond is None:
            bond = SocialBond(isin=bd["isin"], **values)
            session.add(bond)
            session.flush()
            summary.changed_records.append(f"bond {bond.isin}")
        else:
            _upsert(session, bond, values, summary, f"bond {bond.isin}")
        in_pool = set(
            session.exec(
                select(BondPoolEntry.loan_id).where(BondPoolEntry.bond_id == bond.id)
            ).all()
        )
        for ref in bd["pool"]:
            loan_id = loans_by_ref[ref].id
            if loan_id not in in_pool:
                session.add(BondPoolEntry(bond_id=bond.id or 0, loan_id=loan_id or 0))
                summary.changed_records.append(f"bond {bond.isin} pool {ref}")
        summary.bonds += 1
    session.flush()

    measurement_issues: list[PortfolioIssue] = []
    for file, meta in parsed.submissions:
        if submitted_until is not None and (meta["at"] is None or meta["at"] > submitted_until):
            continue
        step(f"measurements {file.name}")
        result = import_file(
            session=session,
            settings=settings,
            filename=file.name,
            data=file.read_bytes(),
            uploaded_by=meta["uploaded_by"],
            source="portfolio",
            current_year=current_year,
            recorded_at=meta["at"],
        )
        for issue in result.errors:
            measurement_issues.append(
                PortfolioIssue(
                    str(file),
                    f"row {issue.row}" if issue.row else "",
                    issue.column or "",
                    issue.message_en,
                )
            )
        if result.submission_id is not None:
            summary.submissions += 1
            owners = {
                loans_by_ref[c.loan].borrower_id for c in result.changes if c.loan in loans_by_ref
            }
            if len(owners) == 1:
                # a file about one organisation's loans is that organisation's submission
                submission = session.get(Submission, result.submission_id)
                if submission is not None:
                    submission.borrower_id = owners.pop()
        summary.inserted += result.inserted
        summary.restated += result.restated
        summary.unchanged += result.unchanged
    if measurement_issues:
        raise PortfolioError(measurement_issues)
    return summary


def _sync_children(
    session: Session,
    loan: Loan,
    ln: dict[str, Any],
    library_ids: dict[str, int],
    summary: LoadSummary,
) -> None:
    """Bring the loan's own indicators, indicator uses, goals, decisions and judgements in line with the file."""
    label = f"loan {loan.reference}"
    own_rows = {
        row.code: row
        for row in session.exec(
            select(IndicatorDefinition).where(IndicatorDefinition.loan_id == loan.id)
        ).all()
    }
    ids = dict(library_ids)
    for code, ind in ln["own_indicators"].items():
        values = definition_fields(ind)
        row = own_rows.get(code)
        if row is None:
            row = IndicatorDefinition(loan_id=loan.id, **values)
            session.add(row)
            session.flush()
            summary.changed_records.append(f"{label} own indicator {code}")
        elif apply_fields(row, values):
            summary.changed_records.append(f"{label} own indicator {code}")
        ids[code] = row.id or 0

    uses = {
        li.indicator_id: li
        for li in session.exec(select(LoanIndicator).where(LoanIndicator.loan_id == loan.id)).all()
    }
    use_by_code: dict[str, LoanIndicator] = {}
    for use in ln["indicators"]:
        values = {k: use[k] for k in use if k != "code"}
        ind_id = ids[use["code"]]
        row = uses.get(ind_id)
        if row is not None and row.expected_frozen_at is not None:
            # fixed at the committee's approval: a later file does not change it
            values.pop("expected_value", None)
        if row is None:
            row = LoanIndicator(loan_id=loan.id or 0, indicator_id=ind_id, **values)
            session.add(row)
            summary.changed_records.append(f"{label} indicator {use['code']}")
        else:
            _upsert(session, row, values, summary, f"{label} indicator {use['code']}")
        use_by_code[use["code"]] = row
    session.flush()

    goals = session.exec(
        select(Goal).where(Goal.loan_id == loan.id).order_by(col(Goal.position))
    ).all()
    links: dict[int, set[int]] = {}
    for goal_id, li_id in session.exec(
        select(GoalIndicator.goal_id, GoalIndicator.loan_indicator_id).where(
            col(GoalIndicator.goal_id).in_([g.id for g in goals])
        )
    ).all():
        links.setdefault(goal_id, set()).add(li_id)
    current = [(g.text, g.target_value, g.target_year, links.get(g.id or 0, set())) for g in goals]
    wanted = [
        (
            g["text"],
            g["target_value"],
            g["target_year"],
            {use_by_code[c].id for c in g["indicators"]},
        )
        for g in ln["goals"]
    ]
    if current != wanted:
        for g in goals:
            for li_id in links.get(g.id or 0, set()):
                session.delete(session.get(GoalIndicator, (g.id, li_id)))
            session.flush()
            session.delete(g)
        session.flush()
        for position, g in enumerate(ln["goals"], start=1):
            goal = Goal(
                loan_id=loan.id or 0,
                position=position,
                text=g["text"],
                target_value=g["target_value"],
                target_year=g["target_year"],
            )
            session.add(goal)
            session.flush()
            for code in dict.fromkeys(g["indicators"]):
                session.add(
                    GoalIndicator(goal_id=goal.id or 0, loan_indicator_id=use_by_code[code].id or 0)
                )
        summary.changed_records.append(f"{label} goals")

    have_decisions = {
        (d.kind, d.outcome, d.decided_by)
        for d in session.exec(select(Decision).where(Decision.loan_id == loan.id)).all()
    }
    for d in ln["decisions"]:
        if (d["kind"], d["outcome"], d["by"]) not in have_decisions:
            extra = {"decided_at": d["at"]} if d["at"] else {}
            session.add(
                Decision(
                    loan_id=loan.id or 0,
                    kind=d["kind"],
                    outcome=d["outcome"],
                    rationale=d["rationale"],
                    decided_by=d["by"],
                    **extra,
                )
            )
            summary.changed_records.append(f"{label} decision {d['kind']}")
    committee = [
        d for d in ln["decisions"] if (d["kind"], d["outcome"]) == ("committee", "approved")
    ]
    if committee:
        session.flush()
        frozen_at = committee[0]["at"] or utcnow()
        for row in use_by_code.values():
            if row.expected_frozen_at is None:
                row.expected_frozen_at = frozen_at
                session.add(row)
    have_judgements = {
        (j.criterion_id, j.result, j.judged_by)
        for j in session.exec(select(Judgement).where(Judgement.loan_id == loan.id)).all()
    }
    for j in ln["judgements"]:
        if (j["criterion"], j["result"], j["by"]) not in have_judgements:
            extra = {"judged_at": j["at"]} if j["at"] else {}
            session.add(
                Judgement(
                    loan_id=loan.id or 0,
                    criterion_id=j["criterion"],
                    result=j["result"],
                    rationale=j["rationale"],
                    judged_by=j["by"],
                    **extra,
                )
            )
            summary.changed_records.append(f"{label} judgement {j['criterion']}")
    session.flush()
