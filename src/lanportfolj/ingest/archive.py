"""An XLSX file judged by what it really unpacks to, before any spreadsheet reader sees it.

A ZIP entry states its size twice (local header, central directory), and both are the sender's word: a
part that declares 2 kB may inflate to gigabytes, and calamine (behind fastexcel) sizes its buffers by the
declared figure and inflates what is there. So every part is inflated here as a stream, counting the
bytes that really come out and keeping none of them; the file is refused the moment the total passes the
cap, and refused as well when a part's real size or checksum differs from what it declares (a reader that
trusts the declaration would then see something else than was checked), when a part is encrypted or packed
with a method other than stored / deflate, or when there are too many parts.

``zipfile`` reads the central directory (offsets, names, ZIP64 extras); the local headers and the
compressed streams are read here, with ``zlib``'s incremental decompressor and an output bound per call.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass

from lanportfolj.ingest.issues import ImportIssue, make_issue

#: Signature, version, flags, method, time, date, CRC-32, compressed size, size, name length, extra length.
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
_END_RECORD = struct.Struct("<4sHHHHIIH")
_ENCRYPTED = 0x1
_DATA_DESCRIPTOR = 0x8
_ZIP64_MARK = 0xFFFFFFFF
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: Compressed bytes fed per call, and the most output one call may make: memory stays at about a megabyte
#: whatever a part declares or contains.
_INPUT_CHUNK = 64 * 1024
_OUTPUT_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """What an XLSX file may unpack to."""

    #: Real inflated bytes of all parts together.
    max_bytes: int
    #: Parts in the archive.
    max_entries: int
    #: Real inflated bytes ÷ compressed bytes, over the whole archive.
    max_ratio: float


class _Refused(Exception):
    def __init__(self, issue: ImportIssue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue


def size_text(size: int, lang: str) -> str:
    """Bytes as megabytes for a message: ``50`` or ``0,5`` (Swedish) / ``0.5``."""
    text = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
    return text.replace(".", ",") if lang == "sv" else text


def count_central_entries(data: bytes) -> int | None:
    """Central-directory records in ``data``, counted without building them; None when not found.

    ``zipfile`` walks the central directory by its byte size and ignores the stated entry count, so a
    small file could make it build hundreds of thousands of entries; this count comes first.
    """
    end = data.rfind(_END_SIGNATURE, max(0, len(data) - (_END_RECORD.size + 65535)))
    if end < 0 or end + _END_RECORD.size > len(data):
        return None
    size = _END_RECORD.unpack_from(data, end)[5]
    start = 0 if size == _ZIP64_MARK or size > end else end - size
    return data.count(_CENTRAL_SIGNATURE, start, end)


def check_archive(
    filename: str, data: bytes, entries: list[zipfile.ZipInfo], limits: ArchiveLimits
) -> ImportIssue | None:
    """Inflate every entry of ``data`` (a ZIP whose central directory is ``entries``) as a stream.

    Returns the issue that refuses the file, or None when every part is what it declares and the whole
    stays within ``limits``. Nothing inflated is kept.
    """
    try:
        if len(entries) > limits.max_entries:
            raise _Refused(make_issue("zip-entries", file=filename, limit=limits.max_entries))
        total = 0
        compressed = 0
        for entry in entries:
            total += _check_entry(filename, data, entry, limits.max_bytes - total, limits)
            compressed += entry.compress_size
        ratio = total / max(compressed, 1)
        if ratio > limits.max_ratio:
            raise _Refused(
                make_issue(
                    "zip-bomb",
                    message_key="zip-ratio",
                    file=filename,
                    ratio=f"{ratio:.0f}",
                    limit=f"{limits.max_ratio:.0f}",
                )
            )
    except _Refused as refused:
        return refused.issue
    return None


def _damaged(filename: str) -> _Refused:
    return _Refused(make_issue("not-a-spreadsheet", file=filename, detail="damaged ZIP/XLSX"))


def _over_cap(filename: str, limits: ArchiveLimits) -> _Refused:
    return _Refused(
        make_issue(
            "zip-bomb",
            file=filename,
            limit_mb_sv=size_text(limits.max_bytes, "sv"),
            limit_mb_en=size_text(limits.max_bytes, "en"),
        )
    )


def _mismatch(filename: str, part: str, declared: int, real: int) -> _Refused:
    return _Refused(
        make_issue("zip-size-mismatch", file=filename, part=part, declared=declared, real=real)
    )


def _check_entry(
    filename: str, data: bytes, entry: zipfile.ZipInfo, budget: int, limits: ArchiveLimits
) -> int:
    """The real inflated size of ``entry``; raises :class:`_Refused` when it breaks a rule."""
    part = entry.filename
    if entry.flag_bits & _ENCRYPTED:
        raise _Refused(make_issue("zip-encrypted", file=filename, part=part))
    if entry.compress_type not in _METHODS:
        raise _Refused(
            make_issue("zip-method", file=filename, part=part, method=entry.compress_type)
        )
    offset = entry.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise _damaged(filename)
    (
        signature,
        _,
        flags,
        method,
        _,
        _,
        _,
        local_compressed,
        local_size,
        name_length,
        extra_length,
    ) = _LOCAL_HEADER.unpack_from(data, offset)
    if signature != _LOCAL_SIGNATURE:
        raise _damaged(filename)
    if flags & _ENCRYPTED:
        raise _Refused(make_issue("zip-encrypted", file=filename, part=part))
    if method != entry.compress_type:
        raise _Refused(make_issue("zip-method", file=filename, part=part, method=method))
    if not flags & _DATA_DESCRIPTOR:
        # the two headers must agree (a ZIP64 mark defers to the central directory's extra field)
        if local_size not in (_ZIP64_MARK, entry.file_size):
            raise _mismatch(filename, part, entry.file_size, local_size)
        if local_compressed not in (_ZIP64_MARK, entry.compress_size):
            raise _mismatch(filename, part, entry.compress_size, local_compressed)
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    end = start + entry.compress_size
    if end > len(data):
        raise _damaged(filename)
    stream = memoryview(data)[start:end]
    if method == zipfile.ZIP_STORED:
        size, crc = len(stream), zlib.crc32(stream)
        if size > budget:
            raise _over_cap(filename, limits)
    else:
        size, crc = _inflate(filename, stream, budget, limits)
    if size != entry.file_size:
        raise _mismatch(filename, part, entry.file_size, size)
    if crc != entry.CRC:
        raise _damaged(filename)
    return size


def _inflate(
    filename: str, stream: memoryview, budget: int, limits: ArchiveLimits
) -> tuple[int, int]:
    """(bytes out, CRC-32) of a raw deflate stream, stopping as soon as ``budget`` is passed."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    crc = 0
    try:
        for position in range(0, len(stream), _INPUT_CHUNK):
            pending: bytes | memoryview = stream[position : position + _INPUT_CHUNK]
            while pending:
                out = inflater.decompress(pending, _OUTPUT_CHUNK)
                size += len(out)
                if size > budget:
                    raise _over_cap(filename, limits)
                crc = zlib.crc32(out, crc)
                pending = inflater.unconsumed_tail
            if inflater.eof:
                if inflater.unused_data or position + _INPUT_CHUNK < len(stream):
                    # the deflate stream ends before the part's stated compressed size does
                    raise _damaged(filename)
                break
        while not inflater.eof:
            # input is used up; what zlib still holds is at most a window's worth
            out = inflater.decompress(b"", _OUTPUT_CHUNK)
            if not out:
                break
            size += len(out)
            if size > budget:
                raise _over_cap(filename, limits)
            crc = zlib.crc32(out, crc)
    except zlib.error as exc:
        raise _damaged(filename) from exc
    if not inflater.eof:
        # the stream is cut short: the part holds less than it says, or is broken
        raise _damaged(filename)
    return size, crc
