"""What sources share: the error type, the issues a source reports for a row, file handling."""

from __future__ import annotations

import os
from typing import IO

from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping import RowIssue, Severity


class SourceError(MappingError):
    """A source that cannot be read at all: a missing file, an unknown format, no header.

    Problems with single rows are not raised: they come out as row issues, and reading goes on.
    """


def source_issue(row: int, code: str, message: str, *, severity: Severity = "error") -> RowIssue:
    """An issue about a row as a whole, found while reading it (``field`` is ``"row"``)."""
    return RowIssue(row=row, field="row", severity=severity, code=code, message=message)


def open_file(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a source file for reading bytes.

    Raises:
        SourceError: The file cannot be opened, saying why.
    """
    try:
        return open(path, "rb")
    except OSError as err:
        raise SourceError(f"cannot open {os.fspath(path)}: {err.strerror}") from err


class FileSource:
    """What the file sources share: columns learnt when the source is made, no cheap row count.

    Attributes:
        blank_lines: Blank lines skipped by the last read (they hold no data).
    """

    _columns: tuple[str, ...]
    blank_lines: int

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, learnt from the start of the file (see the class)."""
        return self._columns

    @property
    def row_count(self) -> int | None:
        """Not known without reading the whole file: ``None``."""
        return None
