"""The social bond's allocation: which loans back the bond, in the bond's currency, and how much is left.

Pure: polars frames and plain dataclasses in, polars frames and plain dataclasses out.

Exactness rules (the report's methodology section states them too):

* money is ``Decimal`` with 2 decimals (``pl.Decimal(38, 2)``), in SEK as stored and in the bond's
  currency after conversion; each loan is converted on its own, ``round_half_even(sek / sek_per_unit, 2)``,
  and every total is the sum of the converted loans, so the per-loan rows always add up to the totals;
* shares (a project's attribution share, the bond's share of the pool, financing shares) have 8 decimals;
* every rounding is a single round-half-even step from the exact quotient or product: polars 2.x rounds
  decimal division and multiplication correctly at the result scale, and the operands are scaled so
  that no intermediate rounding happens first.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import polars as pl

from lanportfolj.domain.programme import exact_shares, round_down, round_half_even
from lanportfolj.reporting.display import number as shown_number

MONEY_SCALE: Final = 2
SHARE_SCALE: Final = 8
FX_MAX_SCALE: Final = 6
MONEY: Final = pl.Decimal(38, MONEY_SCALE)
SHARE: Final = pl.Decimal(38, SHARE_SCALE)

#: Loan statuses that belong to the eligible pool (approved or disbursed, not repaid).
POOL_STATUSES: Final[tuple[str, ...]] = ("approved", "active")

FINANCING: Final = "financing"
REFINANCING: Final = "refinancing"

#: The loans frame a caller hands in; money columns in SEK.
LOAN_COLUMNS: Final[tuple[str, ...]] = (
    "reference",
    "borrower",
    "borrower_orgnr",
    "title",
    "programme_category",
    "icma_category",
    "sdgs",
    "currency",
    "amount",
    "disbursed_amount",
    "outstanding_amount",
    "total_project_cost",
    "disbursement_date",
    "maturity_date",
    "status",
    "eligible",
)


@dataclass(frozen=True)
class BondInfo:
    """The social bond the report is about."""

    isin: str
    name: str
    currency: str
    nominal_amount: Decimal
    issue_date: date
    maturity_date: date
    coupon_pct: Decimal | None
    framework_version: str


@dataclass(frozen=True)
class FxRate:
    """The rate used to convert SEK into the bond's currency: 1 unit of ``currency`` = ``sek_per_unit`` SEK.

    A SEK bond uses ``sek_per_unit = 1``.
    """

    currency: str
    sek_per_unit: Decimal
    as_of: date
    source: str


@dataclass(frozen=True)
class Message:
    """A flag a reader of the report must see, in both languages."""

    code: str
    message_sv: str
    message_en: str


@dataclass(frozen=True)
class Allocation:
    """The allocation figures: scalars in the bond's currency unless the name ends in ``_sek``."""

    nominal_amount: Decimal
    pool_outstanding_sek: Decimal
    pool_outstanding: Decimal
    pool_disbursed: Decimal
    other_bonds_nominal: Decimal
    allocated: Decimal
    unallocated: Decimal
    bond_share_of_pool: Decimal | None
    bond_share_capped: bool
    social_loan_ratio: Decimal | None
    financing_amount: Decimal
    refinancing_amount: Decimal
    loan_count: int
    borrower_count: int
    pool_smaller_than_bond: bool
    lookback_exceeded_count: int
    lookback_cutoff: date
    messages: tuple[Message, ...]
    #: one row per pool loan (see ``allocate`` for the columns)
    loans: pl.DataFrame
    #: one row per programme category
    by_category: pl.DataFrame
    #: one row per ICMA category
    by_icma_category: pl.DataFrame
    #: two rows: financing and refinancing
    financing: pl.DataFrame
    #: ``bond_share_of_pool`` as the exact fraction it is rounded from: attribution multiplies by it
    #: and rounds once at the end
    bond_share_exact: Fraction | None = None


def divide(numerator: Decimal, denominator: Decimal, scale: int) -> Decimal:
    """``numerator / denominator`` rounded half-even to ``scale`` decimals, from the exact quotient.

    ``Decimal`` division first rounds to the context's 28 digits; going through ``Fraction`` keeps the
    single rounding step that the frame arithmetic also has.
    """
    exact = Fraction(numerator) / Fraction(denominator) * 10**scale
    return Decimal(round(exact)).scaleb(-scale)


