"""What a source hands to the mapper: numbered rows, and the protocol every source follows.

Defined here, beside the mapper, so that :mod:`omnisend_sdk.sources` depends on the mapping and
never the other way round: the mapper stays pure and can be fed by any object with this shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple, Protocol, runtime_checkable

from omnisend_sdk.mapping._issues import RowIssue


class Row(NamedTuple):
    """One row of a source.

    Attributes:
        number: Where the row is in its source: the line it starts on in a CSV or JSON Lines file
            (1-based, as editors count), its position in a DataFrame, table or iterable (0-based,
            as Python indexes).
        values: Column name -> value; ``None`` when the source could not read the row (a ragged
            CSV line, bad JSON), in which case ``issues`` says why.
        issues: Problems the source met reading the row.
    """

    number: int
    values: Mapping[str, object] | None
    issues: tuple[RowIssue, ...] = ()


@runtime_checkable
class RowSource(Protocol):
    """A stream of rows whose columns are known before the first row is read."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in source order."""
        ...

    @property
    def row_count(self) -> int | None:
        """How many rows the source holds, when that is cheap to know; else ``None``."""
        ...

    @property
    def reiterable(self) -> bool:
        """Whether iterating again reads the rows again (needed by the "last" duplicate policy)."""
        ...

    def __iter__(self) -> Iterator[Row]:
        """Read the rows, in source order."""
        ...
