"""Query results: DB-API cursors (sqlite3, DuckDB, psycopg...) and SQLAlchemy results, fetched
in chunks with ``fetchmany``."""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from omnisend_sdk._constants import QUERY_FETCH_ROWS
from omnisend_sdk.sources._base import SourceError, no_column_names, record_dicts
from omnisend_sdk.sources._chunked import ChunkedSource


def is_query_result(obj: object) -> bool:
    """A DB-API cursor (``fetchmany`` and ``description``) or a SQLAlchemy ``Result`` or
    ``MappingResult`` (``fetchmany`` and ``keys()``): recognised by shape, not by import."""
    return callable(getattr(obj, "fetchmany", None)) and (
        hasattr(obj, "description") or callable(getattr(obj, "keys", None))
    )


class CursorSource(ChunkedSource):
    """The rows of an executed query, fetched ``chunk_rows`` at a time with ``fetchmany``.

    Works with any DB-API 2.0 cursor (``sqlite3``, DuckDB, psycopg, mysqlclient...) and with
    SQLAlchemy's ``conn.execute(...)`` and its ``.mappings()``. The column names come from
    ``cursor.description`` or ``result.keys()``; rows may be tuples, ``Row``s or dicts.

    Rows are numbered from 1 in result order, as SQL counts them (``ROW_NUMBER()``): give the
    query an ``ORDER BY`` if the numbers should point at the same rows next time. A query result
    is read once; it has no row count (``cursor.rowcount`` is not the number of rows a SELECT
    returns). The cursor is the caller's: it is not closed. For a server-side database, ask for a
    streaming cursor (SQLAlchemy: ``execution_options(stream_results=True)``), or the database
    driver may fetch the whole result when the query runs.

    Args:
        cursor: An executed cursor, or a SQLAlchemy result.
        chunk_rows: Rows fetched at a time (2,048 by default).

    Raises:
        SourceError: The cursor has no column names (nothing that returns rows was executed).
    """

    first_number: ClassVar[int] = 1

    def __init__(self, cursor: Any, *, chunk_rows: int = QUERY_FETCH_ROWS) -> None:
        super().__init__(
            _column_names(cursor),
            chunk_rows=chunk_rows,
            what="a query result",
        )
        self._cursor = cursor
        # Where each name's values are in a row: a name that repeats means its last column.
        self._positions = {name: position for position, name in enumerate(self._columns)}

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        for _, rows in self._fetched():
            # Dict cursors and .mappings() give mappings already; others give records.
            yield rows if isinstance(rows[0], Mapping) else record_dicts(self._columns, rows)

    def fetched(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """The rows as the cursor fetches them (tuples, database rows or mappings), a chunk at a
        time, each with the number of its first row. Reads the result (a result is read once)."""
        if self._once is not None:
            self._once.claim()
        return self._fetched()

    def values_of(self, row: Any) -> Mapping[str, object]:
        """A fetched row's values by column name (a row of a chunk :meth:`fetched` gives)."""
        if isinstance(row, Mapping):  # dict cursors and .mappings() give mappings already
            return row
        return dict(zip(self._columns, row, strict=False))

    def columns_of(self, first: int, rows: Sequence[Any], names: Sequence[str]) -> list[Any]:
        """The values of the columns ``names`` in a chunk of fetched rows (the first row
        numbered ``first``), a sequence a column. A column name that repeats in the result
        means its last column, as in a row's values.

        Raises:
            SourceError: The rows do not hold a value for each column of the result.
        """
        if isinstance(rows[0], Mapping):
            return [list(map(operator.itemgetter(name), rows)) for name in names]
        width = len(self._columns)
        try:
            by_column = list(zip(*rows, strict=True))  # transposed in C: each column at once
        except ValueError:  # rows of different lengths
            by_column = []
        if len(by_column) != width:
            raise SourceError(
                f"the query result has {width} columns, but rows {first} to"
                f" {first + len(rows) - 1} hold {sorted(set(map(len, rows)))} values"
            )
        return [by_column[self._positions[name]] for name in names]

    def column_batches(self, columns: Sequence[str]) -> Iterator[tuple[int, list[Any]]]:
        """The rows as columns of values, a fetched chunk at a time, for ``map_rows``' fast path
        (see ``ColumnBatchSource`` in ``omnisend_sdk.mapping._columnar``): each chunk's values
        of ``columns``, in that order, with the number of its first row. Reads the result.
        """
        return ((first, self.columns_of(first, rows, columns)) for first, rows in self.fetched())

    def _fetched(self) -> Iterator[tuple[int, Sequence[Any]]]:
        first = self.first_number
        while rows := self._fetch(self._chunk_rows):
            yield first, rows
            first += len(rows)

    def _fetch(self, size: int) -> Any:
        try:
            return self._cursor.fetchmany(size)
        except sqlite3.ProgrammingError as error:
            # In a notebook the export reads on a worker thread, which sqlite3 refuses by default.
            if "same thread" not in str(error):
                raise
            raise SourceError(
                "this sqlite3 cursor can be read only on the thread that opened its connection, "
                "and the export reads on another (in a notebook, or through export_segment_async"
                "'s worker): open the connection with sqlite3.connect(path, "
                "check_same_thread=False)"
            ) from error


def _column_names(cursor: Any) -> tuple[str, ...]:
    if getattr(cursor, "returns_rows", True) is False:  # SQLAlchemy: keys() would raise
        raise SourceError("the statement returns no rows: pass the result of a query")
    keys = getattr(cursor, "keys", None)
    if callable(keys):
        names = tuple(str(name) for name in keys())
    else:
        description = cursor.description
        if description is None:
            raise no_column_names(
                "the cursor has no column names (its description is None: execute a query"
                " that returns rows before passing it)"
            )
        names = tuple(str(column[0]) for column in description)
    if not names:
        raise SourceError("the query result has no columns: pass the result of a query")
    return names
