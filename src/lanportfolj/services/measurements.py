"""Stores validated indicator values: one transaction per file, restatements as new versions.

The reading and checking is ``lanportfolj.ingest``; this module builds the context it checks against from the
database, decides what each row means (new, restated, unchanged) and writes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from itertools import repeat
from typing import TYPE_CHECKING, Any

import polars as pl

from lanportfolj.config import Settings
from lanportfolj.domain.filenames import safe_filename
from lanportfolj.driver import Driver
from lanportfolj.exact import plain
from lanportfolj.ingest import ParseResult
from lanportfolj.ingest.issues import ImportIssue, more_issues_text
from lanportfolj.ingest.parse import parse_upload
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule

if TYPE_CHECKING:
    from sqlmodel import Session

# Every statement here is plain SQL through the driver (``lanportfolj.driver``), in the caller's session or
# on the CLI's own connection: ``lanportfolj import`` starts without SQLAlchemy or the models (issue 15).


def utcnow() -> datetime:
    return datetime.now(UTC)


def _driver(session: Session | Driver) -> Driver:
    return session if isinstance(session, Driver) else Driver.from_session(session)


def _decimal(value: Any) -> Decimal | None:
    """As ``dbtypes.ExactDecimal`` reads a value: SQLite's text or PostgreSQL's NUMERIC, made plain."""
    if value is None:
        return None
    return plain(value if isinstance(value, Decimal) else Decimal(str(value)))


Key = tuple[int, str, int]  # (loan_indicator_id, group, year)


@dataclass(frozen=True)
class Change:
    """What one accepted row does to the stored values."""

    kind: str  # "insert" | "restate" | "unchanged"
    loan: str
    indicator: str
    year: int
    group: str
    value: Decimal
    estimated: bool
    old_value: Decimal | None = None
    old_version: int | None = None
    comment: str | None = None
    #: The stored comment a restatement replaces (a comment-only edit has the same old and new value).
    old_comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "loan": self.loan,
            "indicator": self.indicator,
            "year": self.year,
            "group": self.group,
            "value": str(self.value),
            "estimated": self.estimated,
            "old_value": None if self.old_value is None else str(self.old_value),
            "old_version": self.old_version,
            "comment": self.comment,
            "old_comment": self.old_comment,
            # a restatement of the comment alone: the value stays as it was
            "comment_only": self.kind == "restate"
            and self.old_value == self.value
            and self.comment != self.old_comment,
        }


@dataclass
class Plan:
    """Every accepted row with its loan-indicator id and what it does to the stored values.

    ``frame`` holds the accepted rows (:data:`lanportfolj.ingest.result.ACCEPTED_SCHEMA`) plus ``li``
    (loan-indicator id), ``kind`` (insert / restate / unchanged) and, for rows that meet a stored value,
    ``old_id``, ``old_version`` and ``old_index`` into ``old_values`` (the stored values, exact).
    """

    frame: pl.DataFrame
    #: As the driver returns them: text on SQLite, ``Decimal`` on PostgreSQL.
    old_values: list[str | Decimal]

    def count(self, kind: str) -> int:
        return int((self.frame["kind"] == kind).sum())

    def changes(self) -> list[Change]:
        olds = self.old_values
        columns = self.frame.select(
            "kind",
            "loan",
            "indicator",
            "year",
            "group",
            "value",
            "estimated",
            "old_index",
            "old_version",
            "comment",
            "old_comment",
        ).iter_rows()
        return [
            Change(
                kind=kind,
                loan=loan,
                indicator=indicator,
                year=year,
                group=group,
                value=Decimal(value),
                estimated=estimated,
                # only a restatement names what it replaces (an unchanged row has nothing to show)
                old_value=plain(Decimal(olds[old_index])) if kind == "restate" else None,
                old_version=old_version if kind == "restate" else None,
                comment=comment,
                old_comment=old_comment if kind == "restate" else None,
            )
            for (
                kind,
                loan,
                indicator,
                year,
                group,
                value,
                estimated,
                old_index,
                old_version,
                comment,
                old_comment,
            ) in columns
        ]


@dataclass
class ImportResult:
    """The outcome of an import or a dry run, the same for the web page, the API and the CLI."""

    file: str
    sha256: str
    accepted: bool
    dry_run: bool
    rows: int
    inserted: int = 0
    restated: int = 0
    unchanged: int = 0
    #: The first :data:`~lanportfolj.ingest.issues.MAX_ISSUES` problems (errors before warnings).
    errors: list[ImportIssue] = field(default_factory=list)
    #: Problems found beyond ``errors``: counted, not listed.
    more_errors: int = 0
    submission_id: int | None = None
    #: The submission that already brought exactly these bytes; nothing is done again.
    duplicate_of: int | None = None
    #: What each accepted row does, as a frame; :attr:`changes` turns it into objects on demand.
    plan: Plan | None = field(default=None, repr=False, compare=False)
    #: Nothing was stored because a warning asks for confirmation and none was given.
    unconfirmed: bool = False
    #: Indicator code → (Swedish, English) name, for the preview and the CLI.
    indicator_names: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def indicator_name(self, code: str, lang: str = "en") -> str:
        """The indicator's name in ``lang``, or its code when it has none."""
        sv, en = self.indicator_names.get(code, (code, code))
        return sv if lang == "sv" else en

    @property
    def needs_confirmation(self) -> bool:
        """Whether a warning asks the uploader to confirm the values before they are stored."""
        return any(issue.confirm for issue in self.errors)

    @cached_property
    def changes(self) -> list[Change]:
        """One :class:`Change` per accepted row, in file order (empty for a rejected or duplicate file)."""
        return [] if self.plan is None else self.plan.changes()

    @property
    def nothing_changed(self) -> bool:
        return self.accepted and self.inserted == 0 and self.restated == 0

    def to_dict(self, lang: str = "en", *, with_changes: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "sha256": self.sha256,
            "accepted": self.accepted,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "inserted": self.inserted,
            "restated": self.restated,
            "unchanged": self.unchanged,
            "submission_id": self.submission_id,
            "duplicate_of": self.duplicate_of,
            "errors": [issue.to_dict(lang) for issue in self.errors],
            "more_errors": self.more_errors,
            # "… and 48 213 more" under the list, in the same words on the page, in the API and the CLI
            "more_errors_text": more_issues_text(self.more_errors, lang)
            if self.more_errors
            else None,
        }
        data["needs_confirmation"] = self.needs_confirmation
        data["unconfirmed"] = self.unconfirmed
        data["warnings"] = [
            issue.to_dict(lang) for issue in self.errors if issue.severity != "error"
        ]
        if with_changes:
            data["changes"] = [
                {**c.to_dict(), "indicator_name": self.indicator_name(c.indicator, lang)}
                for c in self.changes
                if c.kind != "unchanged"
            ]
        return data


