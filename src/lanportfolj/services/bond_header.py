"""The report header an analyst records on a bond: issuer name and LEI, framework version, external
reviewer and the scope of its statement (issue 16 item 7). Each change is audited."""

from __future__ import annotations

from typing import Final

from sqlmodel import Session, select

from lanportfolj.domain.lei import lei_problem
from lanportfolj.models import SocialBond
from lanportfolj.services import audit

#: field → longest value
FIELDS: Final[dict[str, int]] = {
    "issuer_name": 200,
    "issuer_lei": 20,
    "framework_version": 40,
    "reviewer": 200,
    "review_scope": 1000,
}


class HeaderError(ValueError):
    """A header value refused, naming the field."""


def record(session: Session, isin: str, changes: dict[str, str], *, actor: str) -> dict[str, str]:
    """Set ``changes`` on the bond ``isin`` (the caller commits) and return its whole header."""
    bond = session.exec(select(SocialBond).where(SocialBond.isin == isin.strip().upper())).first()
    if bond is None:
        raise HeaderError(f"isin: there is no bond {isin!r}")
    problems = []
    cleaned = {}
    for field, value in changes.items():
        if field not in FIELDS:
            problems.append(f"{field}: not a header field")
            continue
        text = " ".join(value.split())
        if len(text) > FIELDS[field]:
            problems.append(f"{field}: at most {FIELDS[field]} characters, not {len(text)}")
        if field == "issuer_lei" and text and (problem := lei_problem(text)) is not None:
            problems.append(f"issuer_lei: {problem}")
        cleaned[field] = text
    if problems:
        raise HeaderError("; ".join(problems))
    before = {field: getattr(bond, field) or "" for field in FIELDS}
    for field, text in cleaned.items():
        setattr(bond, field, text)
    session.add(bond)
    session.flush()
    after = {field: getattr(bond, field) or "" for field in FIELDS}
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="bond.header",
            entity="social_bond",
            entity_id=bond.isin,
            before=before,
            after=after,
        )
    return after
