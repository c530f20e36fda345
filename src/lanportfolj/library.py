"""Load and check the indicator library (`indicator_library/*.toml`).

The library is data: one TOML file per theme, each holding ``[[indicator]]`` tables whose fields
are documented in ``indicator_library/SCHEMA.md``. This module turns those files into frozen
:class:`IndicatorDef` values and reports every problem at once as :class:`LibraryIssue` values (a
stable rule id, the file, the indicator code, the field, and a message in Swedish and English).

The checks design out the aggregation mistakes that plague results tracking: a percentage can
never be summed over years, a ratio is always built from a numerator and a denominator that are
themselves poolable counts (so a portfolio's share is pooled, never averaged), and a count is a
whole, non-negative number. Pure: reads files, keeps no state, touches no database.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES, PROGRAMME_TO_ICMA
from lanportfolj.domain.identifiers import indicator_code_problem

KINDS: tuple[str, ...] = ("output", "outcome")
DIRECTIONS: tuple[str, ...] = ("increase", "decrease")
AGGREGATIONS: tuple[str, ...] = ("sum", "latest", "ratio", "none")
#: Aggregations a ratio's numerator and denominator may have: values addable across projects.
POOLABLE_AGGREGATIONS: tuple[str, ...] = ("sum", "latest")
KOLADA_GENDERS: tuple[str, ...] = ("T", "K", "M")
KOLADA_LEVELS: tuple[str, ...] = ("municipality", "school_unit")

_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_SDG_RE = re.compile(r"^\d{1,2}\.[0-9a-c]{1,2}$")
_KOLADA_KPI_RE = re.compile(r"^[NU]\d{5}$")
_IRIS_RE = re.compile(r"^[A-Z]{2}\d{4}$")
_TOML_LINE_RE = re.compile(r"line (\d+)")


@dataclass(frozen=True)
class UnitDef:
    """A unit the library knows, and what may be done with values in it."""

    sv: str
    en: str
    #: Values of different projects (or years, for flows) may be added: counts, money, areas.
    additive: bool
    #: For ratio units: value = scale × numerator ÷ denominator.
    ratio_scale: Decimal | None = None
    #: Implied bounds, applied when an indicator gives none and enforced when it gives wider ones.
    floor: Decimal | None = None
    ceiling: Decimal | None = None


UNITS: dict[str, UnitDef] = {
    "count": UnitDef("antal", "count", additive=True, floor=Decimal(0)),
    "percent": UnitDef(
        "procent",
        "percent",
        additive=False,
        ratio_scale=Decimal(100),
        floor=Decimal(0),
        ceiling=Decimal(100),
    ),
    "per_1000": UnitDef(
        "per 1 000", "per 1,000", additive=False, ratio_scale=Decimal(1000), floor=Decimal(0)
    ),
    "per_100000": UnitDef(
        "per 100 000",
        "per 100,000",
        additive=False,
        ratio_scale=Decimal(100000),
        floor=Decimal(0),
    ),
    "SEK": UnitDef("kronor", "SEK", additive=True),
    "SEK/m2": UnitDef("kr/m²", "SEK/m²", additive=False),
    "m2": UnitDef("m²", "m²", additive=True),
    "hours": UnitDef("timmar", "hours", additive=True),
    # An average duration (waiting time): never added across projects.
    "days": UnitDef("dagar", "days", additive=False),
    "index": UnitDef("index", "index", additive=False),
    "points": UnitDef("poäng", "points", additive=False),
}

_STR_FIELDS = (
    "code",
    "name_sv",
    "name_en",
    "unit",
    "kind",
    "direction",
    "aggregation",
    "numerator",
    "denominator",
    "icma_category",
    "definition_sv",
    "definition_en",
    "data_source",
    "iris_code",
    "aggregation_reason_sv",
    "aggregation_reason_en",
)
_NUMBER_FIELDS = ("min_value", "max_value")
_LIST_FIELDS = ("programme_categories", "sdg_targets")
_BOOL_FIELDS = ("integer", "context")
_KNOWN_FIELDS = frozenset((*_STR_FIELDS, *_NUMBER_FIELDS, *_LIST_FIELDS, *_BOOL_FIELDS, "kolada"))
REQUIRED_FIELDS: tuple[str, ...] = (
    "code",
    "name_sv",
    "name_en",
    "unit",
    "kind",
    "direction",
    "aggregation",
    "programme_categories",
    "icma_category",
    "definition_sv",
    "definition_en",
    "data_source",
    "aggregation_reason_sv",
    "aggregation_reason_en",
)
#: Required in the library's files; a loan's own indicator (in a portfolio file) may leave them out.
REASON_FIELDS: tuple[str, ...] = ("aggregation_reason_sv", "aggregation_reason_en")
_KOLADA_FIELDS = frozenset(("kpi", "gender", "level"))

#: Every rule the checker applies: a stable id and its message in Swedish and English.
RULES: dict[str, tuple[str, str]] = {
    "no-directory": ("Katalogen {path} finns inte.", "Directory {path} does not exist."),
    "no-files": (
        "Inga .toml-filer i {path}.",
        "No .toml files in {path}.",
    ),
    "toml-unreadable": (
        "Filen kan inte läsas som TOML: {detail}",
        "The file cannot be read as TOML: {detail}",
    ),
    "file-structure": (
        "Filen ska innehålla [[indicator]]-tabeller: {detail_sv}",
        "The file must hold [[indicator]] tables: {detail_en}",
    ),
    "unknown-field": ("Okänt fält '{field}'.", "Unknown field '{field}'."),
    "missing-field": (
        "Obligatoriskt fält '{field}' saknas.",
        "Required field '{field}' is missing.",
    ),
    "wrong-type": (
        "Fältet '{field}' ska vara {expected_sv}.",
        "Field '{field}' must be {expected_en}.",
    ),
    "empty-text": ("Fältet '{field}' är tomt.", "Field '{field}' is empty."),
    "bad-code": (
        "Koden '{value}' ska vara 2–64 tecken med små bokstäver, siffror och understreck "
        "(snake_case), en bokstav först.",
        "Code '{value}' must be snake_case, 2–64 characters (lower-case letters, digits and "
        "underscores, a letter first).",
    ),
    "duplicate-code": (
        "Koden '{value}' finns redan i {other}.",
        "Code '{value}' is already defined in {other}.",
    ),
    "bad-kind": (
        "Typen '{value}' är okänd; tillåtna: {allowed}.",
        "Kind '{value}' is unknown; allowed: {allowed}.",
    ),
    "bad-direction": (
        "Riktningen '{value}' är okänd; tillåtna: {allowed}.",
        "Direction '{value}' is unknown; allowed: {allowed}.",
    ),
    "bad-aggregation": (
        "Aggregeringen '{value}' är okänd; tillåtna: {allowed}.",
        "Aggregation '{value}' is unknown; allowed: {allowed}.",
    ),
    "unknown-unit": (
        "Enheten '{value}' är okänd; tillåtna: {allowed}.",
        "Unit '{value}' is unknown; allowed: {allowed}.",
    ),
    "ratio-unit": (
        "En kvot ska ha enheten percent, per_1000 eller per_100000, inte '{value}'.",
        "A ratio must have unit percent, per_1000 or per_100000, not '{value}'.",
    ),
    "latest-not-additive": (
        "Värden i enheten '{value}' (ett medelvärde, pris eller index) kan inte läggas ihop "
        'mellan projekt; använd aggregation = "none" (visas per projekt).',
        "Values in unit '{value}' (an average, a price or an index) cannot be added across "
        'projects; use aggregation = "none" (shown per project).',
    ),
    "context-not-poolable": (
        "context = true är till för en befolkning som används som nämnare: ett antal med "
        "aggregation sum eller latest. Här är aggregation '{value}' och enheten {other}, som inte "
        "kan läggas ihop; ta bort context.",
        "context = true is for a population used as a denominator: a count with aggregation sum "
        "or latest. Here aggregation is '{value}' and the unit {other}, which cannot be added; "
        "remove context.",
    ),
    "sum-not-additive": (
        "Värden i enheten '{value}' får inte summeras över år; använd latest, ratio eller none.",
        "Values in unit '{value}' must not be summed over years; use latest, ratio or none.",
    ),
    "ratio-missing-part": (
        "En kvot (ratio) behöver fältet '{field}' (koden för en räknande indikator).",
        "A ratio needs field '{field}' (the code of a counting indicator).",
    ),
    "part-on-non-ratio": (
        "Fältet '{field}' är bara tillåtet när aggregation = ratio.",
        "Field '{field}' is only allowed when aggregation = ratio.",
    ),
    "part-unknown": (
        "'{field}' pekar på den okända koden '{value}'.",
        "'{field}' points to the unknown code '{value}'.",
    ),
    "part-is-ratio": (
        "'{field}' pekar på '{value}', som själv är en kvot; kvoter ska byggas av antal.",
        "'{field}' points to '{value}', itself a ratio; ratios must be built from counts.",
    ),
    "part-not-poolable": (
        "'{field}' pekar på '{value}', som inte kan läggas ihop mellan projekt "
        "(aggregering sum eller latest och en adderbar enhet krävs).",
        "'{field}' points to '{value}', which cannot be added across projects "
        "(aggregation sum or latest and an additive unit are required).",
    ),
    "part-kind-mismatch": (
        "'{field}' pekar på '{value}' av typen {other}, men kvoten är av typen {kind}.",
        "'{field}' points to '{value}' of kind {other}, but the ratio is of kind {kind}.",
    ),
    "part-unit-mismatch": (
        "Täljaren och nämnaren har olika enheter ({value} och {other}).",
        "Numerator and denominator have different units ({value} and {other}).",
    ),
    "min-above-max": (
        "min_value ({value}) är större än max_value ({other}).",
        "min_value ({value}) is greater than max_value ({other}).",
    ),
    "percent-range": (
        "En procentsats måste ligga inom 0..100; '{field}' är {value}.",
        "A percentage must lie within 0..100; '{field}' is {value}.",
    ),
    "negative-count": (
        "Ett antal kan inte vara negativt; min_value är {value}.",
        "A count cannot be negative; min_value is {value}.",
    ),
    "count-not-integer": (
        "Ett antal är ett heltal; integer får inte vara false för enheten count.",
        "A count is a whole number; integer must not be false for unit count.",
    ),
    "bad-programme-category": (
        "Programkategorin '{value}' är okänd; tillåtna: {allowed}.",
        "Programme category '{value}' is unknown; allowed: {allowed}.",
    ),
    "no-programme-category": (
        "Minst en programkategori krävs.",
        "At least one programme category is required.",
    ),
    "bad-icma-category": (
        "ICMA-kategorin '{value}' är okänd; tillåtna: {allowed}.",
        "ICMA category '{value}' is unknown; allowed: {allowed}.",
    ),
    "icma-programme-mismatch": (
        "ICMA-kategorin '{value}' hör inte till någon av programkategorierna {other}.",
        "ICMA category '{value}' belongs to none of the programme categories {other}.",
    ),
    "bad-sdg-target": (
        'SDG-delmålet \'{value}\' har fel form; skriv t.ex. "11.1" eller "4.a".',
        'SDG target \'{value}\' is malformed; write e.g. "11.1" or "4.a".',
    ),
    "bad-kolada-kpi": (
        "Kolada-id '{value}' har fel form; skriv t.ex. N15428.",
        "Kolada id '{value}' is malformed; write e.g. N15428.",
    ),
    "bad-kolada-gender": (
        "Kolada-kön '{value}' är okänt; tillåtna: T, K, M.",
        "Kolada gender '{value}' is unknown; allowed: T, K, M.",
    ),
    "bad-kolada-level": (
        "Kolada-nivå '{value}' är okänd; tillåtna: {allowed}.",
        "Kolada level '{value}' is unknown; allowed: {allowed}.",
    ),
    "bad-iris-code": (
        "IRIS+-koden '{value}' har fel form; skriv t.ex. PI4060.",
        "IRIS+ code '{value}' is malformed; write e.g. PI4060.",
    ),
}

_TYPE_NAMES = {
    "str": ("en text", "a string"),
    "number": ("ett tal", "a number"),
    "bool": ("true eller false", "true or false"),
    "list": ("en lista med texter", "a list of strings"),
    "table": ("en tabell", "a table"),
}


@dataclass(frozen=True)
class KoladaMapping:
    """The Kolada key figure publishing the same measure, for benchmarks and comparison units."""

    kpi: str
    gender: str = "T"
    level: str = "municipality"


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator of the library (or a loan's own indicator)."""

    code: str
    name_sv: str
    name_en: str
    unit: str
    kind: str
    direction: str
    aggregation: str
    numerator: str | None
    denominator: str | None
    min_value: Decimal | None
    max_value: Decimal | None
    integer: bool
    programme_categories: tuple[str, ...]
    icma_category: str
    sdg_targets: tuple[str, ...]
    definition_sv: str
    definition_en: str
    data_source: str
    iris_code: str | None
    kolada: KoladaMapping | None
    source_file: str
    #: A figure describing the setting (a population used as a ratio's denominator): pooled in
    #: ratios, but never attributed, totalled on its own or given per million.
    context: bool = False
    #: Why the indicator combines as its aggregation says (the library's review, both languages).
    aggregation_reason_sv: str = ""
    aggregation_reason_en: str = ""

    def name(self, lang: str) -> str:
        """The indicator's name in ``lang`` (``sv`` or ``en``; anything else gives English)."""
        return self.name_sv if lang == "sv" else self.name_en

    def definition(self, lang: str) -> str:
        """The indicator's definition in ``lang``."""
        return self.definition_sv if lang == "sv" else self.definition_en

    def unit_label(self, lang: str) -> str:
        """The unit as a reader sees it (``%``-like labels in ``lang``)."""
        unit = UNITS.get(self.unit)
        if unit is None:
            return self.unit
        return unit.sv if lang == "sv" else unit.en

    @property
    def additive(self) -> bool:
        """Whether values of different projects may be added (counts, money), i.e. totalled."""
        unit = UNITS.get(self.unit)
        return bool(unit and unit.additive) and self.aggregation in POOLABLE_AGGREGATIONS

    @property
    def attributable(self) -> bool:
        """Whether the lender's share of the value may be attributed (and totalled, per million):
        an additive value that is the project's own result, not a context figure."""
        return self.additive and not self.context

    @property
    def ratio_scale(self) -> Decimal | None:
        """For a ratio: value = scale × numerator ÷ denominator (100 for percent); else None."""
        if self.aggregation != "ratio":
            return None
        unit = UNITS.get(self.unit)
        return unit.ratio_scale if unit else None


