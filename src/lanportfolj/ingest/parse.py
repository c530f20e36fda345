"""``parse_file``: one uploaded file in, validated rows and every issue out. Never raises on bad input."""

from __future__ import annotations

from collections.abc import Callable

from lanportfolj.ingest.issues import cap_issues, group_thousands, make_issue
from lanportfolj.ingest.normalise import clean_text
from lanportfolj.ingest.readers import ReadError, read_table
from lanportfolj.ingest.result import ParseResult
from lanportfolj.ingest.rules import IngestContext
from lanportfolj.ingest.validate import validate_table

#: Given the loan references a file names (cells as written, stripped), the context to check it against.
ContextFor = Callable[[list[str]], IngestContext]


def parse_file(
    filename: str,
    data: bytes,
    context: IngestContext,
    progress: Callable[[int, int], None] | None = None,
) -> ParseResult:
    """Read a CSV, XLSX, XLS or ODS upload and validate it against ``context``.

    Returns the rows that passed and all issues found (file-level ones such as ``file-too-large``
    or ``missing-column`` stop before row checks; past :data:`~lanportfolj.ingest.issues.MAX_ISSUES`
    the rest are only counted, in ``more_issues``). ``progress(done, total)`` is called as rows are
    checked. The import may proceed only when ``result.ok``.
    """
    return parse_upload(
        filename, data, limits=context, context_for=lambda _loans: context, progress=progress
    )


def parse_upload(
    filename: str,
    data: bytes,
    *,
    limits: IngestContext,
    context_for: ContextFor,
    progress: Callable[[int, int], None] | None = None,
) -> ParseResult:
    """:func:`parse_file` with the context built after reading, for the loans the file names only.

    ``limits`` supplies the size, zip-bomb and row limits checked before any row is validated; ``context_for`` is
    called once, with the distinct loan cells of a readable file, so a one-row file on a portfolio of
    thousands of loans loads one loan's rules. Its context must cover every loan those cells may name
    (matching is case-insensitive).
    """
    try:
        table = read_table(filename, data, limits)
    except ReadError as error:
        return ParseResult(file=filename, issues=[error.issue])
    total = table.frame.height
    if total > limits.max_rows:
        # refused before any row is checked: the limit is what keeps checking and storing bounded
        issue = make_issue(
            "too-many-rows",
            file=filename,
            rows_sv=group_thousands(total),
            rows_en=group_thousands(total),
            limit_sv=group_thousands(limits.max_rows),
            limit_en=group_thousands(limits.max_rows),
        )
        return ParseResult(file=filename, issues=[issue], total_rows=total)
    if any(issue.severity == "error" for issue in table.issues):
        return ParseResult(file=filename, issues=table.issues, total_rows=total)
    if total == 0:
        issue = make_issue(
            "empty-file", message_key="no-data-rows", row=table.header_row, file=filename
        )
        return ParseResult(file=filename, issues=[*table.issues, issue], total_rows=0)
    loans = (
        table.frame.select(clean_text("loan").drop_nulls().unique().sort()).to_series().to_list()
    )
    context = context_for(loans)
    accepted, issues = validate_table(
        table.frame, context, file=filename, sheet=table.sheet, progress=progress
    )
    issues = [*table.issues, *issues]
    if accepted.height == 0 and not any(issue.severity == "error" for issue in issues):
        # Every row was an unfilled template row: nothing to import is a mistake, not a success.
        issues.append(
            make_issue(
                "empty-file", message_key="no-data-rows", row=table.header_row, file=filename
            )
        )
    kept, more = cap_issues(issues)
    return ParseResult(
        file=filename, issues=kept, more_issues=more, total_rows=total, accepted=accepted
    )
