"""pandas and polars DataFrames, pyarrow Tables and RecordBatchReaders, read in chunks.

None of the three libraries is a dependency: an object is recognised by its type's module, and
the library is only used through the object the caller already has. Each chunk of
``SOURCE_CHUNK_ROWS`` rows is turned into Python values at once (much faster than cell by cell),
missing values (NaN, NaT, NA, null) become ``None``, and rows are numbered by position (0-based).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.mapping import Row


def frame_kind(obj: object) -> str | None:
    """``"pandas"``, ``"polars"``, ``"arrow"`` or ``"arrow-reader"`` for a supported object."""
    module = type(obj).__module__.split(".", 1)[0]
    name = type(obj).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    if module == "pyarrow" and name == "RecordBatchReader":
        return "arrow-reader"
    return None


class FrameSource:
    """A DataFrame or Arrow data as rows, converted ``chunk_rows`` at a time.

    Args:
        frame: A pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader.
        chunk_rows: Rows converted to Python values at a time.

    Raises:
        TypeError: For any other object.
    """

    def __init__(self, frame: Any, *, chunk_rows: int = SOURCE_CHUNK_ROWS) -> None:
        kind = frame_kind(frame)
        if kind is None:
            raise TypeError(f"not a DataFrame or Arrow table: {type(frame).__name__}")
        self._frame = frame
        self._kind = kind
        self._chunk_rows = chunk_rows
        self._consumed = False
        if kind == "pandas":
            self._columns = tuple(str(column) for column in frame.columns)
        elif kind == "polars":
            self._columns = tuple(frame.columns)
        else:
            self._columns = tuple(frame.schema.names)

    @property
    def columns(self) -> tuple[str, ...]:
        """The frame's column names (as text)."""
        return self._columns

    @property
    def row_count(self) -> int | None:
        """The number of rows; ``None`` for a RecordBatchReader."""
        return None if self._kind == "arrow-reader" else len(self._frame)

    @property
    def reiterable(self) -> bool:
        """False for a RecordBatchReader, which streams once."""
        return self._kind != "arrow-reader"

    def __iter__(self) -> Iterator[Row]:
        """The rows, chunk by chunk."""
        columns = self._columns
        number = 0
        for chunk in self._chunks():
            for values in chunk:
                yield Row(number, dict(zip(columns, values, strict=True)))
                number += 1

    def _chunks(self) -> Iterator[Iterable[tuple[Any, ...]]]:
        frame, size = self._frame, self._chunk_rows
        if self._kind == "pandas":
            for start in range(0, len(frame), size):
                chunk = frame.iloc[start : start + size].astype(object)
                chunk = chunk.where(chunk.notna(), None)
                yield chunk.itertuples(index=False, name=None)
        elif self._kind == "polars":
            for chunk in frame.iter_slices(n_rows=size):
                yield chunk.rows()
        elif self._kind == "arrow":
            for batch in (
                frame.to_batches(max_chunksize=size) if hasattr(frame, "to_batches") else [frame]
            ):
                yield _arrow_rows(batch)
        else:
            if self._consumed:
                return
            self._consumed = True
            for batch in frame:
                yield _arrow_rows(batch)


def _arrow_rows(batch: Any) -> Iterator[tuple[Any, ...]]:
    columns = [column.to_pylist() for column in batch.columns]
    return zip(*columns, strict=True)