@dataclass(frozen=True)
class LibraryIssue:
    """One problem found in an indicator library or a loan's own indicator definitions."""

    file: str
    code: str | None
    field: str | None
    message: str
    message_sv: str = ""
    rule: str = ""
    line: int | None = None
    #: The offending value, as text, when there is one.
    value: str | None = None

    def text(self, lang: str) -> str:
        """The message in ``lang``, prefixed with where the problem is."""
        where = self.file + (f":{self.line}" if self.line else "")
        if self.code:
            where += f" [{self.code}]"
        if self.field:
            where += f" {self.field}"
        message = self.message_sv if lang == "sv" and self.message_sv else self.message
        return f"{where}: {message}"


class LibraryError(Exception):
    """The library could not be loaded; ``issues`` lists every problem found."""

    def __init__(self, issues: list[LibraryIssue]) -> None:
        self.issues = issues
        lines = "\n".join(issue.text("en") for issue in issues[:20])
        more = f"\n… and {len(issues) - 20} more" if len(issues) > 20 else ""
        super().__init__(f"{len(issues)} problem(s) in the indicator library:\n{lines}{more}")


def _issue(
    rule: str,
    *,
    file: str,
    code: str | None = None,
    field: str | None = None,
    line: int | None = None,
    **params: Any,
) -> LibraryIssue:
    sv, en = RULES[rule]
    values = {"field": field, **params}
    return LibraryIssue(
        file=file,
        code=code,
        field=field,
        message=en.format(**values),
        message_sv=sv.format(**values),
        rule=rule,
        line=line,
        value=None if params.get("value") is None else str(params["value"]),
    )


