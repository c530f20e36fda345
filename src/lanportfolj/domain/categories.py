"""The programme's project categories, ICMA Social Bond Principles categories and target populations.

One place for the vocabularies: the library checker, the eligibility rules, the portfolio loader and the
report all read these, so a category cannot be spelt two ways.
"""

from __future__ import annotations

from typing import Final

#: The lender's three project categories (Kommuninvest, "Lån för social hållbarhet").
PROGRAMME_CATEGORIES: Final[dict[str, dict[str, str]]] = {
    "housing": {"sv": "Boende och boendemiljöer", "en": "Housing and residential environments"},
    "safety": {
        "sv": "Trygghet, säkerhet och tillgänglighet",
        "en": "Safety, security and accessibility",
    },
    "health_education": {
        "sv": "Hälsa, utbildning, idrott och kultur",
        "en": "Health, education, sport and culture",
    },
}

#: ICMA Social Bond Principles project categories.
ICMA_CATEGORIES: Final[dict[str, dict[str, str]]] = {
    "affordable_basic_infrastructure": {
        "sv": "Prisvärd grundläggande infrastruktur",
        "en": "Affordable basic infrastructure",
    },
    "access_to_essential_services": {
        "sv": "Tillgång till grundläggande samhällsservice",
        "en": "Access to essential services",
    },
    "affordable_housing": {"sv": "Prisvärda bostäder", "en": "Affordable housing"},
    "employment_generation": {"sv": "Sysselsättning", "en": "Employment generation"},
    "food_security": {
        "sv": "Livsmedelsförsörjning",
        "en": "Food security and sustainable food systems",
    },
    "socioeconomic_advancement": {
        "sv": "Socioekonomisk utveckling och egenmakt",
        "en": "Socioeconomic advancement and empowerment",
    },
}

#: Which ICMA categories each programme category may be reported under.
PROGRAMME_TO_ICMA: Final[dict[str, tuple[str, ...]]] = {
    "housing": (
        "affordable_housing",
        "socioeconomic_advancement",
        "affordable_basic_infrastructure",
    ),
    "safety": (
        "socioeconomic_advancement",
        "access_to_essential_services",
        "affordable_basic_infrastructure",
    ),
    "health_education": (
        "access_to_essential_services",
        "socioeconomic_advancement",
        "employment_generation",
    ),
}

#: ICMA SBP target populations.
TARGET_POPULATIONS: Final[dict[str, dict[str, str]]] = {
    "below_poverty_line": {"sv": "Under fattigdomsgränsen", "en": "Living below the poverty line"},
    "excluded_marginalised": {
        "sv": "Utanförskap och marginalisering",
        "en": "Excluded and/or marginalised populations and communities",
    },
    "people_with_disabilities": {
        "sv": "Personer med funktionsnedsättning",
        "en": "People with disabilities",
    },
    "migrants_displaced": {
        "sv": "Migranter och flyktingar",
        "en": "Migrants and/or displaced persons",
    },
    "undereducated": {"sv": "Personer med kort utbildning", "en": "Undereducated"},
    "underserved": {"sv": "Underförsörjda", "en": "Underserved, owing to a lack of quality access"},
    "unemployed": {"sv": "Arbetslösa", "en": "Unemployed"},
    "women_gender_minorities": {
        "sv": "Kvinnor och könsminoriteter",
        "en": "Women and/or sexual and gender minorities",
    },
    "ageing_vulnerable_youth": {
        "sv": "Äldre och utsatta unga",
        "en": "Ageing populations and vulnerable youth",
    },
    "children_families": {"sv": "Barn och familjer", "en": "Children and families"},
    "other_vulnerable": {"sv": "Andra utsatta grupper", "en": "Other vulnerable groups"},
}

BORROWER_KINDS: Final[tuple[str, ...]] = (
    "municipality",
    "region",
    "municipal_company",
    "regional_company",
)

INVESTMENT_TYPES: Final[tuple[str, ...]] = (
    "physical",
    "social_linked_to_physical",
    "running_costs",
)

LOAN_STATUSES: Final[tuple[str, ...]] = (
    "draft",
    "submitted",
    "under_review",
    "approved",
    "rejected",
    "active",
    "repaid",
)


def label(vocabulary: dict[str, dict[str, str]], key: str, lang: str = "en") -> str:
    """The human label of ``key`` in ``lang``; the key itself when unknown, so nothing renders blank."""
    entry = vocabulary.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]
