"""Database tables (SQLModel on SQLAlchemy).

The relations follow PRODUCT §2. Money and measured values use ``ExactDecimal``; lists and judged results use
JSON. Constraints that protect the data live in the database, not only in code: unique loan reference, one
current measurement per loan indicator, comparison unit and year, foreign keys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Index, LargeBinary, Text, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from lanportfolj.dbtypes import ExactDecimal

MONEY = ExactDecimal(20, 2)
VALUE = ExactDecimal(28, 6)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, **kwargs: Any) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_type=DateTime(timezone=True),  # type: ignore[call-overload]
        nullable=nullable,
        **kwargs,
    )


class Borrower(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    orgnr: str = Field(max_length=11, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    owner_id: int | None = Field(default=None, foreign_key="borrower.id")
    member: bool = False
    municipality_code: str | None = Field(default=None, max_length=4)
    contact_email: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()


class IndicatorDefinition(SQLModel, table=True):
    """A library indicator, or (``loan_id`` set) one a loan defined for itself."""

    __tablename__ = "indicator_definition"
    __table_args__ = (
        UniqueConstraint("code", "loan_id", name="uq_indicator_code_scope"),
        # NULL loan_id would slip past the constraint above: library codes get their own index
        Index(
            "uq_indicator_library_code",
            "code",
            unique=True,
            sqlite_where=text("loan_id IS NULL"),
            postgresql_where=text("loan_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, index=True)
    loan_id: int | None = Field(default=None, foreign_key="loan.id")
    name_sv: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    unit: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    direction: str = Field(max_length=16)
    aggregation: str = Field(max_length=16)
    numerator: str | None = Field(default=None, max_length=80)
    denominator: str | None = Field(default=None, max_length=80)
    min_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    max_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    integer: bool = False
    icma_category: str = Field(default="", max_length=64)
    programme_categories: list[str] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    sdg_targets: list[str] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    definition_sv: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    definition_en: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    data_source: str = Field(default="", max_length=300)
    iris_code: str | None = Field(default=None, max_length=20)
    kolada_kpi: str | None = Field(default=None, max_length=10)
    kolada_gender: str | None = Field(default=None, max_length=1)
    kolada_level: str | None = Field(default=None, max_length=20)
    #: a population used as a ratio's denominator: pooled in ratios, never attributed (issue 16)
    context: bool = False
    aggregation_reason_sv: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    aggregation_reason_en: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]


class Loan(SQLModel, table=True):
    """A loan; an application until approved. Carries the case the eligibility rules read."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)
    borrower_id: int = Field(foreign_key="borrower.id", index=True)
    title: str = Field(max_length=300)
    status: str = Field(default="draft", max_length=20, index=True)
    currency: str = Field(default="SEK", max_length=3)
    amount: Decimal = Field(sa_type=MONEY)  # type: ignore[call-overload]
    disbursed_amount: Decimal = Field(default=Decimal(0), sa_type=MONEY)  # type: ignore[call-overload]
    outstanding_amount: Decimal = Field(default=Decimal(0), sa_type=MONEY)  # type: ignore[call-overload]
    total_project_cost: Decimal | None = Field(default=None, sa_type=MONEY)  # type: ignore[call-overload]
    application_date: date | None = None
    disbursement_date: date | None = None
    maturity_date: date | None = None
    margin_bp: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    discount_bp: Decimal = Field(default=Decimal(0), sa_type=VALUE)  # type: ignore[call-overload]
    programme_category: str = Field(default="", max_length=32)
    icma_category: str = Field(default="", max_length=64)
    target_populations: list[str] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    sdgs: list[str] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    investment_type: str = Field(default="", max_length=32)
    physical_investment: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    social_intervention: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    social_need: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    target_group_who: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    target_group_where: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    target_group_attributes: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    interventions: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    change_for_target_group: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    future_state: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    intervention_logic: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    systematic_work_ref: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    developed_practice: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    evaluation_plan: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    comparison_group: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    planned_sample_per_arm: int | None = None
    outcome_base_rate: float | None = None
    follow_up_until_year: int | None = None
    #: Invented demo values are marked so every page can say so.
    illustrative: bool = False
    notes: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Goal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    position: int = 0
    text: str = Field(sa_type=Text)  # type: ignore[call-overload]
    target_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    target_year: int | None = None