def _decimal(value: Any) -> Decimal | None:
    """TOML numbers as exact decimals; a float goes through its shortest repr, so 0.1 stays 0.1."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _check_types(raw: Mapping[str, Any], *, file: str, code: str | None) -> list[LibraryIssue]:
    issues: list[LibraryIssue] = []

    def wrong(name: str, expected: str) -> None:
        sv, en = _TYPE_NAMES[expected]
        issues.append(
            _issue("wrong-type", file=file, code=code, field=name, expected_sv=sv, expected_en=en)
        )

    for name in _STR_FIELDS:
        if name in raw and not isinstance(raw[name], str):
            wrong(name, "str")
    for name in _NUMBER_FIELDS:
        if name in raw and _decimal(raw[name]) is None:
            wrong(name, "number")
    for name in _BOOL_FIELDS:
        if name in raw and not isinstance(raw[name], bool):
            wrong(name, "bool")
    for name in _LIST_FIELDS:
        value = raw.get(name)
        if name in raw and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            wrong(name, "list")
    if "kolada" in raw:
        kolada = raw["kolada"]
        if not isinstance(kolada, dict):
            wrong("kolada", "table")
        else:
            for key, value in kolada.items():
                if key not in _KOLADA_FIELDS:
                    issues.append(
                        _issue("unknown-field", file=file, code=code, field=f"kolada.{key}")
                    )
                elif not isinstance(value, str):
                    wrong(f"kolada.{key}", "str")
            if "kpi" not in kolada:
                issues.append(_issue("missing-field", file=file, code=code, field="kolada.kpi"))
    return issues


def _check_values(raw: Mapping[str, Any], *, file: str, code: str | None) -> list[LibraryIssue]:
    """Checks of one entry's values; ``raw`` has passed the type checks for the fields it holds."""
    issues: list[LibraryIssue] = []

    def add(rule: str, field: str | None, **params: Any) -> None:
        issues.append(_issue(rule, file=file, code=code, field=field, **params))

    texts = ("name_sv", "name_en", "definition_sv", "definition_en", "data_source", *REASON_FIELDS)
    for name in texts:
        if name in raw and not raw[name].strip():
            add("empty-text", name)
    # the domain's grammar (2–64 characters, what every sink may rely on), and the library's own
    # house style on top: snake_case without doubled or trailing underscores
    if code is not None and (indicator_code_problem(code) is not None or not _CODE_RE.match(code)):
        add("bad-code", "code", value=code)

    choices = (
        ("kind", KINDS, "bad-kind"),
        ("direction", DIRECTIONS, "bad-direction"),
        ("aggregation", AGGREGATIONS, "bad-aggregation"),
    )
    for name, allowed, rule in choices:
        if name in raw and raw[name] not in allowed:
            add(rule, name, value=raw[name], allowed=", ".join(allowed))

    unit_name = raw.get("unit")
    unit = UNITS.get(unit_name) if isinstance(unit_name, str) else None
    if unit_name is not None and unit is None:
        add("unknown-unit", "unit", value=unit_name, allowed=", ".join(UNITS))
    aggregation = raw.get("aggregation")
    if unit is not None:
        if aggregation == "ratio" and unit.ratio_scale is None:
            add("ratio-unit", "unit", value=unit_name)
        # A percentage or an average summed over years is the classic results-tracking bug.
        if aggregation == "sum" and not unit.additive:
            add("sum-not-additive", "aggregation", value=unit_name)
        # Nor is an average rent, a price or an index "the latest total" of several projects.
        if aggregation == "latest" and not unit.additive:
            add("latest-not-additive", "aggregation", value=unit_name)
        # A context figure (a population) is pooled only as a ratio's denominator.
        if raw.get("context") is True and (
            not unit.additive or aggregation not in POOLABLE_AGGREGATIONS
        ):
            add("context-not-poolable", "context", value=aggregation, other=unit_name)

    for part in ("numerator", "denominator"):
        if aggregation == "ratio" and not raw.get(part):
            add("ratio-missing-part", part)
        elif aggregation in AGGREGATIONS and aggregation != "ratio" and part in raw:
            add("part-on-non-ratio", part)

    low, high = _decimal(raw.get("min_value")), _decimal(raw.get("max_value"))
    if low is not None and high is not None and low > high:
        add("min-above-max", "min_value", value=low, other=high)
    if unit_name == "percent":
        for name, bound in (("min_value", low), ("max_value", high)):
            if bound is not None and not Decimal(0) <= bound <= Decimal(100):
                add("percent-range", name, value=bound)
    if unit_name == "count":
        if low is not None and low < 0:
            add("negative-count", "min_value", value=low)
        if raw.get("integer") is False:
            add("count-not-integer", "integer")

    programmes = raw.get("programme_categories")
    if isinstance(programmes, list):
        if not programmes:
            add("no-programme-category", "programme_categories")
        for value in programmes:
            if value not in PROGRAMME_CATEGORIES:
                add(
                    "bad-programme-category",
                    "programme_categories",
                    value=value,
                    allowed=", ".join(PROGRAMME_CATEGORIES),
                )
    icma = raw.get("icma_category")
    if icma is not None and icma not in ICMA_CATEGORIES:
        add("bad-icma-category", "icma_category", value=icma, allowed=", ".join(ICMA_CATEGORIES))
    elif icma is not None and isinstance(programmes, list):
        known = [p for p in programmes if p in PROGRAMME_TO_ICMA]
        if known and not any(icma in PROGRAMME_TO_ICMA[p] for p in known):
            add("icma-programme-mismatch", "icma_category", value=icma, other=", ".join(known))

    for target in raw.get("sdg_targets", ()):
        goal = target.split(".", 1)[0]
        if not _SDG_RE.match(target) or not 1 <= int(goal) <= 17:
            add("bad-sdg-target", "sdg_targets", value=target)

    iris = raw.get("iris_code")
    if iris is not None and not _IRIS_RE.match(iris):
        add("bad-iris-code", "iris_code", value=iris)

    kolada = raw.get("kolada")
    if isinstance(kolada, dict):
        kpi, gender, level = kolada.get("kpi"), kolada.get("gender"), kolada.get("level")
        if isinstance(kpi, str) and not _KOLADA_KPI_RE.match(kpi):
            add("bad-kolada-kpi", "kolada.kpi", value=kpi)
        if isinstance(gender, str) and gender not in KOLADA_GENDERS:
            add("bad-kolada-gender", "kolada.gender", value=gender)
        if isinstance(level, str) and level not in KOLADA_LEVELS:
            add("bad-kolada-level", "kolada.level", value=level, allowed=", ".join(KOLADA_LEVELS))
    return issues


