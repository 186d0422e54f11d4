"""polars LazyFrames, run by polars' streaming engine and read a chunk at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.sources._base import record_dicts
from omnisend_sdk.sources._chunked import ChunkedSource
from omnisend_sdk.sources._frames import polars_columns, type_of


def is_lazy_frame(obj: object) -> bool:
    """A polars ``LazyFrame`` (recognised by its type's module and name, polars not imported)."""
    return type_of(obj) == ("polars", "LazyFrame")


class LazyFrameSource(ChunkedSource):
    """A polars LazyFrame (``pl.scan_parquet(...)``, ``pl.scan_csv(...)``...), run once in chunks.

    The query runs in polars' streaming engine (``collect_batches``), which hands over chunks of
    about ``chunk_rows`` rows in order, so the whole result is never in memory. polars without
    ``collect_batches`` (before 1.34) collects ``slice(offset, chunk_rows)`` after slice: flat
    memory too, but a query that must see every row first (a sort) runs once per slice.

    Rows are numbered by position from 0, as in the DataFrame the query would collect. A lazy
    query is read once, with no row count: running it again may give its rows in another order
    (a ``group_by`` does not keep order), and counting would run it.

    Args:
        frame: The LazyFrame.
        chunk_rows: Rows per chunk.
    """

    def __init__(self, frame: Any, *, chunk_rows: int = SOURCE_CHUNK_ROWS) -> None:
        # collect_schema() resolves the columns without running the query; polars before 1.0
        # has only .columns, which later versions warn about (it resolves the schema too).
        columns = (
            frame.collect_schema().names() if hasattr(frame, "collect_schema") else frame.columns
        )
        super().__init__(
            columns,
            chunk_rows=chunk_rows,
            what="a polars LazyFrame",
        )
        self._frame = frame

    def column_batches(self, columns: Sequence[str]) -> Iterator[tuple[int, list[Any]]]:
        """The query's chunks as columns of Python values, each with its first row's number:
        how ``map_rows`` maps them a batch at a time (see ``ColumnBatchSource`` in
        ``omnisend_sdk.mapping._columnar``, and :meth:`FrameSource.column_batches`). Runs the
        query (it is read once)."""
        if self._once is not None:
            self._once.claim()
        return polars_columns(self._frames(), columns, self.first_number)

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        for frame in self._frames():
            yield record_dicts(self._columns, frame.rows())

    def _frames(self) -> Iterator[Any]:
        frame, size = self._frame, self._chunk_rows
        if hasattr(frame, "collect_batches"):
            yield from frame.collect_batches(chunk_size=size, maintain_order=True)
            return
        for offset in itertools.count(0, size):
            chunk = frame.slice(offset, size).collect()
            if not len(chunk):
                return
            yield chunk
