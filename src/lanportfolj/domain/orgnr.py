"""Swedish organisation numbers (organisationsnummer): normalise, validate, explain what is wrong.

An organisation number has ten digits, written ``NNNNNN-NNNN``; the last digit is a Luhn
(modulus 10) check digit over the first nine. Legal persons have a third digit of 2 or more, which
is what keeps them apart from personal identity numbers (whose third and fourth digits are a
month). Registers sometimes write the twelve-digit form with the prefix ``16``; it means the same
number.
"""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"^(?:16)?\d{6}-?\d{4}$")
#: Spaces (including non-breaking and thin spaces pasted from documents) carry no meaning.
_WHITESPACE = re.compile(r"\s+")


class OrgnrError(ValueError):
    """An organisation number that cannot be accepted, with the reason in Swedish and English."""

    def __init__(self, code: str, message_sv: str, message_en: str) -> None:
        super().__init__(message_en)
        #: Stable machine-readable reason: ``empty``, ``not_digits``, ``wrong_length``,
        #: ``personal_number`` or ``check_digit``.
        self.code = code
        self.message_sv = message_sv
        self.message_en = message_en

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``sv`` or ``en``)."""
        return self.message_sv if lang == "sv" else self.message_en


def luhn_check_digit(first_nine: str) -> int:
    """The Luhn check digit for nine digits (weights 2, 1, 2, … from the left)."""
    total = 0
    for position, char in enumerate(first_nine):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def normalise_orgnr(text: str) -> str:
    """Return ``text`` as ``NNNNNN-NNNN`` or raise :class:`OrgnrError` saying what is wrong.

    Accepts ``NNNNNNNNNN``, ``NNNNNN-NNNN``, either with spaces anywhere, and the twelve-digit form
    with the ``16`` prefix (``16NNNNNNNNNN`` or ``16NNNNNN-NNNN``).
    """
    compact = _WHITESPACE.sub("", text or "")
    if not compact:
        raise OrgnrError(
            "empty",
            "Organisationsnummer saknas.",
            "The organisation number is missing.",
        )
    if not _ALLOWED.match(compact):
        stray = sorted({c for c in compact if not c.isdigit() and c != "-"})
        if stray or compact.count("-") > 1:
            shown = " ".join(f"'{c}'" for c in stray) or "'-'"
            raise OrgnrError(
                "not_digits",
                f"Organisationsnumret '{text.strip()}' får bara innehålla siffror och ett "
                f"bindestreck (NNNNNN-NNNN); det innehåller {shown}.",
                f"The organisation number '{text.strip()}' may contain only digits and one hyphen "
                f"(NNNNNN-NNNN); it contains {shown}.",
            )
        digits = compact.replace("-", "")
        if len(digits) in (10, 12):
            # Right count, wrong shape: a hyphen in the wrong place or a 12-digit form without 16.
            raise OrgnrError(
                "wrong_length",
                f"Organisationsnumret '{text.strip()}' ska skrivas NNNNNN-NNNN (tio siffror, "
                "bindestreck före de fyra sista); tolv siffror godtas bara med prefixet 16.",
                f"The organisation number '{text.strip()}' must be written NNNNNN-NNNN (ten "
                "digits, hyphen before the last four); twelve digits are accepted only with the "
                "prefix 16.",
            )
        raise OrgnrError(
            "wrong_length",
            f"Organisationsnumret '{text.strip()}' har {len(digits)} siffror; det ska ha 10 "
            "(NNNNNN-NNNN).",
            f"The organisation number '{text.strip()}' has {len(digits)} digits; it must have 10 "
            "(NNNNNN-NNNN).",
        )

    digits = compact.replace("-", "")
    if len(digits) == 12:
        digits = digits[2:]
    if int(digits[2]) < 2:
        raise OrgnrError(
            "personal_number",
            f"{digits[:6]}-{digits[6:]} ser ut som ett personnummer (tredje siffran är "
            f"{digits[2]}); ett organisationsnummer har 2 eller högre som tredje siffra.",
            f"{digits[:6]}-{digits[6:]} looks like a personal identity number (its third digit "
            f"is {digits[2]}); an organisation number has 2 or higher as its third digit.",
        )
    expected = luhn_check_digit(digits[:9])
    if int(digits[9]) != expected:
        raise OrgnrError(
            "check_digit",
            f"Kontrollsiffran i {digits[:6]}-{digits[6:]} stämmer inte: sista siffran är "
            f"{digits[9]} men ska vara {expected}. Kontrollera att numret är rätt skrivet.",
            f"The check digit of {digits[:6]}-{digits[6:]} is wrong: the last digit is "
            f"{digits[9]} but should be {expected}. Check that the number is typed correctly.",
        )
    return f"{digits[:6]}-{digits[6:]}"


def is_valid_orgnr(text: str) -> bool:
    """True when :func:`normalise_orgnr` accepts ``text``."""
    try:
        normalise_orgnr(text)
    except OrgnrError:
        return False
    return True
