"""What every source shares: the error type, and the issues a source reports for a row."""

from __future__ import annotations

from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping import RowIssue, Severity


class SourceError(MappingError):
    """A source that cannot be read at all: a missing file, an unknown format, no header.

    Problems with single rows are not raised: they come out as row issues, and reading goes on.
    """


def source_issue(row: int, code: str, message: str, *, severity: Severity = "error") -> RowIssue:
    """An issue about a row as a whole, found while reading it (``field`` is ``"row"``)."""
    return RowIssue(row=row, field="row", severity=severity, code=code, message=message)
