"""Uploads are bounded by what they really are: real unpacked bytes, parts, rows, and the problem list."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import pytest

import zip_bombs
from lanportfolj.ingest import IngestContext, parse_file, write_template_xlsx
from lanportfolj.ingest.archive import ArchiveLimits, check_archive, count_central_entries

from .conftest import BORROWER_LOANS, build_context

MB = 1024 * 1024


def _codes(data: bytes, context: IngestContext, name: str = "t.xlsx") -> list[str]:
    return [issue.code for issue in parse_file(name, data, context).issues]


def test_parts_that_declare_a_small_size_are_measured_by_what_they_inflate_to(
    context: IngestContext,
) -> None:
    # 200 MB of sheet XML, declared as 4 kB in the local header and the central directory alike
    bomb = zip_bombs.zip_bomb(real_bytes=200 * MB, declared=4096)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        declared = sum(info.file_size for info in archive.infolist())
        local = archive.open(zip_bombs.SHEET)._orig_file_size  # type: ignore[attr-defined]
    assert declared < 10_000 and local == 4096, "the file must lie in both places"
    result = parse_file("värden.xlsx", bomb, context)
    assert [(i.code, i.row, i.column) for i in result.issues] == [("zip-bomb", None, None)]
    issue = result.issues[0]
    assert issue.file == "värden.xlsx"
    assert "värden.xlsx" in issue.message_sv and "50 MB" in issue.message_sv
    assert "värden.xlsx" in issue.message_en and "at most 50 MB" in issue.message_en
    assert result.rows == []


def test_fastexcel_never_sees_a_refused_file(
    context: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fastexcel  # the readers import it where a workbook is read (a CSV import never loads it)

    opened: list[int] = []
    real = fastexcel.read_excel
    monkeypatch.setattr(
        fastexcel, "read_excel", lambda data, *a, **k: opened.append(1) or real(data)
    )
    bomb = zip_bombs.zip_bomb(real_bytes=60 * MB, declared=4096)
    assert _codes(bomb, context) == ["zip-bomb"]
    assert opened == []
    assert "zip-bomb" not in _codes(zip_bombs.workbook(0), context)
    assert opened == [1], "an ordinary file is read by fastexcel as before"


def test_the_cap_is_the_setting_not_a_constant(context: IngestContext) -> None:
    honest = zip_bombs.workbook(3 * MB)
    # repeated rows compress far beyond an ordinary sheet: only the byte cap is under test here
    context = replace(context, max_compression_ratio=1e6)
    assert "zip-bomb" not in _codes(honest, context)
    tight = replace(context, max_uncompressed_bytes=2 * MB)
    assert _codes(honest, tight) == ["zip-bomb"]
    assert "2 MB" in parse_file("t.xlsx", honest, tight).issues[0].message_en


def test_a_part_larger_than_it_declares_but_under_the_cap_is_refused(
    context: IngestContext,
) -> None:
    honest = zip_bombs.workbook(0)
    real = zipfile.ZipFile(io.BytesIO(honest)).getinfo(zip_bombs.SHEET).file_size
    liar = zip_bombs.patch(honest, size=real - 10)
    result = parse_file("t.xlsx", liar, context)
    assert [i.code for i in result.issues] == ["zip-size-mismatch"]
    assert zip_bombs.SHEET in result.issues[0].message_en
    assert str(real) in result.issues[0].message_en


def test_local_header_and_central_directory_that_disagree_are_refused(
    context: IngestContext,
) -> None:
    honest = zip_bombs.workbook(0)
    info = zipfile.ZipFile(io.BytesIO(honest)).getinfo(zip_bombs.SHEET)
    data = bytearray(honest)
    # only the local header's size changes
    data[info.header_offset + 22 : info.header_offset + 26] = (info.file_size + 1).to_bytes(
        4, "little"
    )
    assert _codes(bytes(data), context) == ["zip-size-mismatch"]


def test_encrypted_parts_are_refused(context: IngestContext) -> None:
    locked = zip_bombs.patch(zip_bombs.workbook(0), flags=0x1)
    result = parse_file("hemlig.xlsx", locked, context)
    assert [i.code for i in result.issues] == ["zip-encrypted"]
    assert "hemlig.xlsx" in result.issues[0].message_sv


@pytest.mark.parametrize("method", [12, 14, 99])  # bzip2, LZMA, nonsense
def test_unsupported_compression_methods_are_refused(method: int, context: IngestContext) -> None:
    odd = zip_bombs.patch(zip_bombs.workbook(0), method=method)
    result = parse_file("t.xlsx", odd, context)
    assert [i.code for i in result.issues] == ["zip-method"]
    assert f"method {method}" in result.issues[0].message_en


def test_too_many_parts_are_refused_before_they_are_listed(context: IngestContext) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for number in range(60):
            archive.writestr(f"xl/media/{number}.bin", b"")
    tight = replace(context, max_zip_entries=50)
    result = parse_file("many.xlsx", buffer.getvalue(), tight)
    assert [i.code for i in result.issues] == ["zip-entries"]
    assert "50" in result.issues[0].message_en


def test_a_truncated_deflate_stream_is_damaged_not_read(context: IngestContext) -> None:
    honest = zip_bombs.workbook(MB)
    info = zipfile.ZipFile(io.BytesIO(honest)).getinfo(zip_bombs.SHEET)
    # claim fewer compressed bytes than the stream has: a reader would stop early and see less
    short = zip_bombs.patch(honest, compressed=info.compress_size // 2)
    result = parse_file("t.xlsx", short, context)
    assert [(i.code, "damaged" in i.message_en) for i in result.issues] == [
        ("not-a-spreadsheet", True)
    ]


def test_honest_sizes_that_compress_implausibly_well_are_refused(context: IngestContext) -> None:
    result = parse_file("t.xlsx", zip_bombs.workbook(3 * MB), context)
    assert [i.code for i in result.issues] == ["zip-bomb"]
    assert "at most 100" in result.issues[0].message_en


def test_check_archive_passes_an_ordinary_workbook() -> None:
    from .test_template import _spec

    data = write_template_xlsx(_spec())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
    limits = ArchiveLimits(max_bytes=50 * MB, max_entries=10_000, max_ratio=100)
    assert check_archive("t.xlsx", data, entries, limits) is None
    # and the same file is still read as before
    assert parse_file("t.xlsx", data, build_context(allowed=BORROWER_LOANS)).issues[0].code != (
        "zip-bomb"
    )


def test_files_over_the_row_limit_are_refused_before_any_row_is_checked(
    context: IngestContext,
) -> None:
    lines = ["loan,indicator,year,value,group"] + [
        f"SH-2023-001,perceived_safety_share,2025,{n % 100},g{n}" for n in range(1_001)
    ]
    data = "\n".join(lines).encode()
    assert parse_file("big.csv", data, replace(context, max_rows=1_001)).ok
    result = parse_file("big.csv", data, replace(context, max_rows=1_000))
    assert [(i.code, i.row) for i in result.issues] == [("too-many-rows", None)]
    assert result.rows == [] and result.total_rows == 1_001
    assert "1 001" in result.issues[0].message_en and "1 000" in result.issues[0].message_en
    assert "big.csv" in result.issues[0].message_sv


def test_the_problem_list_keeps_the_first_thousand_and_counts_the_rest(
    context: IngestContext,
) -> None:
    lines = ["loan,indicator,year,value,group"] + [
        f"SH-2023-001,perceived_safety_share,2025,many,g{n}" for n in range(5_000)
    ]
    result = parse_file("bad.csv", "\n".join(lines).encode(), context)
    assert not result.ok
    assert len(result.issues) == 1_000 and result.more_issues == 4_000
    assert [i.row for i in result.issues] == list(range(2, 1_002)), "the first ones, in file order"


def test_errors_are_kept_before_warnings_when_the_list_is_capped(context: IngestContext) -> None:
    # 1 500 unfilled template rows (warnings), then one bad year (the error that blocks the file)
    lines = ["loan,indicator,year,value,group"]
    lines += [f"SH-2023-001,perceived_safety_share,2025,,g{n}" for n in range(1_500)]
    lines += ["SH-2023-001,perceived_safety_share,20x5,50,last"]
    result = parse_file("mixed.csv", "\n".join(lines).encode(), context)
    assert not result.ok
    assert [i.code for i in result.errors] == ["bad-year"]
    assert len(result.issues) == 1_000 and result.more_issues == 501


def _with_stored_part(workbook: bytes, name: str, content: bytes) -> bytes:
    """``workbook`` with one more part, stored uncompressed (as an embedded picture may be)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, content, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def test_bytes_that_look_like_directory_records_inside_a_part_are_not_counted_as_parts(
    context: IngestContext,
) -> None:
    from .test_template import _spec

    # a picture's bytes may hold the central directory's signature anywhere: only the directory counts
    data = _with_stored_part(
        write_template_xlsx(_spec()), "xl/media/image1.bin", b"PK\x01\x02" * 60
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = len(archive.infolist())
    assert count_central_entries(data) == parts < 50
    tight = replace(context, max_zip_entries=50)
    result = parse_file("bild.xlsx", data, tight)
    # read as the template without the picture is: its unfilled rows skipped, nothing refused
    plain = parse_file("bild.xlsx", write_template_xlsx(_spec()), tight)
    assert {i.code for i in plain.issues} == {"missing-value"}
    assert result.issues == plain.issues


def test_an_unsupported_packing_method_names_the_part_in_both_languages(
    context: IngestContext,
) -> None:
    odd = zip_bombs.patch(zip_bombs.workbook(0), method=12)
    (issue,) = parse_file("packad.xlsx", odd, context).issues
    assert (issue.code, issue.file, issue.row, issue.column) == (
        "zip-method",
        "packad.xlsx",
        None,
        None,
    )
    assert issue.message_sv == (
        "XLSX-filen packad.xlsx är packad med en metod som inte stöds "
        "(xl/worksheets/sheet1.xml: metod 12). Spara om den i Excel eller LibreOffice."
    )
    assert issue.message_en == (
        "The XLSX file packad.xlsx is packed with an unsupported method "
        "(xl/worksheets/sheet1.xml: method 12). Save it again in Excel or LibreOffice."
    )