def _rounded(exact: Fraction, scale: int) -> Decimal:
    """An exact fraction rounded half-even to ``scale`` decimals (as ``divide``)."""
    return Decimal(round(exact * 10**scale)).scaleb(-scale)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier, clamped to the end of a shorter month."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def money(value: Decimal | int) -> Decimal:
    """``value`` as money with exactly two decimals (raises when that would lose digits)."""
    quantized = Decimal(value).quantize(Decimal(1).scaleb(-MONEY_SCALE))
    if quantized != value:
        raise ValueError(f"money must have at most {MONEY_SCALE} decimals: {value}")
    return quantized


def _total(frame: pl.DataFrame, column: str) -> Decimal:
    """The exact sum of a money column (0.00 for no rows)."""
    total = frame[column].sum() if frame.height else 0
    if not isinstance(total, Decimal | int):
        raise TypeError(f"{column} must be a decimal column, not {frame.schema[column]}")
    return money(total)


def decimal_div(
    numerator: pl.Expr, num_scale: int, denominator: pl.Expr, den_scale: int, out_scale: int
) -> pl.Expr:
    """``numerator / denominator`` rounded half-even to ``out_scale`` decimals in one step.

    polars divides decimals at the larger operand scale, correctly rounded; both operands are first
    multiplied by the same power of ten so that neither has more than ``out_scale`` decimals, then cast
    to ``out_scale`` (exact). A zero denominator gives null.
    """
    out = pl.Decimal(38, out_scale)
    num = numerator.cast(pl.Decimal(38, num_scale))
    den = denominator.cast(pl.Decimal(38, den_scale))
    shift = max(0, max(num_scale, den_scale) - out_scale)
    if shift:
        factor = pl.lit(Decimal(10**shift), dtype=pl.Decimal(38, 0))
        num, den = num * factor, den * factor
    den = den.cast(out)
    return num.cast(out) / pl.when(den != 0).then(den).otherwise(None)


def decimal_mul(
    left: pl.Expr, left_scale: int, right: pl.Expr, right_scale: int, out_scale: int
) -> pl.Expr:
    """``left × right`` rounded half-even to ``out_scale`` decimals from the exact product."""
    exact = pl.Decimal(38, left_scale + right_scale)
    return (left.cast(exact) * right.cast(exact)).round(out_scale).cast(pl.Decimal(38, out_scale))


def _fx_scale(fx: FxRate) -> int:
    """The number of decimals of the FX rate, checked."""
    rate = fx.sek_per_unit
    if rate <= 0:
        raise ValueError(f"FX rate must be positive: {rate}")
    exponent = rate.as_tuple().exponent
    assert isinstance(exponent, int)
    decimals = max(0, -exponent)
    if decimals > FX_MAX_SCALE:
        raise ValueError(f"FX rate has more than {FX_MAX_SCALE} decimals: {rate}")
    return decimals


def to_bond_currency(column: str, fx: FxRate) -> pl.Expr:
    """An expression converting the SEK money column ``column`` into the bond's currency (2 decimals)."""
    scale = _fx_scale(fx)
    rate = pl.lit(fx.sek_per_unit, dtype=pl.Decimal(38, scale))
    return decimal_div(pl.col(column), MONEY_SCALE, rate, scale, MONEY_SCALE)


def convert_amount(amount_sek: Decimal, fx: FxRate) -> Decimal:
    """One SEK amount in the bond's currency, by the same rule as ``to_bond_currency``."""
    return divide(amount_sek, fx.sek_per_unit, MONEY_SCALE)


def _share_expr(numerator: str, denominator: str) -> pl.Expr:
    """``min(1, numerator / denominator)`` at 8 decimals; null when the denominator is missing or 0."""
    ratio = decimal_div(
        pl.col(numerator), MONEY_SCALE, pl.col(denominator), MONEY_SCALE, SHARE_SCALE
    )
    return pl.when(ratio > 1).then(pl.lit(Decimal(1), dtype=SHARE)).otherwise(ratio)


def _by(loans: pl.DataFrame, key: str, pool_total: Decimal) -> pl.DataFrame:
    """Allocated amounts grouped by ``key``, with each group's share of the pool."""
    grouped = (
        loans.group_by(key)
        .agg(
            pl.len().cast(pl.Int64).alias("loan_count"),
            pl.col("borrower_orgnr").n_unique().cast(pl.Int64).alias("borrower_count"),
            pl.col("outstanding_sek").sum(),
            pl.col("outstanding").sum(),
            pl.col("disbursed").sum(),
        )
        .sort(key)
    )
    total = pl.lit(pool_total, dtype=SHARE)
    share = pl.col("outstanding").cast(SHARE) / (total if pool_total > 0 else pl.lit(None, SHARE))
    return grouped.with_columns(share_of_pool=share)


