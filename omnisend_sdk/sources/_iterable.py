"""Any iterable of mappings (a list of dicts, a generator, a database cursor yielding dicts)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sized

from omnisend_sdk.mapping import Row
from omnisend_sdk.sources._base import source_issue


class IterableSource:
    """Mappings as rows, numbered by position (0-based, as Python indexes).

    Args:
        rows: Mappings of column name -> value. A list, tuple or other collection can be read
            again; an iterator or generator only once.
        columns: The column names; by default the keys of the first row (peeked, not lost).
    """

    def __init__(
        self, rows: Iterable[Mapping[str, object]], *, columns: Iterable[str] | None = None
    ) -> None:
        self._rows = rows
        self._once = iter(rows) is rows  # an iterator: reading it consumes it
        self._first: list[object] = []
        if columns is None:
            # Peek at the first row; an iterator keeps it to hand back first when read.
            head: list[object] = list(itertools.islice(iter(rows), 1))
            if self._once:
                self._first = head
            first = head[0] if head else {}
            columns = [str(key) for key in first] if isinstance(first, Mapping) else []
        self._columns = tuple(columns)
        self._consumed = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The given column names, or the first row's keys."""
        return self._columns

    @property
    def row_count(self) -> int | None:
        """``len(rows)`` for collections; ``None`` for iterators."""
        return len(self._rows) if isinstance(self._rows, Sized) else None

    @property
    def reiterable(self) -> bool:
        """False for iterators and generators."""
        return not self._once

    def __iter__(self) -> Iterator[Row]:
        """The rows; an item that is not a mapping becomes a rejected row with an issue."""
        if self._once:
            if self._consumed:
                return
            self._consumed = True
            items: Iterable[object] = itertools.chain(self._first, self._rows)
        else:
            items = self._rows
        for number, item in enumerate(items):
            if isinstance(item, Mapping):
                yield Row(number, item)
            else:
                message = f"a {type(item).__name__}, not a mapping of column -> value"
                yield Row(number, None, (source_issue(number, "not_a_mapping", message),))
