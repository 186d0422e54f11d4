"""pandas and polars DataFrames, pyarrow Tables and RecordBatchReaders, read in chunks.

None of the three libraries is a dependency: an object is recognised by its type's module, and
the library is only used through the object the caller already has. Each chunk of
``SOURCE_CHUNK_ROWS`` rows is turned into Python values at once (much faster than cell by cell),
missing values (NaN, NaT, NA, null) become ``None``, and rows are numbered by position (0-based).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.sources._arrow import batch_dicts, batches_dicts, numbered_batches
from omnisend_sdk.sources._base import record_dicts
from omnisend_sdk.sources._chunked import ChunkedSource


def type_of(obj: object) -> tuple[str, str]:
    """The top-level module and the name of ``obj``'s type: how optional libraries' objects are
    recognised without importing the libraries."""
    kind = type(obj)
    return kind.__module__.split(".", 1)[0], kind.__name__


def frame_kind(obj: object) -> str | None:
    """``"pandas"``, ``"polars"``, ``"arrow"`` or ``"arrow-reader"`` for a supported object."""
    module, name = type_of(obj)
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    if module == "pyarrow" and name == "RecordBatchReader":
        return "arrow-reader"
    return None


class FrameSource(ChunkedSource):
    """A DataFrame or Arrow data as rows, converted ``chunk_rows`` at a time.

    Rows are numbered by position, from 0. A RecordBatchReader streams: it is read once, with no
    row count; everything else is in memory already, counted and read again at will.

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
        if kind == "pandas":
            columns: Iterable[str] = (str(column) for column in frame.columns)
        elif kind == "polars":
            columns = frame.columns
        else:
            columns = frame.schema.names
        streamed = kind == "arrow-reader"
        super().__init__(
            columns,
            row_count=None if streamed else len(frame),
            reiterable=not streamed,
            chunk_rows=chunk_rows,
            what="an Arrow RecordBatchReader",
        )
        self._frame = frame
        self._kind = kind

    @property
    def kind(self) -> str:
        """What the frame is: ``"pandas"``, ``"polars"``, ``"arrow"`` or ``"arrow-reader"``."""
        return self._kind

    def arrow_batches(
        self, columns: Sequence[str], encoded: Collection[str] = ()
    ) -> Iterator[tuple[int, Any]] | None:
        """Arrow data as record batches of ``columns``, each with its first row's number: how
        ``map_rows`` maps them a batch at a time. ``None`` for a pandas or polars DataFrame,
        which hands over columns of values instead (:meth:`column_batches`)."""
        frame, size = self._frame, self._chunk_rows
        if self._kind == "arrow":
            batches = (
                frame.to_batches(max_chunksize=size) if hasattr(frame, "to_batches") else [frame]
            )
        elif self._kind == "arrow-reader":
            batches = frame
        else:
            return None
        return numbered_batches(
            batches, first=self.first_number, once=self._once, columns=self._columns, wanted=columns
        )

    def column_batches(self, columns: Sequence[str]) -> Iterator[tuple[int, list[Any]]] | None:
        """A pandas or polars DataFrame's rows as columns of Python values, a chunk at a time,
        each with its first row's number: how ``map_rows`` maps them a batch at a time (see
        ``ColumnBatchSource`` in ``omnisend_sdk.mapping._columnar``). Only ``columns`` are
        converted, to the values the frame's rows hold: the rows and their issues are those of
        the row-by-row path by construction, and no pyarrow is needed (a polars frame made
        Arrow record batches was slower, and pyarrow's import costs 40 MB). ``None`` for Arrow
        data, which hands over record batches (:meth:`arrow_batches`)."""
        if self._kind == "polars":
            slices = self._frame.iter_slices(n_rows=self._chunk_rows)
            return polars_columns(slices, columns, self.first_number)
        if self._kind != "pandas":
            return None
        # A name that repeats means its last column, as in a row's values.
        last = {name: place for place, name in enumerate(self._columns)}
        return self._pandas_columns([last[name] for name in columns])

    def _pandas_columns(self, places: list[int]) -> Iterator[tuple[int, list[Any]]]:
        frame, size = self._frame, self._chunk_rows
        for start in range(0, len(frame), size):
            chunk = _python_values(frame.iloc[start : start + size, places])
            yield (
                self.first_number + start,
                [chunk.iloc[:, place].tolist() for place in range(len(places))],
            )

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        frame, size, columns = self._frame, self._chunk_rows, self._columns
        if self._kind == "pandas":
            for start in range(0, len(frame), size):
                chunk = _python_values(frame.iloc[start : start + size])
                yield record_dicts(columns, chunk.itertuples(index=False, name=None))
        elif self._kind == "polars":
            for chunk in frame.iter_slices(n_rows=size):
                yield record_dicts(columns, chunk.rows())
        elif self._kind == "arrow" and hasattr(frame, "to_batches"):
            yield from batches_dicts(columns, frame.to_batches(max_chunksize=size))
        elif self._kind == "arrow":
            yield batch_dicts(columns, frame)  # a RecordBatch: one chunk already
        else:
            yield from batches_dicts(columns, frame)


def _python_values(chunk: Any) -> Any:
    """A chunk of a pandas DataFrame with its cells as Python objects (pandas' own scalars such
    as ``Timestamp`` stay), missing values (NaN, NaT, NA) as ``None``."""
    chunk = chunk.astype(object)
    return chunk.where(chunk.notna(), None)


def polars_columns(
    frames: Iterable[Any], columns: Sequence[str], first: int = 0
) -> Iterator[tuple[int, list[Any]]]:
    """The values of ``columns`` in each of a run of polars DataFrames (``Series.to_list``: the
    values ``DataFrame.rows`` gives), with the number of its first row, rows numbered on from
    ``first``. A polars frame has no repeated column names."""
    for frame in frames:
        if len(frame):
            yield first, [frame.get_column(name).to_list() for name in columns]
            first += len(frame)