def parse_indicator(
    raw: Mapping[str, Any], *, file: str, own: bool = False
) -> tuple[IndicatorDef | None, list[LibraryIssue]]:
    """Check one indicator table and build its definition.

    Returns ``(definition, [])`` when the entry is sound, else ``(None, issues)`` with every problem
    of the entry itself. References to other indicators (a ratio's numerator and denominator) are
    checked by :func:`check_references`, since they need the whole set of known indicators.
    ``own`` marks a loan's own indicator (a portfolio file), which may leave out the library's
    justification fields (``aggregation_reason_sv`` / ``_en``).
    """
    code = raw.get("code") if isinstance(raw.get("code"), str) else None
    issues = [
        _issue("unknown-field", file=file, code=code, field=str(name))
        for name in raw
        if name not in _KNOWN_FIELDS
    ]
    issues += [
        _issue("missing-field", file=file, code=code, field=name)
        for name in REQUIRED_FIELDS
        if name not in raw and not (own and name in REASON_FIELDS)
    ]
    type_issues = _check_types(raw, file=file, code=code)
    issues += type_issues
    badly_typed = {issue.field for issue in type_issues if issue.rule == "wrong-type"}
    well_typed = {k: v for k, v in raw.items() if k not in badly_typed and k in _KNOWN_FIELDS}
    issues += _check_values(well_typed, file=file, code=code)
    if issues:
        return None, issues

    unit = UNITS[raw["unit"]]
    low = _decimal(raw.get("min_value"))
    high = _decimal(raw.get("max_value"))
    kolada_raw = raw.get("kolada")
    return (
        IndicatorDef(
            code=raw["code"],
            name_sv=raw["name_sv"].strip(),
            name_en=raw["name_en"].strip(),
            unit=raw["unit"],
            kind=raw["kind"],
            direction=raw["direction"],
            aggregation=raw["aggregation"],
            numerator=raw.get("numerator"),
            denominator=raw.get("denominator"),
            # The unit's natural bounds apply when none are given: a count is never negative.
            min_value=low if low is not None else unit.floor,
            max_value=high if high is not None else unit.ceiling,
            integer=raw.get("integer", raw["unit"] == "count"),
            programme_categories=tuple(raw["programme_categories"]),
            icma_category=raw["icma_category"],
            sdg_targets=tuple(raw.get("sdg_targets", ())),
            definition_sv=raw["definition_sv"].strip(),
            definition_en=raw["definition_en"].strip(),
            data_source=raw["data_source"].strip(),
            iris_code=raw.get("iris_code"),
            kolada=KoladaMapping(**kolada_raw) if kolada_raw is not None else None,
            source_file=file,
            context=raw.get("context", False),
            aggregation_reason_sv=raw.get("aggregation_reason_sv", "").strip(),
            aggregation_reason_en=raw.get("aggregation_reason_en", "").strip(),
        ),
        [],
    )


