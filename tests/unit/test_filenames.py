"""Stored file names are safe, and every download names its file by RFC 6266 / RFC 5987."""

from __future__ import annotations

import unicodedata

import pytest

from lanportfolj.domain.filenames import MAX_LENGTH, ascii_filename, safe_filename
from lanportfolj.web.downloads import content_disposition


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("värden€\x07.csv", "värden€.csv"),
        ("C:\\Users\\anna\\Desktop\\rapport 2025.xlsx", "rapport 2025.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("rad\r\nSet-Cookie: x=1.csv", "radSet-Cookie: x=1.csv"),
        ("\u202egpj.csv", "gpj.csv"),  # a right-to-left override would show it as "vsc.jpg"
        ("noll\u200bbredd.csv", "nollbredd.csv"),
        (".htaccess", "htaccess"),
        ("tab\there .csv", "tabhere .csv"),
        ("", "upload"),
        ("\x00\x01", "upload"),
        ("...", "upload"),
    ],
)
def test_safe_filename(sent: str, stored: str) -> None:
    assert safe_filename(sent) == stored


def test_safe_filename_is_nfc_so_the_same_name_is_the_same_text() -> None:
    decomposed = unicodedata.normalize("NFD", "värden.csv")
    assert decomposed != "värden.csv"
    assert safe_filename(decomposed) == "värden.csv"


def test_long_names_are_cut_and_keep_their_extension() -> None:
    name = safe_filename("å" * 500 + ".xlsx")
    assert len(name) == MAX_LENGTH and name.endswith("å.xlsx")
    assert len(safe_filename("x" * 500)) == MAX_LENGTH


def test_ascii_fallback() -> None:
    assert ascii_filename("värden€.csv") == "varden.csv"
    assert ascii_filename("€.csv") == "upload.csv"
    assert ascii_filename('a"b;c%d.csv') == "a_b_c_d.csv"
    assert ascii_filename("Ödeshög.xlsx").isascii()


def test_content_disposition_carries_both_forms() -> None:
    assert content_disposition("värden€\x07.csv") == (
        "attachment; filename=\"varden.csv\"; filename*=UTF-8''v%C3%A4rden%E2%82%AC.csv"
    )
    assert content_disposition("SH-2023-001-mall.xlsx") == (
        'attachment; filename="SH-2023-001-mall.xlsx"'
    )
    # a quote or a newline cannot end the value or start another header
    header = content_disposition('a"\r\nX-Evil: 1.csv')
    assert "\r" not in header and "\n" not in header
    assert header.startswith(
        "attachment; filename=\"a_X-Evil: 1.csv\"; filename*=UTF-8''a%22X-Evil"
    )
    assert header.encode("latin-1")  # a header value must be Latin-1; this one is ASCII