def stored_issues(issues: list[ImportIssue], more: int) -> list[dict[str, Any]]:
    """``issues`` as kept with a submission, both languages; a last ``more-issues`` entry counts the rest."""
    kept: list[dict[str, Any]] = [
        {
            "file": issue.file,
            "sheet": issue.sheet,
            "row": issue.row,
            "column": issue.column,
            "code": issue.code,
            "value": issue.value,
            "severity": issue.severity,
            "message_sv": issue.message_sv,
            "message_en": issue.message_en,
        }
        for issue in issues
    ]
    if more:
        kept.append(
            {
                "code": "more-issues",
                "count": more,
                "message_sv": more_issues_text(more, "sv"),
                "message_en": more_issues_text(more, "en"),
            }
        )
    return kept


# chunked IN lists keep each statement within every database's parameter limit
_CHUNK = 500


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _matching_loans(db: Driver, names: list[str] | None) -> list[tuple[int, str, int]]:
    """(id, reference, borrower id) of every loan, or of those ``names`` name (case-insensitively)."""
    sql = "SELECT id, reference, borrower_id FROM loan"
    if names is None:
        return [tuple(row) for row in db.rows(sql)]  # type: ignore[misc]
    keys = sorted({name.strip().upper() for name in names})
    if not keys:
        return []
    if not all(key.isascii() for key in keys):
        # SQLite's upper() folds ASCII letters only: match "lån"/"LÅN" in Python over every loan. (An ASCII
        # key misses only references whose non-ASCII letters Python folds to ASCII, such as "ı" to "I".)
        candidates = db.rows(sql)
    else:
        candidates = [
            row
            for chunk in _chunks(keys)
            for row in db.rows(
                f"{sql} WHERE upper(reference) IN ({db.placeholders(len(chunk))})", chunk
            )
        ]
    wanted = set(keys)
    # the same case-insensitive rule the file's cells are matched by (ingest.validate)
    return [(i, ref, owner) for i, ref, owner in candidates if ref.upper() in wanted]


