"""The case form's typed values and problems, kept for the page the save redirects to.

Saving a draft stores what can be used; what cannot is kept here with its problem so that the edit page
(reached by a redirect, so reloading it never saves again) shows every typed value and message. One kept
form per loan and user; a clean save or deleting the draft removes them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, select

from lanportfolj.models import FormDraft
from lanportfolj.services.applications import FieldError


def keep(
    session: Session, *, loan_id: int, user_id: int, typed: dict[str, Any], errors: list[FieldError]
) -> int:
    """Keep ``typed`` and ``errors`` for ``user_id``'s next look at loan ``loan_id``'s form; its id."""
    clear(session, loan_id=loan_id, user_id=user_id)
    row = FormDraft(
        loan_id=loan_id,
        user_id=user_id,
        typed=typed,
        errors=[e.to_dict() for e in errors],
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def kept(
    session: Session, *, draft_id: int, loan_id: int, user_id: int
) -> tuple[dict[str, Any], list[FieldError]] | None:
    """The kept form ``draft_id`` when it is this user's, for this loan; None otherwise."""
    row = session.get(FormDraft, draft_id)
    if row is None or row.loan_id != loan_id or row.user_id != user_id:
        return None
    errors = [FieldError(e["field"], e["message_sv"], e["message_en"]) for e in row.errors]
    return dict(row.typed), errors


def clear(session: Session, *, loan_id: int, user_id: int | None = None) -> None:
    """Forget the kept forms of a loan (of one user, when given)."""
    stmt = delete(FormDraft).where(col(FormDraft.loan_id) == loan_id)
    if user_id is not None:
        stmt = stmt.where(col(FormDraft.user_id) == user_id)
    session.exec(stmt)  # type: ignore[call-overload]


def count(session: Session, loan_id: int) -> int:
    """How many forms are kept for the loan (tests and clean-up checks)."""
    return len(session.exec(select(FormDraft.id).where(FormDraft.loan_id == loan_id)).all())
