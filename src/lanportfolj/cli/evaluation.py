"""``lanportfolj power``: what a planned evaluation can detect, or the sample it needs.

A thin command over ``domain.power.power_summary``: a sentence in Swedish or English, or JSON with
every input and the result. Impossible values (a base rate of 1.5, power below alpha) are rejected
with exit code 1 and the message in both languages; contradictory options are usage errors (2).
"""

from __future__ import annotations

from enum import StrEnum

import typer

from lanportfolj.cli import app
from lanportfolj.cli.common import EXIT_USAGE, fail, print_json, state
from lanportfolj.domain.power import design_effect, power_summary


class Outcome(StrEnum):
    """The kind of outcome measured per participant."""

    binary = "binary"
    continuous = "continuous"


class Lang(StrEnum):
    sv = "sv"
    en = "en"


def _usage(sv: str, en: str) -> None:
    fail(f"{sv} / {en}", code=EXIT_USAGE)


def _loan_power(
    ctx: typer.Context, reference: str, *, alpha: float, power: float, lang: str, as_json: bool
) -> None:
    """The minimum detectable effect of each Kolada-mapped outcome indicator of a loan."""
    from sqlmodel import Session

    from lanportfolj.cli.common import migrated_engine
    from lanportfolj.services.evaluation import LoanNotFound, mde_panel

    engine = migrated_engine(ctx)
    try:
        with Session(engine) as session:
            panel = mde_panel(session, loan_ref=reference, lang=lang, alpha=alpha, power=power)
    except LoanNotFound as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json({k: v for k, v in panel.items() if k != "labels"})
        return
    typer.echo(f"{panel['loan_ref']} · {panel['title']}")
    if not panel["items"]:
        typer.echo(
            "Lånet har ingen utfallsindikator med en Kolada-koppling."
            if lang == "sv"
            else "The loan has no outcome indicator mapped to Kolada."
        )
    for item in panel["items"]:
        typer.echo(f"- {item['name']} ({item['code']}): {item['message']}")
        for note in item["notes"]:
            typer.echo(f"  {note['message']}")
    if panel["available"]:
        typer.echo(("Källa: " if lang == "sv" else "Source: ") + panel["source"])


@app.command("power")
def power(
    ctx: typer.Context,
    outcome: Outcome | None = typer.Option(
        None, "--outcome", help="binary (a share, e.g. placements) or continuous (e.g. grades)."
    ),
    loan: str | None = typer.Option(
        None,
        "--loan",
        help="A loan reference: the smallest effect a DiD against similar municipalities could "
        "detect for each Kolada-mapped outcome indicator, from their official history.",
    ),
    base_rate: float | None = typer.Option(
        None, "--base-rate", help="Binary: the outcome's share without the intervention (0.05)."
    ),
    sd: float | None = typer.Option(
        None, "--sd", help="Continuous: the outcome's standard deviation within a group."
    ),
    n_per_arm: int | None = typer.Option(
        None, "--n-per-arm", help="Participants per group: gives the minimum detectable effect."
    ),
    effect: float | None = typer.Option(
        None,
        "--effect",
        help="The effect to detect (binary: change in share, -0.02; continuous: difference in "
        "means): gives the sample size per group instead.",
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level."),
    power_: float = typer.Option(0.8, "--power", help="Power (chance to detect a real effect)."),
    one_sided: bool = typer.Option(False, "--one-sided", help="A one-sided test."),
    icc: float | None = typer.Option(
        None, "--icc", help="Intra-cluster correlation, for interventions given to whole clusters."
    ),
    cluster_size: float | None = typer.Option(
        None, "--cluster-size", help="Participants per cluster (school class, district)."
    ),
    lang: Lang | None = typer.Option(
        None, "--lang", help="Language of the sentence (default: the settings' language)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Every input and the result as JSON."),
) -> None:
    """Minimum detectable effect for a planned sample, or the sample needed for an effect; with
    --loan, the minimum detectable effect on the loan's official (Kolada) figures."""
    language = lang.value if lang else state(ctx).settings.default_language
    if loan is not None:
        if outcome is not None or any(
            v is not None for v in (base_rate, sd, n_per_arm, effect, icc, cluster_size)
        ):
            _usage(
                "--loan anges ensamt (med --alpha, --power, --lang, --json)",
                "--loan goes alone (with --alpha, --power, --lang, --json)",
            )
        _loan_power(ctx, loan, alpha=alpha, power=power_, lang=language, as_json=as_json)
        return
    if outcome is None:
        _usage("Ange --outcome eller --loan", "Give --outcome or --loan")
    if outcome is Outcome.binary and (base_rate is None or sd is not None):
        _usage(
            "Ett binärt utfall kräver --base-rate (och inget --sd)",
            "A binary outcome needs --base-rate (and no --sd)",
        )
    if outcome is Outcome.continuous and (sd is None or base_rate is not None):
        _usage(
            "Ett kontinuerligt utfall kräver --sd (och ingen --base-rate)",
            "A continuous outcome needs --sd (and no --base-rate)",
        )
    if (n_per_arm is None) == (effect is None):
        _usage(
            "Ange antingen --n-per-arm eller --effect",
            "Give either --n-per-arm or --effect",
        )
    if (icc is None) != (cluster_size is None):
        _usage(
            "--icc och --cluster-size anges tillsammans",
            "--icc and --cluster-size go together",
        )
    try:
        de = (
            design_effect(icc=icc, cluster_size=cluster_size)
            if icc is not None and cluster_size is not None
            else 1.0
        )
        result = power_summary(
            base_rate=base_rate,
            sd=sd,
            n_per_arm=n_per_arm,
            effect=effect,
            alpha=alpha,
            power=power_,
            two_sided=not one_sided,
            design_effect=de,
        )
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "inputs": {
                    "outcome": outcome.value if outcome else None,
                    "base_rate": base_rate,
                    "sd": sd,
                    "n_per_arm": n_per_arm,
                    "effect": effect,
                    "alpha": alpha,
                    "power": power_,
                    "two_sided": not one_sided,
                    "icc": icc,
                    "cluster_size": cluster_size,
                },
                "result": result.to_dict(),
            }
        )
        return
    typer.echo(result.message_sv if language == "sv" else result.message_en)
