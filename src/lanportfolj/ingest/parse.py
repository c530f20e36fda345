"""``parse_file``: one uploaded file in, validated rows and every issue out. Never raises on bad input."""

from __future__ import annotations

from collections.abc import Callable

from lanportfolj.ingest.issues import make_issue
from lanportfolj.ingest.readers import ReadError, read_table
from lanportfolj.ingest.result import ParseResult
from lanportfolj.ingest.rules import IngestContext
from lanportfolj.ingest.validate import validate_table


def parse_file(
    filename: str,
    data: bytes,
    context: IngestContext,
    progress: Callable[[int, int], None] | None = None,
) -> ParseResult:
    """Read a CSV or XLSX upload and validate it against ``context``.

    Returns the rows that passed and all issues found (file-level ones such as ``file-too-large``
    or ``missing-column`` stop before row checks). ``progress(done, total)`` is called as rows are
    checked. The import may proceed only when ``result.ok``.
    """
    try:
        table = read_table(filename, data, context)
    except ReadError as error:
        return ParseResult(file=filename, issues=[error.issue])
    total = table.frame.height
    if any(issue.severity == "error" for issue in table.issues):
        return ParseResult(file=filename, issues=table.issues, total_rows=total)
    if total == 0:
        issue = make_issue(
            "empty-file", message_key="no-data-rows", row=table.header_row, file=filename
        )
        return ParseResult(file=filename, issues=[*table.issues, issue], total_rows=0)
    rows, issues = validate_table(table.frame, context, file=filename, progress=progress)
    issues = [*table.issues, *issues]
    if not rows and not any(issue.severity == "error" for issue in issues):
        # Every row was an unfilled template row: nothing to import is a mistake, not a success.
        issues.append(
            make_issue(
                "empty-file", message_key="no-data-rows", row=table.header_row, file=filename
            )
        )
    return ParseResult(file=filename, rows=rows, issues=issues, total_rows=total)
