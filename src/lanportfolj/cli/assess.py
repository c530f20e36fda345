"""``lanportfolj assess LOAN`` and the application steps ``loans submit|review|decide|judge|status``.

``assess`` runs the eligibility check over the loan as stored, keeps the run (with its rule-set version) and
prints every criterion with its reason, and the discount the loan gets.
"""

from __future__ import annotations

from datetime import date

import typer

from lanportfolj.cli import app
from lanportfolj.cli.common import console, fail, migrated_engine, print_json, print_table, state
from lanportfolj.cli.portfolio import loans_app

# the services (SQLAlchemy, the models) are imported inside each command: this module is loaded with
# ``loans`` (it adds submit, judge, decide, ...), and ``loans list`` must not pay for them (issue 15)

LANG_OPTION = typer.Option("en", "--lang", help="Language of the reasons: sv or en.")


def _as_of(value: str | None) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of must be a date (YYYY-MM-DD), not '{value}'.")


@app.command("assess")
def assess(
    ctx: typer.Context,
    reference: str = typer.Argument(
        ..., metavar="LOAN", help="The loan's reference, e.g. SH-2023-001."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: str = LANG_OPTION,
    as_of: str | None = typer.Option(None, "--as-of", help="Day the savings are counted from."),
    actor: str = typer.Option("cli", "--actor", help="Who runs the check (kept with the run)."),
) -> None:
    """Check a loan against the eligibility rules E1–E12 and show the discount."""
    from lanportfolj.db import session_scope
    from lanportfolj.services import applications as apps
    from lanportfolj.services.loans import get_loan

    if lang not in ("sv", "en"):
        fail("--lang must be sv or en.", code=2)
    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    day = _as_of(as_of)
    with session_scope(engine) as session:
        loan = get_loan(session, reference)
        if loan is None:
            fail(f"No loan {reference}." if lang == "en" else f"Lånet {reference} finns inte.")
        _, result = apps.run_assessment(session=session, loan=loan, actor=actor)
        summary = apps.assessment_summary(
            session=session, loan=loan, settings=settings, as_of=day, lang=lang, result=result
        )
        terms = apps.discount_for(session=session, loan=loan, settings=settings, as_of=day)
    if as_json:
        print_json(summary)
        return
    print_table(
        f"{summary['loan']}: {summary['overall']} (rule set {summary['rule_set']})",
        ["id", "criterion", "result", "reason"],
        (
            [
                c["id"],
                c["title"],
                c["result"] + (" (advisory)" if c["advisory"] else ""),
                c["reason"],
            ]
            for c in summary["criteria"]
        ),
    )
    console.print(terms.reason(lang), highlight=False)


def _step(ctx: typer.Context, reference: str, to: str, actor: str, reason: str, lang: str) -> None:
    from lanportfolj.db import session_scope
    from lanportfolj.services import applications as apps
    from lanportfolj.services.loans import get_loan

    engine = migrated_engine(ctx)
    try:
        with session_scope(engine) as session:
            loan = get_loan(session, reference)
            if loan is None:
                fail(f"No loan {reference}.")
            before = loan.status
            apps.transition(session=session, loan=loan, to=to, actor=actor, reason=reason)
    except apps.ApplicationError as exc:
        fail(exc.message(lang))
    console.print(f"{reference}: {before} → {to}", highlight=False)


ACTOR = typer.Option(..., "--actor", help="Who takes the step (kept in the audit trail).")
REASON = typer.Option("", "--reason", help="Why (required to reject or send back).")


@loans_app.command("submit")
def submit(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN"),
    actor: str = ACTOR,
    lang: str = LANG_OPTION,
) -> None:
    """Submit a draft application for review."""
    _step(ctx, reference, "submitted", actor, "", lang)


@loans_app.command("review")
def review(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN"),
    actor: str = ACTOR,
    lang: str = LANG_OPTION,
) -> None:
    """Start the review of a submitted application."""
    _step(ctx, reference, "under_review", actor, "", lang)


@loans_app.command("status")
def set_status(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN"),
    to: str = typer.Argument(..., help="approved, rejected, draft, active or repaid."),
    actor: str = ACTOR,
    reason: str = REASON,
    lang: str = LANG_OPTION,
) -> None:
    """Move a loan to its next status (approval needs both decisions and an eligible assessment)."""
    _step(ctx, reference, to, actor, reason, lang)


@loans_app.command("judge")
def judge(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN"),
    criterion: str = typer.Argument(..., help="E9, E10 or E11."),
    result: str = typer.Argument(..., help="pass or fail."),
    rationale: str = typer.Option(..., "--rationale", help="Why; the borrower sees it."),
    actor: str = ACTOR,
    lang: str = LANG_OPTION,
) -> None:
    """Record an analyst's judgement of E9–E11."""
    from lanportfolj.db import session_scope
    from lanportfolj.services import applications as apps
    from lanportfolj.services.loans import get_loan

    engine = migrated_engine(ctx)
    try:
        with session_scope(engine) as session:
            loan = get_loan(session, reference)
            if loan is None:
                fail(f"No loan {reference}.")
            apps.record_judgement(
                session=session,
                loan=loan,
                criterion_id=criterion.upper(),
                result=result,
                rationale=rationale,
                actor=actor,
            )
    except apps.ApplicationError as exc:
        fail(exc.message(lang))
    console.print(f"{reference}: {criterion.upper()} judged {result}", highlight=False)


@loans_app.command("decide")
def decide(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN"),
    kind: str = typer.Argument(..., help="committee or credit."),
    outcome: str = typer.Argument(..., help="approved or rejected."),
    rationale: str = typer.Option(..., "--rationale", help="Why; kept with the decision."),
    actor: str = ACTOR,
    lang: str = LANG_OPTION,
) -> None:
    """Record the committee's or the credit decision; the discount follows both approvals."""
    from lanportfolj.db import session_scope
    from lanportfolj.services import applications as apps
    from lanportfolj.services.loans import get_loan

    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    try:
        with session_scope(engine) as session:
            loan = get_loan(session, reference)
            if loan is None:
                fail(f"No loan {reference}.")
            apps.record_decision(
                session=session,
                loan=loan,
                kind=kind,
                outcome=outcome,
                rationale=rationale,
                actor=actor,
                settings=settings,
            )
            discount = loan.discount_bp
    except apps.ApplicationError as exc:
        fail(exc.message(lang))
    console.print(
        f"{reference}: {kind} {outcome}; discount {discount.normalize()} bp", highlight=False
    )