def _amount(value: Any, currency: str, lang: str) -> str:
    """An amount in a sentence, exact but readable: ``2 600 000 000 kr`` / ``SEK 2,600,000,000`` (öre or
    cents only when there are any). Warnings compare amounts, so they are not rounded to mnkr."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    text = shown_number(exact, 0 if exact == exact.to_integral_value() else 2, lang)
    if lang == "sv":
        return f"{text}\u00a0{'kr' if currency == 'SEK' else currency}"
    return f"{currency}\u00a0{text}"


def _project_cost_messages(pool: pl.DataFrame, currency: str) -> list[Message]:
    """Warnings about the project costs attribution divides by: a loan with none (named, with the
    amount it leaves out of the per-million base) and a cost below the loan amount (likely an error:
    the share is then capped at 1)."""
    messages: list[Message] = []
    missing = pool.filter(pl.col("total_project_cost_sek").is_null())
    if missing.height:
        left_out = _total(missing, "outstanding")
        rows = list(missing.select("reference", "outstanding").iter_rows())
        listed_sv = ", ".join(f"{ref} ({_amount(a, currency, 'sv')})" for ref, a in rows)
        listed_en = ", ".join(f"{ref} ({_amount(a, currency, 'en')})" for ref, a in rows)
        messages.append(
            Message(
                "total_project_cost_missing",
                f"{missing.height} lån saknar total projektkostnad: {listed_sv}. Deras effekter "
                f"tillskrivs inte, och {_amount(left_out, currency, 'sv')} utestående räknas inte "
                "in i basen för effekter per miljon.",
                f"{missing.height} loans lack a total project cost: {listed_en}. Their impact is "
                f"not attributed, and their {_amount(left_out, currency, 'en')} outstanding is left "
                "out of the base of the per-million figures.",
            )
        )
    below = pool.filter(pl.col("total_project_cost_sek") < pl.col("amount_sek"))
    if below.height:
        rows = list(below.select("reference", "total_project_cost_sek", "amount_sek").iter_rows())
        listed_sv = ", ".join(
            f"{ref} ({_amount(c, 'SEK', 'sv')} < {_amount(a, 'SEK', 'sv')})" for ref, c, a in rows
        )
        listed_en = ", ".join(
            f"{ref} ({_amount(c, 'SEK', 'en')} < {_amount(a, 'SEK', 'en')})" for ref, c, a in rows
        )
        messages.append(
            Message(
                "total_project_cost_below_loan",
                f"Total projektkostnad är lägre än lånebeloppet för {below.height} lån: "
                f"{listed_sv}. Troligen ett fel i uppgifterna; andelen av projektet är satt till 1.",
                f"The total project cost is below the loan amount for {below.height} loans: "
                f"{listed_en}. Likely a data error; the share of the project is capped at 1.",
            )
        )
    return messages


def _pool_columns(frame: pl.DataFrame, bond: BondInfo, fx: FxRate, cutoff: date) -> pl.DataFrame:
    """The allocation's per-loan columns (see ``allocate``) for loans ``frame``, sorted."""
    return (
        frame.with_columns(
            amount_sek=pl.col("amount").cast(MONEY),
            disbursed_sek=pl.col("disbursed_amount").cast(MONEY),
            outstanding_sek=pl.col("outstanding_amount").cast(MONEY),
            total_project_cost_sek=pl.col("total_project_cost").cast(MONEY),
        )
        .with_columns(
            disbursed=to_bond_currency("disbursed_sek", fx),
            outstanding=to_bond_currency("outstanding_sek", fx),
            project_share=_share_expr("outstanding_sek", "total_project_cost_sek"),
            funding=pl.when(pl.col("disbursement_date") >= bond.issue_date)
            .then(pl.lit(FINANCING))
            .otherwise(pl.lit(REFINANCING)),
            lookback_exceeded=pl.col("disbursement_date") < cutoff,
        )
        .drop("amount", "disbursed_amount", "outstanding_amount", "total_project_cost")
        .sort("reference")
    )