def check_references(
    indicators: Iterable[IndicatorDef], known: Mapping[str, IndicatorDef]
) -> list[LibraryIssue]:
    """Check that every ratio among ``indicators`` is built from poolable indicators in ``known``.

    ``known`` is every indicator a reference may point to: the library, plus a loan's own
    indicators when a portfolio file is checked.
    """
    issues: list[LibraryIssue] = []
    for ind in indicators:
        if ind.aggregation != "ratio":
            continue
        parts: dict[str, IndicatorDef] = {}
        for field in ("numerator", "denominator"):
            target_code = getattr(ind, field)
            target = known.get(target_code) if target_code else None
            rule, params = "", dict[str, Any]()
            if target is None:
                rule = "part-unknown"
            elif target.aggregation == "ratio":
                rule = "part-is-ratio"
            elif not target.additive:
                rule = "part-not-poolable"
            elif target.kind != ind.kind:
                rule, params = "part-kind-mismatch", {"other": target.kind, "kind": ind.kind}
            else:
                parts[field] = target
            if rule:
                issues.append(
                    _issue(
                        rule,
                        file=ind.source_file,
                        code=ind.code,
                        field=field,
                        value=target_code,
                        **params,
                    )
                )
        if len(parts) == 2 and parts["numerator"].unit != parts["denominator"].unit:
            issues.append(
                _issue(
                    "part-unit-mismatch",
                    file=ind.source_file,
                    code=ind.code,
                    field="denominator",
                    value=parts["numerator"].unit,
                    other=parts["denominator"].unit,
                )
            )
    return issues


