"""What a borrower is told about a mistyped organisation number, whole, in Swedish and English."""

from __future__ import annotations

import pytest

from lanportfolj.domain.orgnr import OrgnrError, normalise_orgnr

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("typed", "code", "sv", "en"),
    [
        (
            "850101-1234",
            "personal_number",
            "850101-1234 ser ut som ett personnummer (tredje siffran är 0); ett "
            "organisationsnummer har 2 eller högre som tredje siffra.",
            "850101-1234 looks like a personal identity number (its third digit is 0); an "
            "organisation number has 2 or higher as its third digit.",
        ),
        (
            "212000--0142",
            "not_digits",
            "Organisationsnumret '212000--0142' får bara innehålla siffror och ett bindestreck "
            "(NNNNNN-NNNN); det innehåller '-'.",
            "The organisation number '212000--0142' may contain only digits and one hyphen "
            "(NNNNNN-NNNN); it contains '-'.",
        ),
        (
            "2120 00/0142x",
            "not_digits",
            "Organisationsnumret '2120 00/0142x' får bara innehålla siffror och ett bindestreck "
            "(NNNNNN-NNNN); det innehåller '/' 'x'.",
            "The organisation number '2120 00/0142x' may contain only digits and one hyphen "
            "(NNNNNN-NNNN); it contains '/' 'x'.",
        ),
    ],
)
def test_a_mistyped_number_is_explained_in_both_languages(
    typed: str, code: str, sv: str, en: str
) -> None:
    with pytest.raises(OrgnrError) as caught:
        normalise_orgnr(typed)
    assert (caught.value.code, caught.value.message_sv, caught.value.message_en) == (code, sv, en)
