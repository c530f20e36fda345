"""Borrowers' measurement files: read CSV / XLSX, normalise, validate; write the yearly templates.

Nothing here touches the database: bytes go in, validated rows and a list of issues come out.
"""

from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.parse import parse_file
from lanportfolj.ingest.result import MeasurementRow, ParseResult
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule
from lanportfolj.ingest.template import (
    TemplateLine,
    TemplateSpec,
    write_template_csv,
    write_template_xlsx,
)

__all__ = [
    "ImportIssue",
    "IngestContext",
    "LoanIndicatorRule",
    "MeasurementRow",
    "ParseResult",
    "TemplateLine",
    "TemplateSpec",
    "make_issue",
    "parse_file",
    "write_template_csv",
    "write_template_xlsx",
]
