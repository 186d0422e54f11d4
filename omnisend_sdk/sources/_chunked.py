"""The frame of every source read a chunk at a time: numbering, the once-only rule, the size."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.mapping import Row
from omnisend_sdk.sources._base import ReadOnce


class ChunkedSource(ABC):
    """Rows read ``chunk_rows`` at a time from a frame, a file, a stream or a query result.

    Memory holds one chunk in its library's own form (an Arrow batch, a fetched list of database
    rows) and one row as a dict, however many rows the source holds. Subclasses say where the
    chunks come from; this class numbers the rows and keeps a one-shot source from being read
    twice.

    Args:
        columns: The column names, known before any row is read.
        row_count: The number of rows, when the source knows it without being read.
        reiterable: Whether reading again gives the same rows in the same order (by default a
            source is read once: reading it again is refused, never silently empty).
        chunk_rows: Rows fetched (or converted to Python values) at a time.
        what: The source, as messages name it.
    """

    #: The number of the first row: positions in data count from 0, as Python indexes do.
    first_number: ClassVar[int] = 0

    def __init__(
        self,
        columns: Iterable[str],
        *,
        what: str,
        row_count: int | None = None,
        reiterable: bool = False,
        chunk_rows: int = SOURCE_CHUNK_ROWS,
    ) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be 1 or more, got {chunk_rows}")
        self._columns = tuple(columns)
        self._row_count = row_count
        self._chunk_rows = chunk_rows
        self._once = None if reiterable else ReadOnce(what)

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in source order."""
        return self._columns

    @property
    def row_count(self) -> int | None:
        """The number of rows when known without reading them; else ``None``."""
        return self._row_count

    @property
    def reiterable(self) -> bool:
        """Whether the rows can be read again, the same rows in the same order."""
        return self._once is None

    def __iter__(self) -> Iterator[Row]:
        """The rows, numbered from :attr:`first_number` in source order.

        Raises:
            SourceError: A source that can be read only once is read a second time.
        """
        if self._once is not None:
            self._once.claim()
        values = itertools.chain.from_iterable(self._chunks())
        return map(Row, itertools.count(self.first_number), values)

    @abstractmethod
    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        """The rows' values, a chunk of about ``chunk_rows`` rows at a time."""
