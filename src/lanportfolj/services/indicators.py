"""Keeps the database's indicator definitions in step with the library files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.library import IndicatorDef
from lanportfolj.models import IndicatorDefinition


def definition_fields(ind: IndicatorDef) -> dict[str, Any]:
    """The stored columns of a library (or loan-own) indicator."""
    return {
        "code": ind.code,
        "name_sv": ind.name_sv,
        "name_en": ind.name_en,
        "unit": ind.unit,
        "kind": ind.kind,
        "direction": ind.direction,
        "aggregation": ind.aggregation,
        "numerator": ind.numerator,
        "denominator": ind.denominator,
        "min_value": ind.min_value,
        "max_value": ind.max_value,
        "integer": ind.integer,
        "icma_category": ind.icma_category,
        "programme_categories": list(ind.programme_categories),
        "sdg_targets": list(ind.sdg_targets),
        "definition_sv": ind.definition_sv,
        "definition_en": ind.definition_en,
        "data_source": ind.data_source,
        "iris_code": ind.iris_code,
        "kolada_kpi": ind.kolada.kpi if ind.kolada else None,
        "kolada_gender": ind.kolada.gender if ind.kolada else None,
        "kolada_level": ind.kolada.level if ind.kolada else None,
        "context": ind.context,
        "aggregation_reason_sv": ind.aggregation_reason_sv,
        "aggregation_reason_en": ind.aggregation_reason_en,
    }


def apply_fields(row: IndicatorDefinition, values: Mapping[str, Any]) -> bool:
    """Copy ``values`` onto ``row``; True when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def sync_library(session: Session, library: Mapping[str, IndicatorDef]) -> tuple[int, int]:
    """Insert new library indicators and update changed ones. Returns (inserted, updated).

    Indicators that left the library stay in the database: loans and published reports still refer to them.
    """
    existing = {
        row.code: row
        for row in session.exec(
            select(IndicatorDefinition).where(col(IndicatorDefinition.loan_id).is_(None))
        )
    }
    inserted = updated = 0
    for code, ind in library.items():
        values = definition_fields(ind)
        row = existing.get(code)
        if row is None:
            session.add(IndicatorDefinition(**values))
            inserted += 1
        elif apply_fields(row, values):
            updated += 1
    session.flush()
    return inserted, updated
