"""The plain data a bond report is computed from: the bond, the FX rate and four polars frames.

Services build a ``ReportInputs`` from the database; the reporting code never sees ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from lanportfolj.domain.allocation import BondInfo, FxRate

__all__ = ["BondInfo", "FxRate", "ReportInputs"]


@dataclass(frozen=True)
class ReportInputs:
    """Everything ``compute_report`` needs.

    Frames (money columns are ``Decimal`` in SEK):

    * ``loans``: reference, borrower, borrower_orgnr, title, programme_category, icma_category,
      sdgs (list[str]), currency, amount, disbursed_amount, outstanding_amount, total_project_cost,
      disbursement_date, maturity_date, status, eligible (bool)
    * ``indicators``: code, name_en, name_sv, unit, kind, direction, aggregation, numerator, denominator
    * ``loan_indicators``: loan, indicator, baseline_value, baseline_year, target_value, target_year,
      data_source
    * ``measurements``: loan, indicator, year, value, estimated (bool), restated (bool: changed since the
      previous published report), group ("" = the intervention; other groups are ignored here)
    """

    bond: BondInfo
    report_date: date
    fx: FxRate
    loans: pl.DataFrame
    indicators: pl.DataFrame
    loan_indicators: pl.DataFrame
    measurements: pl.DataFrame
    #: nominal of the other bonds sharing the pool (SEK), for the cap on the bonds' shares
    other_bonds_nominal_sek: Decimal = Decimal(0)
    #: all the lender's loans (SEK), for the social loan ratio; None when unknown
    all_loans_total_sek: Decimal | None = None
    #: refinancing disbursed longer than this before issue is flagged
    lookback_months: int = 24
    #: {"loan", "indicator", "year", "old", "new", "at"} since the last publication
    restatements: list[dict[str, Any]] = field(default_factory=list)
    #: the default language of the rendered report ("sv" or "en")
    lang: str = "en"
    #: loans of ``loans`` that left the pool by the report date: reference → (the day they left,
    #: their outstanding SEK as they left); their impact is kept for the years up to leaving
    left_pool: dict[str, tuple[date, Decimal]] = field(default_factory=dict)