def left_loans(
    *,
    bond: BondInfo,
    fx: FxRate,
    loans: pl.DataFrame,
    left: dict[str, tuple[date, Decimal]],
    report_date: date,
    lookback_months: int = 24,
) -> pl.DataFrame:
    """The eligible loans that left the pool by ``report_date`` (``left``: reference → the day
    they left and their outstanding SEK as they left), with ``allocate``'s per-loan columns on that
    outstanding amount (so their project share is the one they had as they left) and ``last_year``,
    the year they left: their impact counts for the years up to it (issue 17 item 5)."""
    cutoff = months_before(bond.issue_date, lookback_months)
    refs = sorted(left)
    facts = pl.DataFrame(
        {
            "reference": refs,
            "_left_sek": [left[r][1] for r in refs],
            "last_year": [left[r][0].year for r in refs],
        },
        schema={"reference": pl.String, "_left_sek": MONEY, "last_year": pl.Int64},
    )
    chosen = loans.filter(
        pl.col("eligible").fill_null(False)
        & pl.col("disbursement_date").is_not_null()
        & (pl.col("disbursement_date") <= report_date)
    ).join(facts, on="reference", how="inner")
    return (
        chosen.with_columns(outstanding_amount=pl.col("_left_sek").cast(MONEY))
        .drop("_left_sek")
        .pipe(_pool_columns, bond, fx, cutoff)
    )


