"""The loan list's filters (start page and its exports): read from the query, kept in links.

Status, programme category, borrower, discount at risk and the yearly report's state. What a filter
does not apply to is dropped: a borrower user only sees their own organisation (no borrower filter, no
discount flag, which is the lender's follow-up); an investor's list has search only (no statuses).
A value the list does not know (a stale bookmark, a hand-edited address) is ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from lanportfolj.domain.categories import LOAN_STATUSES, PROGRAMME_CATEGORIES
from lanportfolj.web.params import row_id_or_none

#: The "yearly report" filter's choices: not yet in (deadline ahead), past its deadline.
REPORT_STATES = ("due", "overdue")


@dataclass(frozen=True)
class LoanFilters:
    """The list's filters as the page shows them ("" when not set)."""

    q: str = ""
    status: str = ""
    category: str = ""
    borrower: str = ""
    at_risk: str = ""
    report: str = ""

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (the empty list then says "no match", not "no loans")."""
        return any(asdict(self).values())

    def query(self, **extra: Any) -> str:
        """The filters (and ``extra``) as a query string for links: exports, pages, sort."""
        pairs = {k: v for k, v in asdict(self).items() if v} | {
            k: v for k, v in extra.items() if v not in ("", None)
        }
        return urlencode(pairs)

    def key(self) -> tuple[str, ...]:
        return tuple(asdict(self).values())


def read_filters(
    *,
    role: str,
    is_staff: bool,
    q: str = "",
    status: str = "",
    category: str = "",
    borrower: str = "",
    at_risk: str = "",
    report: str = "",
) -> LoanFilters:
    """The filters that apply for this kind of user, unknown values dropped."""
    q = q.strip()
    if role == "investor" and not is_staff:
        return LoanFilters(q=q)
    borrower_id = row_id_or_none(borrower) if is_staff else None
    return LoanFilters(
        q=q,
        status=status if status in LOAN_STATUSES else "",
        category=category if category in PROGRAMME_CATEGORIES else "",
        borrower=str(borrower_id) if borrower_id is not None else "",
        at_risk="1" if is_staff and at_risk == "1" else "",
        report=report if report in REPORT_STATES else "",
    )


def list_arguments(
    filters: LoanFilters,
    scope: dict[str, Any],
    *,
    at_risk: Collection[str] = (),
    report_states: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``list_loans``/``loan_totals`` keyword arguments for the user's scope narrowed by ``filters``.

    ``at_risk`` (the discount-at-risk references) and ``report_states`` (state per active loan) are
    needed only when those filters are set."""
    args: dict[str, Any] = dict(scope)
    if filters.q:
        args["search"] = filters.q
    if filters.status:
        args["statuses"] = (filters.status,)
    if filters.category:
        args["category"] = filters.category
    if filters.borrower:
        args["borrower_id"] = int(filters.borrower)
    references: set[str] | None = None
    if scope.get("references") is not None:
        references = set(scope["references"])
    if filters.at_risk:
        references = set(at_risk) if references is None else references & set(at_risk)
    if filters.report:
        chosen = {ref for ref, state in (report_states or {}).items() if state == filters.report}
        references = chosen if references is None else references & chosen
    if references is not None:
        args["references"] = references
    return args
