"""Organisation numbers: what an analyst typing a borrower's number sees accepted or rejected."""

from __future__ import annotations

import pytest

from lanportfolj.domain.orgnr import OrgnrError, is_valid_orgnr, luhn_check_digit, normalise_orgnr

pytestmark = pytest.mark.unit

# Real numbers, checked against public registers (and the Luhn digit).
STOCKHOLMS_STAD = "212000-0142"
BOTKYRKA_KOMMUN = "212000-2882"
VARA_KOMMUN = "212000-2924"
REGION_STOCKHOLM = "232100-0016"
KOMMUNINVEST_AB = "556281-4409"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (STOCKHOLMS_STAD, STOCKHOLMS_STAD),
        ("2120002882", BOTKYRKA_KOMMUN),
        ("212000 2924", VARA_KOMMUN),
        (" 232 100-0016 ", REGION_STOCKHOLM),
        ("165562814409", KOMMUNINVEST_AB),
        ("16556281-4409", KOMMUNINVEST_AB),
        ("556281\u00a04409", KOMMUNINVEST_AB),
    ],
)
def test_accepted_forms_are_normalised(typed: str, expected: str) -> None:
    assert normalise_orgnr(typed) == expected
    assert is_valid_orgnr(typed)


@pytest.mark.parametrize(
    ("typed", "code", "in_en", "in_sv"),
    [
        ("", "empty", "missing", "saknas"),
        ("   ", "empty", "missing", "saknas"),
        ("212000-014", "wrong_length", "has 9 digits", "har 9 siffror"),
        ("21200001422", "wrong_length", "has 11 digits", "har 11 siffror"),
        ("192120000142", "wrong_length", "prefix 16", "prefixet 16"),
        ("2120-000142", "wrong_length", "NNNNNN-NNNN", "NNNNNN-NNNN"),
        ("212000-O142", "not_digits", "'O'", "'O'"),
        ("212000/0142", "not_digits", "'/'", "'/'"),
        ("212000--0142", "not_digits", "one hyphen", "ett bindestreck"),
        ("212000-0143", "check_digit", "should be 2", "ska vara 2"),
        ("556281-4408", "check_digit", "should be 9", "ska vara 9"),
        ("811218-9876", "personal_number", "personal identity number", "personnummer"),
    ],
)
def test_rejected_numbers_say_what_is_wrong(typed: str, code: str, in_en: str, in_sv: str) -> None:
    with pytest.raises(OrgnrError) as caught:
        normalise_orgnr(typed)
    error = caught.value
    assert error.code == code
    assert in_en in error.message_en
    assert in_sv in error.message_sv
    assert error.message("sv") == error.message_sv
    assert str(error) == error.message_en
    assert not is_valid_orgnr(typed)


def test_orgnr_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalise_orgnr("123")


def test_every_wrong_last_digit_is_rejected_and_names_the_right_one() -> None:
    for wrong in "013456789":
        with pytest.raises(OrgnrError) as caught:
            normalise_orgnr(f"212000-014{wrong}")
        assert "should be 2" in caught.value.message_en


def test_luhn_check_digit_matches_known_numbers() -> None:
    for number in (STOCKHOLMS_STAD, BOTKYRKA_KOMMUN, VARA_KOMMUN, KOMMUNINVEST_AB):
        digits = number.replace("-", "")
        assert luhn_check_digit(digits[:9]) == int(digits[9])
