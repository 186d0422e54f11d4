"""What sources share: the error type, row issues, file handling, the read-once guard, optional
libraries, and turning records (tuples of values) into rows."""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import IO, TypeGuard

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


def optional_module(name: str, *, extra: str, purpose: str) -> ModuleType:
    """Import a library the SDK does not depend on, at the moment a source needs it.

    Imported by name rather than at the top of a module so that installing the SDK never pulls
    in pyarrow and its like, and importing it stays fast.

    Raises:
        SourceError: The library is not installed, saying how to install it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as err:
        package = name.split(".", 1)[0]
        raise SourceError(
            f"{purpose} needs {package}: pip install 'omnisend-sdk[{extra}]'"
        ) from err


class ReadOnce:
    """Guards a source that can be read only once (a cursor, a generator, a stream).

    A second read raises rather than finding no rows: an export that reads nothing must not pass
    for an export of an empty segment.

    Args:
        what: The source, as messages name it ("a database cursor").
    """

    def __init__(self, what: str) -> None:
        self._what = what
        self._read = False

    def claim(self) -> None:
        """Mark the source as read.

        Raises:
            SourceError: It was read before.
        """
        if self._read:
            raise SourceError(
                f"{self._what} can be read only once, and it has been read: make it again (run"
                " the query again), or pass a list, a file or a DataFrame, which can be read"
                " again"
            )
        self._read = True


def no_column_names(problem: str) -> SourceError:
    """The error for rows whose values cannot be matched to columns (plain tuples), saying how
    to give the names."""
    return SourceError(
        f"{problem}, so no value can be matched to a column: pass the database cursor or"
        " SQLAlchemy result itself (not .fetchall()), result.mappings(), or a list of dicts;"
        " or name the columns in order with columns=[...]"
    )


def is_record(item: object) -> TypeGuard[Iterable[object]]:
    """Whether ``item`` is a row of values by position (a tuple, a list, a database row)."""
    return (
        hasattr(item, "__len__")
        and hasattr(item, "__iter__")
        and not isinstance(item, str | bytes | bytearray | Mapping)
    )


def record_names(item: object) -> tuple[str, ...] | None:
    """The column names a record carries: a named tuple's or SQLAlchemy ``Row``'s ``_fields``,
    or ``keys()`` (``sqlite3.Row``); ``None`` for a plain tuple."""
    fields = getattr(item, "_fields", None)
    if isinstance(fields, Sequence):
        return tuple(str(name) for name in fields)
    keys = getattr(item, "keys", None)
    if callable(keys):
        return tuple(str(name) for name in keys())
    return None


def record_dicts(
    columns: Sequence[str], records: Iterable[Iterable[object]]
) -> Iterator[dict[str, object]]:
    """Records as column -> value dicts, made lazily (one row in memory, not a chunk of them)."""
    return map(dict, map(zip, itertools.repeat(columns), records))


class FileSource:
    """What the text file sources share: columns learnt when the source is made, no row count.

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
