"""Hostile XLSX files built in the tests: parts that lie about their size, encrypted or oddly packed parts.

Each starts from an ordinary small workbook and changes one thing, so a refusal can only come from that.
"""

from __future__ import annotations

import io
import struct
import zipfile

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_TAIL = b"</sheetData></worksheet>"
_ROW = b'<row><c t="inlineStr"><is><t>SH-2023-001</t></is></c></row>'
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="'
        '/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
        '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
        'workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
        '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
        'sheet1.xml"/></Relationships>'
    ),
}


def workbook(sheet_bytes: int = 0) -> bytes:
    """A minimal XLSX whose one sheet holds about ``sheet_bytes`` of rows (streamed, never in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        info = zipfile.ZipInfo(SHEET, date_time=(2025, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as stream:
            stream.write(_HEAD)
            block = _ROW * (1024 * 1024 // len(_ROW))
            written = 0
            while written < sheet_bytes:
                stream.write(block)
                written += len(block)
            stream.write(_TAIL)
    return buffer.getvalue()


def _central_entry(data: bytes | bytearray, name: str) -> int:
    """Offset of ``name``'s central-directory record."""
    position = 0
    encoded = name.encode()
    while True:
        position = data.index(b"PK\x01\x02", position)
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == encoded:
            return position
        position += 4


def patch(data: bytes, name: str = SHEET, **fields: int) -> bytes:
    """``data`` with ``name``'s header fields overwritten in both the local header and the central
    directory: ``size`` (uncompressed), ``compressed``, ``flags``, ``method``."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    central = _central_entry(out, name)
    # (local header offset, central record offset, struct format)
    layout = {
        "flags": (6, 8, "<H"),
        "method": (8, 10, "<H"),
        "compressed": (18, 20, "<I"),
        "size": (22, 24, "<I"),
    }
    for field, value in fields.items():
        local_at, central_at, fmt = layout[field]
        struct.pack_into(fmt, out, local + local_at, value)
        struct.pack_into(fmt, out, central + central_at, value)
    return bytes(out)


def zip_bomb(real_bytes: int = 1024**3, declared: int = 4096) -> bytes:
    """An XLSX whose sheet inflates to ``real_bytes`` of XML while both headers declare ``declared``."""
    return patch(workbook(real_bytes), size=declared)