def allocate(
    *,
    bond: BondInfo,
    fx: FxRate,
    loans: pl.DataFrame,
    report_date: date,
    other_bonds_nominal_sek: Decimal = Decimal(0),
    all_loans_total_sek: Decimal | None = None,
    lookback_months: int = 24,
) -> Allocation:
    """Allocate the bond to its eligible pool at ``report_date``.

    The pool is the loans that are eligible, approved or active, and disbursed on or before the report
    date. Each loan's outstanding amount is converted to the bond's currency; a loan disbursed on or
    after the issue date is financing, earlier ones refinancing, and refinancing older than
    ``lookback_months`` before issue is flagged. Shares and allocation follow ``domain.programme``
    (SEK, outstanding): allocated = share × pool rounded down, with the shares of the bonds sharing the
    pool capped together at 100 %; unallocated = nominal − allocated (never negative).

    The returned ``loans`` frame has the input's descriptive columns plus ``amount_sek``,
    ``disbursed_sek``, ``outstanding_sek``, ``total_project_cost_sek`` (SEK), ``disbursed`` and
    ``outstanding`` (bond currency), ``project_share`` (outstanding ÷ total project cost, capped at 1),
    ``funding`` (``financing``/``refinancing``) and ``lookback_exceeded``.
    """
    missing = [name for name in LOAN_COLUMNS if name not in loans.columns]
    if missing:
        raise ValueError(f"loans frame lacks columns: {missing}")
    if fx.currency != bond.currency:
        raise ValueError(f"FX rate is for {fx.currency}, the bond is in {bond.currency}")
    nominal = money(bond.nominal_amount)
    cutoff = months_before(bond.issue_date, lookback_months)

    pool = loans.filter(
        pl.col("eligible").fill_null(False)
        & pl.col("status").is_in(POOL_STATUSES)
        & pl.col("disbursement_date").is_not_null()
        & (pl.col("disbursement_date") <= report_date)
    ).pipe(_pool_columns, bond, fx, cutoff)

    pool_outstanding_sek = _total(pool, "outstanding_sek")
    pool_outstanding = _total(pool, "outstanding")
    pool_disbursed = _total(pool, "disbursed")
    other = convert_amount(money(other_bonds_nominal_sek), fx)

    # One basis (issue 17, ``domain.programme``): SEK, outstanding amounts. The bond's share is its SEK
    # nominal ÷ the pool, capped together with the other bonds sharing the pool at 100 % (÷ the bonds'
    # total when that is larger); allocated = the exact share × pool, rounded down to the cent, so
    # allocation and impact shares agree and the bonds together never allocate more than the pool.
    nominal_sek = round_half_even(Fraction(nominal) * Fraction(fx.sek_per_unit), MONEY_SCALE)
    other_sek = money(other_bonds_nominal_sek)
    [exact_share] = exact_shares([nominal_sek, other_sek], pool_outstanding_sek)[:1]
    share_capped = nominal_sek + other_sek > pool_outstanding_sek and pool_outstanding_sek > 0
    bond_share: Decimal | None = None
    allocated = Decimal("0.00")
    # the exact share (issue 17 item 6 keeps it exact until the final rounding)
    bond_share_exact: Fraction | None = None
    if exact_share is not None and nominal > 0:
        bond_share_exact = exact_share
        bond_share = round_half_even(exact_share, SHARE_SCALE)
        allocated = min(
            nominal,
            round_down(
                exact_share * Fraction(pool_outstanding_sek) / Fraction(fx.sek_per_unit),
                MONEY_SCALE,
            ),
        )
    unallocated = nominal - allocated

    social_loan_ratio = None
    if all_loans_total_sek is not None and all_loans_total_sek > 0:
        social_loan_ratio = divide(pool_outstanding_sek, money(all_loans_total_sek), SHARE_SCALE)

    financing_amount = _total(pool.filter(pl.col("funding") == FINANCING), "outstanding")
    refinancing_amount = pool_outstanding - financing_amount
    lookback_count = int(pool["lookback_exceeded"].sum()) if pool.height else 0
    pool_small = pool_outstanding_sek < nominal_sek + other_sek

    messages: list[Message] = []
    if pool_small:
        messages.append(
            Message(
                "pool_smaller_than_bond",
                f"Den stödberättigade poolen ({_amount(pool_outstanding, bond.currency, 'sv')}) "
                f"är mindre än utestående obligationer "
                f"({_amount(nominal + other, bond.currency, 'sv')}); "
                f"{_amount(unallocated, bond.currency, 'sv')} är ej allokerat.",
                f"The eligible pool ({_amount(pool_outstanding, bond.currency, 'en')}) is smaller "
                f"than the bonds outstanding ({_amount(nominal + other, bond.currency, 'en')}); "
                f"{_amount(unallocated, bond.currency, 'en')} is unallocated.",
            )
        )
    if lookback_count:
        messages.append(
            Message(
                "lookback_exceeded",
                f"Refinansierade lån utbetalda före {cutoff} ({lookback_months} månader före "
                f"emissionen): {lookback_count}.",
                f"Refinanced loans disbursed before {cutoff} ({lookback_months} months before "
                f"issue): {lookback_count}.",
            )
        )
    if share_capped:
        messages.append(
            Message(
                "bond_share_capped",
                "Obligationerna som delar poolen överstiger utestående stödberättigade lån; "
                "obligationens andel är begränsad så att andelarna tillsammans är 100 %.",
                "The bonds sharing the pool exceed the eligible loans outstanding; the bond's share "
                "is capped so that the shares together are 100 %.",
            )
        )
    messages += _project_cost_messages(pool, bond.currency)

    funding_rows = (
        pl.DataFrame(
            {
                "funding": [FINANCING, REFINANCING],
                "outstanding": [financing_amount, refinancing_amount],
            },
            schema={"funding": pl.String, "outstanding": MONEY},
        )
        .join(
            pool.group_by("funding").agg(pl.len().cast(pl.Int64).alias("loan_count")),
            on="funding",
            how="left",
        )
        .with_columns(pl.col("loan_count").fill_null(0))
        .with_columns(
            share_of_pool=pl.col("outstanding").cast(SHARE)
            / (pl.lit(pool_outstanding, SHARE) if pool_outstanding > 0 else pl.lit(None, SHARE))
        )
        .select("funding", "loan_count", "outstanding", "share_of_pool")
    )

    return Allocation(
        nominal_amount=nominal,
        pool_outstanding_sek=pool_outstanding_sek,
        pool_outstanding=pool_outstanding,
        pool_disbursed=pool_disbursed,
        other_bonds_nominal=other,
        allocated=allocated,
        unallocated=unallocated,
        bond_share_of_pool=bond_share,
        bond_share_capped=share_capped,
        social_loan_ratio=social_loan_ratio,
        financing_amount=financing_amount,
        refinancing_amount=refinancing_amount,
        loan_count=pool.height,
        borrower_count=pool["borrower_orgnr"].n_unique() if pool.height else 0,
        pool_smaller_than_bond=pool_small,
        lookback_exceeded_count=lookback_count,
        lookback_cutoff=cutoff,
        messages=tuple(messages),
        loans=pool,
        by_category=_by(pool, "programme_category", pool_outstanding),
        by_icma_category=_by(pool, "icma_category", pool_outstanding),
        financing=funding_rows,
        bond_share_exact=bond_share_exact,
    )