def _code_line(text: str, code: str) -> int | None:
    """The line of ``code = "<code>"`` in a file, so an editor can jump to the entry."""
    pattern = re.compile(r"^\s*code\s*=\s*[\"']" + re.escape(code) + r"[\"']", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _read_file(path: Path, name: str) -> tuple[str, list[Any], list[LibraryIssue]]:
    """The text and raw ``[[indicator]]`` tables of one file, or the issues that stop reading it."""
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        detail = f"inte UTF-8 / not UTF-8 ({exc.reason})"
        return "", [], [_issue("toml-unreadable", file=name, detail=detail)]
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        line = int(match.group(1)) if match else None
        return "", [], [_issue("toml-unreadable", file=name, line=line, detail=str(exc))]
    except OSError as exc:
        return "", [], [_issue("toml-unreadable", file=name, detail=exc.strerror or str(exc))]

    issues = [_issue("unknown-field", file=name, field=key) for key in data if key != "indicator"]
    entries = data.get("indicator")
    if entries is None:
        issues.append(
            _issue(
                "file-structure",
                file=name,
                detail_sv="ingen [[indicator]]-tabell",
                detail_en="no [[indicator]] table",
            )
        )
        return text, [], issues
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        issues.append(
            _issue(
                "file-structure",
                file=name,
                field="indicator",
                detail_sv="'indicator' måste vara en lista av tabeller ([[indicator]])",
                detail_en="'indicator' must be an array of tables ([[indicator]])",
            )
        )
        return text, [], issues
    return text, entries, issues


def check_library(directory: Path) -> list[LibraryIssue]:
    """Every problem in the library folder ``directory`` at once (empty when it is sound)."""
    _, issues = _load(directory)
    return issues


def _load(directory: Path) -> tuple[dict[str, IndicatorDef], list[LibraryIssue]]:
    if not directory.is_dir():
        return {}, [_issue("no-directory", file=str(directory), path=directory)]
    files = sorted(p for p in directory.glob("*.toml") if p.is_file())
    if not files:
        return {}, [_issue("no-files", file=str(directory), path=directory)]

    issues: list[LibraryIssue] = []
    defs: dict[str, IndicatorDef] = {}
    first_file: dict[str, str] = {}
    texts: dict[str, str] = {}
    for path in files:
        name = path.name
        text, entries, file_issues = _read_file(path, name)
        texts[name] = text
        issues += file_issues
        for raw in entries:
            ind, entry_issues = parse_indicator(raw, file=name)
            issues += entry_issues
            code = raw.get("code")
            if not isinstance(code, str):
                continue
            if code in first_file:
                issues.append(
                    _issue(
                        "duplicate-code",
                        file=name,
                        code=code,
                        field="code",
                        value=code,
                        other=first_file[code],
                    )
                )
                continue
            first_file[code] = name
            if ind is not None:
                defs[code] = ind
    # A part whose own entry is broken is already reported; do not also call it unknown.
    broken = set(first_file) - set(defs)
    issues += [
        issue
        for issue in check_references(defs.values(), defs)
        if not (issue.rule == "part-unknown" and issue.value in broken)
    ]

    located = []
    for issue in issues:
        if issue.line is None and issue.code and issue.file in texts:
            issue = replace(issue, line=_code_line(texts[issue.file], issue.code))
        located.append(issue)
    return defs, located


def default_library_dir() -> Path:
    """The shipped library: inside an installed wheel, else the repo's ``indicator_library/``."""
    packaged = Path(__file__).resolve().parent / "_resources" / "indicator_library"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "indicator_library"


def load_library(directory: Path | None = None) -> dict[str, IndicatorDef]:
    """The library's indicators by code; raises :class:`LibraryError` listing every issue found."""
    defs, issues = _load(directory if directory is not None else default_library_dir())
    if issues:
        raise LibraryError(issues)
    return defs


def indicator_to_dict(ind: IndicatorDef) -> dict[str, Any]:
    """A JSON-friendly dict of one indicator; decimals become strings so no digit is lost."""
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
        "min_value": None if ind.min_value is None else str(ind.min_value),
        "max_value": None if ind.max_value is None else str(ind.max_value),
        "integer": ind.integer,
        "programme_categories": list(ind.programme_categories),
        "icma_category": ind.icma_category,
        "sdg_targets": list(ind.sdg_targets),
        "definition_sv": ind.definition_sv,
        "definition_en": ind.definition_en,
        "data_source": ind.data_source,
        "iris_code": ind.iris_code,
        "kolada": None
        if ind.kolada is None
        else {"kpi": ind.kolada.kpi, "gender": ind.kolada.gender, "level": ind.kolada.level},
        "source_file": ind.source_file,
        "context": ind.context,
        "aggregation_reason_sv": ind.aggregation_reason_sv,
        "aggregation_reason_en": ind.aggregation_reason_en,
    }
