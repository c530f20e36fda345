"""The audit trail: every change that matters is written here in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lanportfolj.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to ``session``; it commits (or rolls back) with the change it describes."""
    event = AuditEvent(
        actor=actor or "system",
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        detail=detail,
    )
    session.add(event)
    return event
