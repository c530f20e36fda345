"""Borrowers' yearly reporting on the web and in the API: templates, upload → preview → confirm, the
submissions with their original files, and ``POST /api/imports``.

- A borrower user works only with their organisation's loans (another organisation's loan or submission is
  404); analysts and admins with every loan. Investors may not use these routes.
- The preview is a dry run and writes nothing. The uploaded bytes wait server-side
  (``services.pending_uploads``: a private 0700 folder per user under the data directory, each file 0600
  under a random name): the confirm button then stores exactly the bytes that were previewed (their
  SHA-256 is checked again) without asking the user to pick the file a second time (a browser cannot
  pre-fill a file field), and nobody else can confirm them. Confirming validates again, against the
  database as it is then, and stores everything in one transaction.
- File names are the user's text: stored sanitised (``domain.filenames``) and sent back through
  ``web.downloads.content_disposition`` (RFC 6266 / 5987), so any name downloads.
- Request bodies are limited before they are read (``request_max_body_size``); the import itself also
  refuses a file over ``settings.max_upload_bytes`` with a ``file-too-large`` issue.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain.filenames import safe_filename
from lanportfolj.ingest.issues import column_label
from lanportfolj.models import (
    Borrower,
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
    Submission,
)
from lanportfolj.services import pending_uploads
from lanportfolj.services.loans import list_loans
from lanportfolj.services.measurements import ImportResult, import_file
from lanportfolj.services.reporting_templates import (
    MEDIA_TYPES,
    LoanNotFound,
    template_bytes,
    template_filename,
)
from lanportfolj.web.access import CurrentUser, allow, require_loan_access
from lanportfolj.web.auth import flash
from lanportfolj.web.downloads import attachment_headers
from lanportfolj.web.i18n import get_language
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.params import RowId

#: Who reports values: the lender's staff, and borrower users for their own loans.
AUDIENCE = allow("analyst", "admin", "borrower")
#: The request body limit: the default upload limit plus room for the multipart framing and form fields.
#: Litestar refuses a larger body (413) from its Content-Length, or as soon as the stream passes it.
UPLOAD_BODY_LIMIT = Settings().max_upload_bytes + 64 * 1024


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def borrower_scope(user: CurrentUser) -> int | None:
    """The borrower an upload is limited to: None (every loan) for staff, the user's own organisation
    for a borrower user. A borrower user without an organisation may not import at all."""
    if user.is_staff:
        return None
    if user.role == "borrower" and user.borrower_id is not None:
        return user.borrower_id
    raise PermissionDeniedException("Your account is not linked to a borrower.")


# --- what the pages show --------------------------------------------------------------------------


def _upload_of(data: dict[str, Any]) -> tuple[str, bytes] | None:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        return None
    return safe_filename(upload.filename or ""), upload.file.read()


def _run(
    db: Session,
    request: Request[Any, Any, Any],
    user: CurrentUser,
    *,
    filename: str,
    data: bytes,
    dry_run: bool,
    source: str,
    confirmed: bool = True,
) -> ImportResult:
    """One import or dry run, committed when stored and rolled back otherwise."""
    try:
        result = import_file(
            session=db,
            settings=_settings(request),
            filename=filename,
            data=data,
            uploaded_by=user.email,
            user_id=user.id,
            borrower_id=borrower_scope(user),
            dry_run=dry_run,
            source=source,
            confirmed=confirmed,
        )
        if result.dry_run or not result.accepted:
            db.rollback()
        else:
            db.commit()
        return result
    except BaseException:
        db.rollback()
        raise


def submissions_for(db: Session, user: CurrentUser, limit: int = 50) -> list[dict[str, Any]]:
    """The latest submissions ``user`` may see (without their bytes)."""
    stmt = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to four columns
            Submission.id,
            Submission.filename,
            Submission.uploaded_by,
            Submission.uploaded_at,
            Submission.rows_accepted,
            Submission.inserted,
            Submission.restated,
            Submission.source,
            Borrower.name,
        )
        .join(Borrower, col(Borrower.id) == col(Submission.borrower_id), isouter=True)
        .order_by(col(Submission.id).desc())
        .limit(limit)
    )
    if not user.is_staff:
        stmt = stmt.where(Submission.borrower_id == user.borrower_id)
    keys = (
        "id",
        "filename",
        "uploaded_by",
        "uploaded_at",
        "rows",
        "inserted",
        "restated",
        "source",
        "borrower",
    )
    return [dict(zip(keys, row, strict=True)) for row in db.exec(stmt).all()]


def _visible_submission(db: Session, user: CurrentUser, submission_id: int) -> Submission:
    submission = db.get(Submission, submission_id)
    if submission is None or not (
        user.is_staff
        or (
            user.role == "borrower"
            and user.borrower_id is not None
            and submission.borrower_id == user.borrower_id
        )
    ):
        raise NotFoundException("There is no such submission, or it is not yours to see.")
    return submission


def submission_rows(db: Session, submission_id: int, lang: str = "en") -> list[dict[str, Any]]:
    """The values a submission stored, each with the version it replaced (for restatements)."""
    stmt = (
        select(
            Measurement,
            Loan.reference,
            IndicatorDefinition.code,
            IndicatorDefinition.name_sv,
            IndicatorDefinition.name_en,
        )
        .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
        .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
        .join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
        .where(Measurement.submission_id == submission_id)
        .order_by(col(Loan.reference), col(IndicatorDefinition.code), col(Measurement.year))
    )
    out: list[dict[str, Any]] = []
    for m, reference, code, name_sv, name_en in db.exec(stmt).all():
        old = None
        if m.version > 1:
            old = db.exec(
                select(Measurement).where(
                    Measurement.loan_indicator_id == m.loan_indicator_id,
                    Measurement.group_name == m.group_name,
                    Measurement.year == m.year,
                    Measurement.version == m.version - 1,
                )
            ).first()
        out.append(
            {
                "loan": reference,
                "indicator": code,
                # what the borrower reads: the name in the page's language (the code without one)
                "indicator_name": (name_sv if lang == "sv" else name_en) or code,
                "year": m.year,
                "group": m.group_name,
                "value": m.value,
                "estimated": m.estimated,
                "version": m.version,
                "current": m.is_current,
                "old_value": old.value if old else None,
                "old_recorded_by": old.recorded_by if old else None,
                "old_recorded_at": old.recorded_at if old else None,
            }
        )
    return out


# --- pages ----------------------------------------------------------------------------------------


@get("/imports", opt=AUDIENCE, sync_to_thread=True, include_in_schema=False)
def imports_page(db: Session, user: CurrentUser) -> Template:
    """The upload form, the templates of the loans the user reports for, and recent submissions."""
    scope = borrower_scope(user)
    loans = list_loans(db) if scope is None else list_loans(db, borrower_id=scope)
    return Template(
        "imports/upload.html",
        context={"loans": loans, "submissions": submissions_for(db, user)},
    )


@post(
    "/imports",
    opt=AUDIENCE,
    sync_to_thread=True,
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
    status_code=HTTP_200_OK,
)
def upload(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """Check the uploaded file and show what it would change (nothing is stored yet)."""
    got = _upload_of(data)
    if got is None:
        flash(request, _("Choose a file to upload."), "error")
        return Template(
            "imports/upload.html",
            context={"loans": [], "submissions": submissions_for(db, user)},
            status_code=400,
        )
    filename, content = got
    result = _run(db, request, user, filename=filename, data=content, dry_run=True, source="web")
    waiting = result.accepted and not result.nothing_changed
    key = pending_uploads.keep(_settings(request), user.id, content) if waiting else ""
    return Template(
        "imports/preview.html",
        context={
            "result": result.to_dict(get_language(), with_changes=True),
            "digest": result.sha256 if waiting else "",
            "upload_key": key,
        },
        status_code=HTTP_200_OK if result.accepted else HTTP_422_UNPROCESSABLE_ENTITY,
    )


@post("/imports/confirm", opt=AUDIENCE, sync_to_thread=True, include_in_schema=False)
def confirm(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Store the previewed file in one transaction, then show the submission."""
    digest = str(data.get("sha256", ""))
    key = str(data.get("upload", ""))
    filename = safe_filename(str(data.get("filename", "")))
    settings = _settings(request)
    content = pending_uploads.read(settings, user.id, key, digest)
    if content is None:
        flash(request, _("The previewed file is no longer here. Upload it again."), "error")
        return Redirect("/imports")
    checked = str(data.get("values_checked", "")) == "yes"
    result = _run(
        db,
        request,
        user,
        filename=filename,
        data=content,
        dry_run=False,
        source="web",
        confirmed=checked,
    )
    if result.unconfirmed:
        # a value far off last year's: stored only once the box under the warnings is ticked
        flash(request, _("Check the values marked below and tick the box to store them."), "error")
        return Template(
            "imports/preview.html",
            context={
                "result": result.to_dict(get_language(), with_changes=True),
                "digest": digest,
                "upload_key": key,
            },
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if not result.accepted:
        # the database changed since the preview (a loan or indicator was removed): show why
        return Template(
            "imports/preview.html",
            context={
                "result": result.to_dict(get_language(), with_changes=True),
                "digest": "",
                "upload_key": "",
            },
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    pending_uploads.drop(settings, user.id, key)
    if result.duplicate_of is not None:
        flash(
            request,
            _(
                "This file was already imported (submission %(id)s); nothing changed.",
                id=result.duplicate_of,
            ),
        )
        return Redirect(f"/imports/{result.duplicate_of}")
    if result.submission_id is None:
        flash(request, _("Every value in the file is already stored; nothing changed."))
        return Redirect("/imports")
    flash(
        request,
        _(
            "Stored: %(inserted)s new, %(restated)s restated, %(unchanged)s unchanged.",
            inserted=result.inserted,
            restated=result.restated,
            unchanged=result.unchanged,
        ),
    )
    return Redirect(f"/imports/{result.submission_id}")


@get("/imports/{submission_id:int}", opt=AUDIENCE, sync_to_thread=True, include_in_schema=False)
def submission_page(db: Session, user: CurrentUser, submission_id: RowId) -> Template:
    """One submission: who uploaded what and when, and every value it stored or restated."""
    submission = _visible_submission(db, user, submission_id)
    borrower = db.get(Borrower, submission.borrower_id) if submission.borrower_id else None
    meta = {
        "id": submission.id,
        "filename": submission.filename,
        "sha256": submission.sha256,
        "size": submission.size,
        "uploaded_by": submission.uploaded_by,
        "uploaded_at": submission.uploaded_at,
        "source": submission.source,
        "rows_total": submission.rows_total,
        "inserted": submission.inserted,
        "restated": submission.restated,
        "unchanged": submission.unchanged,
        "borrower": borrower.name if borrower else None,
    }
    notes, more = stored_notes(submission.errors or [], get_language())
    return Template(
        "imports/detail.html",
        context={
            "submission": meta,
            "rows": submission_rows(db, submission_id, get_language()),
            "notes": notes,
            "more_notes": more,
        },
    )


def stored_notes(
    stored: list[dict[str, Any]], lang: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The warnings kept with a submission (skipped rows), in ``lang``, and the "… and N more" line."""
    key = "message_sv" if lang == "sv" else "message_en"
    notes = [
        {
            "row": entry.get("row"),
            "column": column_label(entry.get("column"), lang),
            "message": entry.get(key, ""),
        }
        for entry in stored
        if entry.get("code") != "more-issues"
    ]
    more = next((entry.get(key) for entry in stored if entry.get("code") == "more-issues"), None)
    return notes, more


@get(
    "/imports/{submission_id:int}/file", opt=AUDIENCE, sync_to_thread=True, include_in_schema=False
)
def submission_file(db: Session, user: CurrentUser, submission_id: RowId) -> Response[bytes]:
    """The original bytes of a submission, exactly as uploaded."""
    submission = _visible_submission(db, user, submission_id)
    return Response(
        content=submission.content,
        media_type="application/octet-stream",
        headers=attachment_headers(submission.filename),
    )


def _template_response(db: Session, user: CurrentUser, reference: str, fmt: str) -> Response[bytes]:
    require_loan_access(db, user, reference)
    lang = get_language()
    try:
        content = template_bytes(db, reference, fmt=fmt, lang=lang)
    except LoanNotFound as exc:
        raise NotFoundException(f"No loan {reference}.") from exc
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers=attachment_headers(template_filename(reference, fmt, lang)),
    )


@get(
    "/loans/{reference:str}/template.xlsx",
    opt=AUDIENCE,
    sync_to_thread=True,
    include_in_schema=False,
)
def template_xlsx(db: Session, user: CurrentUser, reference: str) -> Response[bytes]:
    """The loan's yearly reporting template as XLSX (headers and names in the page's language)."""
    return _template_response(db, user, reference, "xlsx")


@get(
    "/loans/{reference:str}/template.csv",
    opt=AUDIENCE,
    sync_to_thread=True,
    include_in_schema=False,
)
def template_csv(db: Session, user: CurrentUser, reference: str) -> Response[bytes]:
    """The template as CSV: Swedish with ``;`` and decimal comma, English with ``,`` and point."""
    return _template_response(db, user, reference, "csv")


# --- API ------------------------------------------------------------------------------------------


@post(
    "/api/imports",
    opt=AUDIENCE,
    sync_to_thread=True,
    tags=["imports"],
    request_max_body_size=UPLOAD_BODY_LIMIT,
    status_code=HTTP_200_OK,
)
def api_import(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[dict[str, Any]]:
    """Import a CSV, XLSX, XLS or ODS file (multipart field ``file``; ``dry_run=true`` only checks).

    200 with the summary (``accepted``, ``rows``, ``inserted``, ``restated``, ``unchanged``, ``changes``)
    when accepted; 422 with every problem in ``errors`` (row, column, code, value, message) when not.
    Messages are in the language of ``?lang=`` (Swedish by default).
    """
    got = _upload_of(data)
    lang = get_language()
    if got is None:
        body = {
            "accepted": False,
            "rows": 0,
            "inserted": 0,
            "restated": 0,
            "unchanged": 0,
            "errors": [
                {
                    "row": None,
                    "column": "file",
                    "code": "missing-file",
                    "value": None,
                    "message": "Skicka filen i fältet 'file'."
                    if lang == "sv"
                    else "Send the file in the field 'file'.",
                }
            ],
        }
        return Response(body, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    dry_run = str(data.get("dry_run", "")).strip().lower() in ("1", "true", "yes", "on")
    filename, content = got
    result = _run(db, request, user, filename=filename, data=content, dry_run=dry_run, source="api")
    return Response(
        result.to_dict(lang, with_changes=True),
        status_code=HTTP_200_OK if result.accepted else HTTP_422_UNPROCESSABLE_ENTITY,
    )


ROUTES = [
    imports_page,
    upload,
    confirm,
    submission_page,
    submission_file,
    template_xlsx,
    template_csv,
    api_import,
]