def with_limits(context: IngestContext, settings: Settings) -> IngestContext:
    """``context`` with the settings' file size, unpacked-size and row limits."""
    return replace(
        context,
        max_bytes=settings.max_upload_bytes,
        max_uncompressed_bytes=settings.max_xlsx_xml_bytes,
        max_rows=settings.max_import_rows,
    )


def build_context(
    session: Session | Driver,
    *,
    settings: Settings,
    borrower_id: int | None = None,
    current_year: int | None = None,
    loans: Iterable[str] | None = None,
    history: bool = False,
) -> tuple[IngestContext, dict[tuple[str, str], int]]:
    """The rules a file is checked against, and the loan-indicator ids by (loan reference, code).

    ``borrower_id`` limits the loans the uploader may report for (a borrower user); None = every loan.
    ``loans`` (the loan cells of a file) limits the context to the loans they name, case-insensitively:
    what a file is checked against does not grow with the portfolio. None = every loan.
    """
    db = _driver(session)
    found = _matching_loans(db, None if loans is None else list(loans))
    loan_ref = {loan_id: ref for loan_id, ref, _ in found}
    allowed = (
        None
        if borrower_id is None
        else frozenset(ref for _, ref, owner in found if owner == borrower_id)
    )
    # a borrower is told another organisation's loan is unknown: not even its existence leaks
    known = frozenset(loan_ref.values()) if allowed is None else allowed
    definitions = db.rows("SELECT code, name_sv, name_en FROM indicator_definition")
    codes = frozenset(code for code, _, _ in definitions)
    # names for messages and the preview: the borrower reads names, not codes
    names = {code: (name_sv or code, name_en or code) for code, name_sv, name_en in definitions}
    sql = (
        "SELECT li.id, li.loan_id, li.baseline_year, d.code, d.min_value, d.max_value, d.integer, "
        "d.unit FROM loan_indicator li JOIN indicator_definition d ON d.id = li.indicator_id"
    )
    if loans is None:
        selected = [db.rows(sql)]
    else:
        selected = [
            db.rows(f"{sql} WHERE li.loan_id IN ({db.placeholders(len(chunk))})", chunk)
            for chunk in _chunks(sorted(loan_ref))
        ]
    rules: dict[tuple[str, str], LoanIndicatorRule] = {}
    ids: dict[tuple[str, str], int] = {}
    for part in selected:
        for li_id, loan_id, baseline_year, code, lo, hi, integer, unit in part:
            key = (loan_ref[loan_id], code)
            rules[key] = LoanIndicatorRule(
                loan=key[0],
                indicator=code,
                baseline_year=baseline_year,
                min_value=_decimal(lo),
                max_value=_decimal(hi),
                integer=bool(integer),
                percent=unit == "percent",
            )
            ids[key] = li_id
    context = IngestContext(
        known_loans=known,
        known_indicators=codes,
        rules=rules,
        current_year=current_year or date.today().year,
        allowed_loans=allowed,
        history=history,
        indicator_names=names,
        previous_for=lambda rows: latest_earlier_values(db, ids, rows),
    )
    return with_limits(context, settings), ids


