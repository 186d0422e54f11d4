"""Any iterable of rows: a list of dicts, a generator, a list of SQLAlchemy ``Row``s or named
tuples, or tuples with the column names given."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from omnisend_sdk._constants import QUERY_FETCH_ROWS
from omnisend_sdk.mapping import Row
from omnisend_sdk.sources._base import (
    ReadOnce,
    is_record,
    no_column_names,
    record_names,
    source_issue,
)

_NO_ROW: Final = object()


class IterableSource:
    """Rows from any iterable, numbered by position (0-based, as Python indexes).

    Each item is a mapping of column name -> value, or a record of values by position (a tuple,
    a list, a ``Row``) when the column names are known: from the first record (a named tuple's or
    a SQLAlchemy ``Row``'s ``_fields``, a ``sqlite3.Row``'s ``keys()``) or from ``columns=``.

    A collection with a length (a list, a tuple) is counted and can be read again. Anything else
    (a generator, a cursor-like object) is read exactly once: ``iter()`` is called on it once, its
    first row is kept when peeked for the column names, and a second read raises.

    Args:
        rows: The rows.
        columns: The column names; by default the first row's keys or field names.

    Raises:
        SourceError: The rows are plain tuples and no ``columns`` were given.
    """

    def __init__(self, rows: Iterable[object], *, columns: Iterable[str] | None = None) -> None:
        # Only a collection is known to give its rows again. Anything else gets one iter() call:
        # a one-shot iterable that is not its own iterator (a result wrapper) would lose the
        # rows an extra iter() call read.
        self._collection: Collection[object] | None = None
        self._once: ReadOnce | None = None
        if isinstance(rows, Collection) and not isinstance(rows, Iterator):
            self._collection = rows
            head = next(iter(rows), _NO_ROW)
        else:
            self._once = ReadOnce("this iterable")
            stream = iter(rows)
            head = next(stream, _NO_ROW)
            # The row peeked at for the column names is handed back first when read.
            self._stream = stream if head is _NO_ROW else itertools.chain((head,), stream)
        self._columns, self._by_position = _column_names(head, columns)

    @property
    def columns(self) -> tuple[str, ...]:
        """The given column names, or the first row's."""
        return self._columns

    @property
    def row_count(self) -> int | None:
        """``len(rows)`` for collections; ``None`` for anything read once."""
        return len(self._collection) if self._collection is not None else None

    @property
    def reiterable(self) -> bool:
        """True for collections; false for generators, iterators and other one-shot iterables."""
        return self._once is None

    def __iter__(self) -> Iterator[Row]:
        """The rows; an item that is not a row becomes a rejected row with an issue.

        Raises:
            SourceError: A one-shot iterable is read a second time.
        """
        return itertools.starmap(self._row, enumerate(self._items()))

    def column_batches(self, columns: Sequence[str]) -> Iterator[tuple[int, list[Any]] | Row]:
        """Runs of mappings as columns of their values (``mapping.get(name)``, what the row
        mapper reads from a row), up to :data:`QUERY_FETCH_ROWS` rows at a time, each with its
        first row's number: how ``map_rows`` maps them a batch at a time (see
        ``ColumnBatchSource`` in ``omnisend_sdk.mapping._columnar``). An item that is not a
        mapping comes between them as the row :meth:`__iter__` makes of it. Reads the rows."""
        return self._column_runs(iter(self._items()), columns)

    def _items(self) -> Iterable[object]:
        """The items, once for a one-shot iterable (a second read raises ``SourceError``)."""
        if self._once is not None:
            self._once.claim()
        return self._stream if self._collection is None else self._collection

    def _column_runs(
        self, items: Iterator[object], columns: Sequence[str]
    ) -> Iterator[tuple[int, list[Any]] | Row]:
        first = 0
        while chunk := list(itertools.islice(items, QUERY_FETCH_ROWS)):
            start = 0  # the first item of the chunk not given yet
            for place, item in enumerate(chunk):
                if not isinstance(item, Mapping):
                    if place > start:
                        yield first + start, _columns_of(chunk[start:place], columns)
                    yield self._row(first + place, item)
                    start = place + 1
            if start < len(chunk):
                yield first + start, _columns_of(chunk[start:] if start else chunk, columns)
            first += len(chunk)

    def _row(self, number: int, item: object) -> Row:
        if isinstance(item, Mapping):
            return Row(number, item)
        if self._by_position and is_record(item):
            values = list(item)
            if len(values) == len(self._columns):
                return Row(number, dict(zip(self._columns, values, strict=True)))
            message = f"row {number} has {len(values)} values for {len(self._columns)} columns"
            return Row(number, None, (source_issue(number, "ragged_row", message),))
        message = f"a {type(item).__name__}, not a mapping of column -> value"
        return Row(number, None, (source_issue(number, "not_a_mapping", message),))


def _columns_of(rows: list[Any], columns: Sequence[str]) -> list[Any]:
    """The values of ``columns`` in a run of mappings, a list a column."""
    return [[row.get(name) for row in rows] for name in columns]


def _column_names(head: object, given: Iterable[str] | None) -> tuple[tuple[str, ...], bool]:
    """The columns, and whether records are read by position."""
    if given is not None:
        return tuple(str(name) for name in given), True
    if isinstance(head, Mapping):
        return tuple(str(key) for key in head), False
    if head is _NO_ROW or not is_record(head):
        return (), False  # no rows, or items that are not rows: each is reported when read
    names = record_names(head)
    if names is None:
        raise no_column_names(f"the rows are {type(head).__name__}s without column names")
    return names, True