class LoanIndicator(SQLModel, table=True):
    """A loan's use of an indicator: baseline, target and data source."""

    __tablename__ = "loan_indicator"
    __table_args__ = (UniqueConstraint("loan_id", "indicator_id", name="uq_loan_indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    indicator_id: int = Field(foreign_key="indicator_definition.id", index=True)
    baseline_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    baseline_year: int | None = None
    target_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    target_year: int | None = None
    data_source: str = Field(default="", max_length=300)
    #: the value expected (ex ante) for the target year, as recorded when the committee approved;
    #: frozen from then on (``expected_frozen_at``)
    expected_value: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    expected_frozen_at: datetime | None = _ts(nullable=True)


class GoalIndicator(SQLModel, table=True):
    """Which loan indicators measure a goal (a goal may have several; an indicator may serve several)."""

    __tablename__ = "goal_indicator"

    goal_id: int = Field(foreign_key="goal.id", primary_key=True)
    loan_indicator_id: int = Field(foreign_key="loan_indicator.id", primary_key=True)


class Submission(SQLModel, table=True):
    """One uploaded file (or other batch of values): who, when, the bytes, and what came of it."""

    id: int | None = Field(default=None, primary_key=True)
    borrower_id: int | None = Field(default=None, foreign_key="borrower.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_by: str = Field(default="", max_length=200)
    source: str = Field(default="upload", max_length=20)
    filename: str = Field(max_length=300)
    content: bytes = Field(sa_type=LargeBinary)  # type: ignore[call-overload]
    sha256: str = Field(max_length=64, index=True)
    size: int = 0
    uploaded_at: datetime = _ts()
    status: str = Field(default="accepted", max_length=20)
    rows_total: int = 0
    rows_accepted: int = 0
    inserted: int = 0
    restated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]


class Measurement(SQLModel, table=True):
    """One version of a yearly value. A restatement adds a version and retires the previous one."""

    __table_args__ = (
        UniqueConstraint(
            "loan_indicator_id", "group_name", "year", "version", name="uq_measurement_version"
        ),
        # one current value per loan indicator, comparison unit and year
        Index(
            "uq_measurement_current",
            "loan_indicator_id",
            "group_name",
            "year",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_indicator_id: int = Field(foreign_key="loan_indicator.id", index=True)
    #: Comparison unit ("" = the intervention itself).
    group_name: str = Field(default="", max_length=120)
    year: int
    value: Decimal = Field(sa_type=VALUE)  # type: ignore[call-overload]
    estimated: bool = False
    comment: str | None = Field(default=None, sa_type=Text)  # type: ignore[call-overload]
    version: int = 1
    is_current: bool = True
    source: str = Field(default="upload", max_length=40)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    recorded_by: str = Field(default="", max_length=200)
    #: The time the file (or person) claims for the value, e.g. a portfolio's ``uploaded_at``.
    recorded_at: datetime = _ts()
    #: When this version was written to the database: decides restatements (issue 17), never claimed.
    written_at: datetime = _ts(sa_column_kwargs={"server_default": func.now()})
    #: Units measured behind the value (respondents, pupils, children), when reported.
    n: int | None = None
    #: The value's standard error, when reported.
    std_error: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    #: Official history before the baseline (Kolada), kept for a comparison unit: never one of
    #: the borrower's own measurements.
    history: bool = False


class SocialBond(SQLModel, table=True):
    __tablename__ = "social_bond"

    id: int | None = Field(default=None, primary_key=True)
    isin: str = Field(max_length=12, unique=True, index=True)
    name: str = Field(max_length=200)
    currency: str = Field(default="SEK", max_length=3)
    nominal_amount: Decimal = Field(sa_type=MONEY)  # type: ignore[call-overload]
    coupon_pct: Decimal | None = Field(default=None, sa_type=VALUE)  # type: ignore[call-overload]
    issue_date: date
    maturity_date: date
    framework_version: str = Field(default="", max_length=40)
    illustrative: bool = False
    #: the report header an analyst records (migration 0010); empty when not recorded
    issuer_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    issuer_lei: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    reviewer: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    review_scope: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})


class BondPoolEntry(SQLModel, table=True):
    """A loan in a bond's pool of eligible loans."""

    __tablename__ = "bond_pool_entry"
    __table_args__ = (UniqueConstraint("bond_id", "loan_id", name="uq_bond_pool_loan"),)

    id: int | None = Field(default=None, primary_key=True)
    bond_id: int = Field(foreign_key="social_bond.id", index=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    added_at: datetime = _ts()


class Report(SQLModel, table=True):
    """A bond's allocation and impact report for one reporting date; frozen when published."""

    __table_args__ = (
        UniqueConstraint(
            "bond_id", "reporting_date", "version", name="uq_report_bond_date_version"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    bond_id: int = Field(foreign_key="social_bond.id", index=True)
    reporting_date: date
    #: 1 for the first publication of a date; a republication is the next version (the earlier
    #: one's status becomes ``superseded``)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    fx_rate: Decimal = Field(default=Decimal(1), sa_type=VALUE)  # type: ignore[call-overload]
    fx_source: str = Field(default="", max_length=200)
    status: str = Field(default="draft", max_length=20)
    #: the SHA-256 of the frozen JSON, whose bytes are the report's ``ReportChunk`` rows in order
    sha256: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = _ts(nullable=True)
    published_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()


class ReportChunk(SQLModel, table=True):
    """One piece of a published report's frozen JSON (UTF-8 bytes, a few MiB each; every piece is
    whole characters), numbered from 0: joined in order they are the bytes its ``sha256`` is of.

    Pieces, not one value: at national scale the JSON is ~500 MB, which as one value the publishing
    process had to hold (and the SQLite driver copy) entire, and every reader read entire; in pieces
    it is written as it is made and read a piece at a time (``services.reports``). They are rows of
    the database, so they are in its transactions and its backups, on SQLite as on PostgreSQL.
    """

    __tablename__ = "report_chunk"

    report_id: int = Field(foreign_key="report.id", primary_key=True)
    seq: int = Field(primary_key=True)
    content: bytes = Field(sa_type=LargeBinary)  # type: ignore[call-overload]


class ReportFile(SQLModel, table=True):
    """A file of a published report frozen as made (the PDF, in one language), with its SHA-256:
    Chromium and the templates may change later, the file handed to investors does not."""

    __tablename__ = "report_file"
    __table_args__ = (
        UniqueConstraint("report_id", "fmt", "lang", name="uq_report_file_format_lang"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    fmt: str = Field(max_length=16)
    lang: str = Field(max_length=2)
    content: bytes = Field(sa_type=LargeBinary)  # type: ignore[call-overload]
    sha256: str = Field(max_length=64)
    size: int = 0
    created_at: datetime = _ts()


class DisbursementTranche(SQLModel, table=True):
    """One dated disbursement of a loan; ``funding`` marks it financing or refinancing (None: derived
    from the bond's issue date)."""

    __tablename__ = "disbursement_tranche"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    disbursed_on: date
    amount: Decimal = Field(sa_type=MONEY)  # type: ignore[call-overload]
    funding: str | None = Field(default=None, max_length=12)
    created_at: datetime = _ts()


class LoanEvent(SQLModel, table=True):
    """A dated life event that takes a loan (or part of it) out of the pool: matured, repaid, prepaid,
    written down. ``amount`` None means the whole outstanding amount."""

    __tablename__ = "loan_event"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    kind: str = Field(max_length=20)
    event_date: date
    amount: Decimal | None = Field(default=None, sa_type=MONEY)  # type: ignore[call-overload]
    note: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    recorded_by: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class ExchangeRate(SQLModel, table=True):
    """A dated FX rate: 1 unit of ``currency`` = ``sek_per_unit`` SEK on ``rate_date``, with its source."""

    __tablename__ = "fx_rate"
    __table_args__ = (UniqueConstraint("currency", "rate_date", name="uq_fx_rate_currency_date"),)

    id: int | None = Field(default=None, primary_key=True)
    currency: str = Field(max_length=3, index=True)
    rate_date: date
    sek_per_unit: Decimal = Field(sa_type=VALUE)  # type: ignore[call-overload]
    source: str = Field(default="", max_length=200)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class Assessment(SQLModel, table=True):
    """A stored eligibility assessment, with the rule-set version it was made under."""

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    rule_set: str = Field(max_length=40)
    overall: str = Field(max_length=20)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # type: ignore[call-overload]
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class Judgement(SQLModel, table=True):
    """An analyst's judgement of a criterion that needs one (E9–E11)."""

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    criterion_id: str = Field(max_length=8)
    result: str = Field(max_length=10)
    rationale: str = Field(sa_type=Text)  # type: ignore[call-overload]
    judged_by: str = Field(max_length=200)
    judged_at: datetime = _ts()


class Decision(SQLModel, table=True):
    """The committee's or the credit decision on a loan."""

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    kind: str = Field(max_length=20)  # committee | credit
    outcome: str = Field(max_length=20)  # approved | rejected
    rationale: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]
    decided_by: str = Field(max_length=200)
    decided_at: datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """Who did what, when, with the state before and after."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str = Field(default="system", max_length=200)
    action: str = Field(max_length=60, index=True)
    entity: str = Field(default="", max_length=40)
    entity_id: str = Field(default="", max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # type: ignore[call-overload]
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # type: ignore[call-overload]
    detail: str = Field(default="", sa_type=Text)  # type: ignore[call-overload]


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=200, unique=True, index=True)
    password_hash: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)  # analyst | borrower | investor | admin
    borrower_id: int | None = Field(default=None, foreign_key="borrower.id")
    language: str = Field(default="sv", max_length=2)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(default="", max_length=100)
    prefix: str = Field(max_length=12)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)
    # NULL only for a row nobody gave an expiry: such a token is refused
    expires_at: datetime | None = _ts(nullable=True)


class FormDraft(SQLModel, table=True):
    """What a user typed on the case form when saving left some values unusable, with the problems.

    The save redirects to the edit page, which shows this again (POST-redirect-GET: reloading the page
    saves nothing twice). Kept per loan and user; a later clean save, or deleting the draft, removes it.
    """

    __tablename__ = "form_draft"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = _ts()
    typed: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # type: ignore[call-overload]
    errors: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy of
    the database signs nobody in. Deleting the rows ends the sessions at once."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts()
    client_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)


class LoginFailure(SQLModel, table=True):
    """One failed login: which e-mail address (as its SHA-256, known or not) from which client. Shared by
    every worker, so the throttle holds however many processes serve."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account_client", "account_hash", "client", "at"),
        Index("ix_login_failure_client", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_hash: str = Field(max_length=64)
    client: str = Field(max_length=64)
    at: datetime = _ts(index=True)


# tables of other packages, registered on the same metadata (Alembic and the tests see them through here)
import lanportfolj.kolada.models  # noqa: E402,F401


class CaseStudy(SQLModel, table=True):
    """A short narrative about one loan and year, in Swedish and English (issue 16 item 6).

    Written by the owning borrower or an analyst; it is ``pending`` until an analyst approves it, and only
    approved ones appear in a bond report. Writing and approving are audited.
    """

    __tablename__ = "case_study"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    year: int
    title: str = Field(max_length=200)
    text_sv: str = Field(sa_type=Text)  # type: ignore[call-overload]
    text_en: str = Field(sa_type=Text)  # type: ignore[call-overload]
    status: str = Field(default="pending", max_length=16)
    written_by: str = Field(max_length=320)
    created_at: datetime = _ts()
    approved_by: str | None = Field(default=None, max_length=320)
    approved_at: datetime | None = _ts(nullable=True)