def latest_earlier_values(
    db: Driver, ids: dict[tuple[str, str], int], rows: pl.DataFrame
) -> pl.DataFrame:
    """For the series and years of ``rows`` (``loan``, ``indicator``, ``group``, ``year``): the latest
    current stored value before each year, as (loan, indicator, group, year, value text).

    What a file's values are compared with for the plausibility warnings (``ingest.plausibility``). One
    query per chunk of loan indicators, on SQLite and PostgreSQL alike: a window function keeps, per
    series, the latest stored year below each of the file's years (the years between two of the file's
    years form one partition), so about one value per row is read instead of the whole history.
    """
    years = sorted({int(year) for year in rows["year"].drop_nulls().to_list()})
    keys = rows.select("loan", "indicator").unique()
    wanted = sorted(
        {ids[key] for key in zip(keys["loan"], keys["indicator"], strict=True) if key in ids}
    )
    found: list[Any] = []
    if years and wanted:
        # the years are whole numbers the checks produced: written into the SQL, not bound
        bucket = "0"
        if len(years) > 1:
            cases = " ".join(f"WHEN year < {year} THEN {n}" for n, year in enumerate(years[:-1]))
            bucket = f"CASE {cases} ELSE {len(years) - 1} END"
        for chunk in _chunks(wanted):
            found.extend(
                db.rows(
                    "SELECT loan_indicator_id, group_name, year, value FROM ("
                    "SELECT loan_indicator_id, group_name, year, value, ROW_NUMBER() OVER ("
                    f"PARTITION BY loan_indicator_id, group_name, {bucket} ORDER BY year DESC"
                    ") AS latest FROM measurement WHERE is_current AND year < "
                    f"{years[-1]} AND loan_indicator_id IN ({db.placeholders(len(chunk))})"
                    ") AS ranked WHERE latest = 1",
                    chunk,
                )
            )
    li, group, year, value = zip(*found, strict=True) if found else ((), (), (), ())
    values = pl.DataFrame(
        {
            "li": list(li),
            "group": list(group),
            "year": list(year),
            # text on SQLite, Decimal on PostgreSQL
            "value": [v if isinstance(v, str) else str(v) for v in value],
        },
        schema={"li": pl.Int64, "group": pl.String, "year": pl.Int64, "value": pl.String},
    )
    names = pl.DataFrame(
        {
            "li": list(ids.values()),
            "loan": [loan for loan, _ in ids],
            "indicator": [code for _, code in ids],
        },
        schema={"li": pl.Int64, "loan": pl.String, "indicator": pl.String},
    )
    return values.join(names, on="li", how="inner").select(
        "loan", "indicator", "group", "year", "value"
    )


_KEY = ["li", "group", "year"]


def plan_changes(db: Driver, accepted: pl.DataFrame, ids: dict[tuple[str, str], int]) -> Plan:
    """Classify each accepted row against the current stored value of its (loan indicator, group, year).

    Only the stored values of the file's loan indicators and years are read, and only rows that meet
    one are compared in Python (exactly, as ``Decimal``); the rest are inserts.
    """
    id_frame = pl.DataFrame(
        {
            "loan": [loan for loan, _ in ids],
            "indicator": [code for _, code in ids],
            "li": list(ids.values()),
        },
        schema={"loan": pl.String, "indicator": pl.String, "li": pl.Int64},
    )
    frame = accepted.join(id_frame, on=["loan", "indicator"], how="left", maintain_order="left")
    li_ids = frame["li"].unique().sort().to_list()
    years = frame["year"].unique().sort().to_list()
    # the value as the driver gives it (text on SQLite, Decimal on PostgreSQL): only the few rows a file
    # meets are compared and shown, so the exact-decimal conversion waits until then
    sql = (
        "SELECT id, loan_indicator_id, group_name, year, version, value, estimated, n, std_error, "
        "comment FROM measurement WHERE is_current"
    )
    if len(years) <= _CHUNK:
        # a yearly file names one or two years: skip the loan indicators' other years in the index
        # (whole numbers the checks produced: written into the SQL, not bound)
        sql += f" AND year IN ({', '.join(str(int(year)) for year in years)})"
    stored: list[Any] = []
    for chunk in _chunks(li_ids):
        stored.extend(
            db.rows(f"{sql} AND loan_indicator_id IN ({db.placeholders(len(chunk))})", chunk)
        )
    old_values = [row[5] for row in stored]
    # a new count or standard error for the same value is a restatement too
    old_uncertainty = [(row[7], None if row[8] is None else Decimal(row[8])) for row in stored]
    # so is a new comment on an unchanged value (a blank comment cell keeps the stored one)
    old_comments = [row[9] for row in stored]
    current = pl.DataFrame(
        {
            "old_id": [row[0] for row in stored],
            "li": [row[1] for row in stored],
            "group": [row[2] for row in stored],
            "year": [row[3] for row in stored],
            "old_version": [row[4] for row in stored],
            "old_estimated": [bool(row[6]) for row in stored],
            "old_comment": old_comments,
        },
        schema={
            "old_id": pl.Int64,
            "li": pl.Int64,
            "group": pl.String,
            "year": pl.Int64,
            "old_version": pl.Int64,
            "old_estimated": pl.Boolean,
            "old_comment": pl.String,
        },
    ).with_row_index("old_index")
    frame = frame.join(current, on=_KEY, how="left", maintain_order="left")
    met = frame.filter(pl.col("old_index").is_not_null()).select(
        "row", "value", "estimated", "old_index", "old_estimated", "n", "std_error", "comment"
    )
    same = [
        estimated == old_estimated
        and Decimal(value) == Decimal(old_values[index])
        and (n, None if se is None else Decimal(se)) == old_uncertainty[index]
        and (comment is None or comment == old_comments[index])
        for _, value, estimated, index, old_estimated, n, se, comment in met.iter_rows()
    ]
    frame = frame.join(
        pl.DataFrame({"row": met["row"], "same": pl.Series(same, dtype=pl.Boolean)}),
        on="row",
        how="left",
        maintain_order="left",
    ).with_columns(
        kind=pl.when(pl.col("old_index").is_null())
        .then(pl.lit("insert"))
        .when(pl.col("same"))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("restate"))
    )
    return Plan(frame=frame.drop("same", "old_estimated"), old_values=old_values)


def import_file(
    *,
    session: Session | Driver,
    settings: Settings,
    filename: str,
    data: bytes,
    uploaded_by: str,
    user_id: int | None = None,
    borrower_id: int | None = None,
    dry_run: bool = False,
    current_year: int | None = None,
    source: str = "upload",
    progress: Callable[[int, int], None] | None = None,
    recorded_at: Any = None,
    history: bool = False,
    confirmed: bool = True,
) -> ImportResult:
    """Check ``data`` and, unless rejected or a dry run, store it in ``session``.

    ``confirmed=False`` (the web page before its box is ticked) stores nothing when a warning asks for
    confirmation (a value far off last year's): the result is then a dry run with ``unconfirmed`` set.

    The caller owns the transaction (``session_scope``, or ``driver.connect``'s block): everything this adds
    commits or rolls back together. A rejected file writes nothing. A file whose rows are all already
    stored writes nothing either.
    """
    # the stored name is the user's text: no path, no control characters, bounded (every entry point)
    filename = safe_filename(filename)
    digest = hashlib.sha256(data).hexdigest()
    db = _driver(session)
    if not dry_run and db.dialect == "sqlite":
        # take SQLite's write lock before reading anything, so a concurrent import waits for this one
        # instead of planning against values that are about to change
        db.execute("UPDATE loan SET id = id WHERE 0 = 1")
    year = current_year or date.today().year
    limits = with_limits(
        IngestContext(
            known_loans=frozenset(), known_indicators=frozenset(), rules={}, current_year=year
        ),
        settings,
    )
    ids: dict[tuple[str, str], int] = {}
    names: dict[str, tuple[str, str]] = {}

    def context_for(loans: list[str]) -> IngestContext:
        # only the loans the file names: a one-row file on a national portfolio loads one loan's rules
        context, found = build_context(
            db,
            settings=settings,
            borrower_id=borrower_id,
            current_year=year,
            loans=loans,
            history=history,
        )
        ids.update(found)
        names.update(context.indicator_names)
        return context

    parsed: ParseResult = parse_upload(
        filename, data, limits=limits, context_for=context_for, progress=progress
    )
    accepted = parsed.accepted
    result = ImportResult(
        file=filename,
        sha256=digest,
        accepted=parsed.ok,
        dry_run=dry_run,
        rows=parsed.total_rows,
        errors=list(parsed.issues),
        more_errors=parsed.more_issues,
        indicator_names=names,
    )
    if not parsed.ok:
        return result
    if not dry_run and db.dialect != "sqlite":
        # row locks on the file's loans: concurrent imports for the same loan run one after the other,
        # each planning against the values the previous one committed
        refs = accepted["loan"].unique().sort().to_list()
        loan_ids = sorted(
            loan_id
            for chunk in _chunks(refs)
            for (loan_id,) in db.rows(
                f"SELECT id FROM loan WHERE reference IN ({db.placeholders(len(chunk))})", chunk
            )
        )
        # in id order across every chunk, so two imports sharing loans never wait on each other in a cycle
        for chunk in _chunks(loan_ids):
            db.rows(
                f"SELECT id FROM loan WHERE id IN ({db.placeholders(len(chunk))}) "
                "ORDER BY id FOR UPDATE",
                chunk,
            )
    # idempotent by content: the same bytes again change nothing, even after a later restatement
    earlier = db.rows(
        f"SELECT id FROM submission WHERE sha256 = {db.marker} AND status = 'accepted' "
        "ORDER BY id LIMIT 1",
        (digest,),
    )
    if earlier:
        result.duplicate_of = earlier[0][0]
        result.unchanged = accepted.height
        return result
    plan = plan_changes(db, accepted, ids)
    result.plan = plan
    result.inserted = plan.count("insert")
    result.restated = plan.count("restate")
    result.unchanged = plan.count("unchanged")
    if not dry_run and not confirmed and result.needs_confirmation:
        result.dry_run = True
        result.unconfirmed = True
        return result
    if dry_run or result.nothing_changed:
        return result

    when = recorded_at or utcnow()
    submission = {
        "borrower_id": borrower_id,
        "user_id": user_id,
        "uploaded_by": uploaded_by,
        "source": source,
        "filename": filename,
        "content": data,
        "sha256": digest,
        "size": len(data),
        "uploaded_at": db.timestamp(when),
        "status": "accepted",
        "rows_total": parsed.total_rows,
        "rows_accepted": accepted.height,
        "inserted": result.inserted,
        "restated": result.restated,
        "unchanged": result.unchanged,
        # an accepted file's warnings (skipped rows), capped as returned
        "errors": db.json(stored_issues(result.errors, result.more_errors)),
    }
    ((submission_id,),) = db.execute(
        f"INSERT INTO submission ({', '.join(submission)}) "
        f"VALUES ({db.placeholders(len(submission))}) RETURNING id",
        list(submission.values()),
    )
    result.submission_id = submission_id

    new = plan.frame.filter(pl.col("kind") != "unchanged")
    retire = new["old_id"].drop_nulls().to_list()
    # retire first: the partial unique index allows one current version per loan indicator and year
    for chunk in _chunks(retire):
        db.execute(
            f"UPDATE measurement SET is_current = {db.marker} "
            f"WHERE id IN ({db.placeholders(len(chunk))})",
            [False, *chunk],
        )
    if retire and not isinstance(session, Driver):
        _expire_retired(session, retire)
    # one driver-level executemany over whole columns: no Python object or dict per row
    now = utcnow()
    columns: dict[str, Any] = {
        "loan_indicator_id": new["li"].to_list(),
        "group_name": new["group"].to_list(),
        "year": new["year"].to_list(),
        "value": [db.decimal(Decimal(value)) for value in new["value"]],
        "estimated": new["estimated"].to_list(),
        "comment": new.select(pl.coalesce("comment", "old_comment")).to_series().to_list(),
        "version": new.select(pl.col("old_version").fill_null(0) + 1).to_series().to_list(),
        "n": new["n"].to_list(),
        "std_error": [None if se is None else db.decimal(Decimal(se)) for se in new["std_error"]],
    }
    constants = {
        "is_current": True,
        "source": source,
        "submission_id": submission_id,
        "recorded_by": uploaded_by,
        "recorded_at": db.timestamp(when),
        # issue 17: the time of writing, whatever the file claims; restatements go by this
        "written_at": db.timestamp(now),
        "history": history,
    }
    db.executemany(
        f"INSERT INTO measurement ({', '.join([*columns, *constants])}) "
        f"VALUES ({db.placeholders(len(columns) + len(constants))})",
        zip(*columns.values(), *(repeat(value) for value in constants.values()), strict=False),
    )
    audit = {
        "at": db.timestamp(now),
        "actor": uploaded_by or "system",
        "action": "measurements.import",
        "entity": "submission",
        "entity_id": str(submission_id),
        "before": db.json(None),
        "after": db.json(
            {
                "file": filename,
                "sha256": digest,
                "inserted": result.inserted,
                "restated": result.restated,
            }
        ),
        "detail": "",
    }
    db.execute(
        f"INSERT INTO audit_event ({', '.join(audit)}) VALUES ({db.placeholders(len(audit))})",
        list(audit.values()),
    )
    return result


def _expire_retired(session: Session, retired: list[int]) -> None:
    """Versions the session already holds that this import retired: read again when next used."""
    from lanportfolj.models import Measurement

    ids = set(retired)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Measurement) and obj.id in ids:
            session.expire(obj, ["is_current"])
