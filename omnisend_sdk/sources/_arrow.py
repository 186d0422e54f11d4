"""Arrow record batches as rows: what the Arrow, Parquet and DuckDB sources share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from omnisend_sdk.sources._base import ReadOnce, record_dicts


def batch_dicts(columns: Sequence[str], batch: Any) -> Iterator[dict[str, object]]:
    """The rows of a ``pyarrow.RecordBatch`` (or Table) as dicts; nulls become ``None``.

    Converted a column at a time, which is several times faster than cell by cell.
    """
    values = [column.to_pylist() for column in batch.columns]
    return record_dicts(columns, zip(*values, strict=True))


def batches_dicts(
    columns: Sequence[str], batches: Iterable[Any]
) -> Iterator[Iterator[dict[str, object]]]:
    """Each batch of a stream of record batches as a chunk of dicts."""
    return (batch_dicts(columns, batch) for batch in batches)


def numbered_batches(
    batches: Iterable[Any],
    *,
    first: int,
    once: ReadOnce | None,
    columns: Sequence[str],
    wanted: Sequence[str],
    by_name: bool = False,
) -> Iterator[tuple[int, Any]]:
    """What a source's ``arrow_batches(wanted)`` returns (see ``ArrowBatchSource`` in
    ``omnisend_sdk.mapping._columnar``, which maps them): each record batch cut to the
    ``wanted`` columns, in that order, with the number of its first row, rows numbered on from
    ``first``. A source read once is claimed now, as iterating its rows would claim it.

    Args:
        batches: The source's record batches.
        first: The number of the first row.
        once: The guard of a source read once; ``None`` for one read again at will.
        columns: The names of the batches' columns, as the source's rows name them: a name
            that repeats means its last column, as in a row's dict.
        wanted: The columns to keep.
        by_name: Find the wanted columns by the batches' own names (batches read with only the
            wanted columns, which have no repeats), not by position in ``columns``.
    """
    if once is not None:
        once.claim()
    where = {name: position for position, name in enumerate(columns)}
    positions = None if by_name else [where[name] for name in wanted]
    return _numbered(iter(batches), first, positions, list(wanted))


def _numbered(
    batches: Iterator[Any], first: int, positions: list[int] | None, names: list[str]
) -> Iterator[tuple[int, Any]]:
    for batch in batches:
        if positions is None:
            found = [batch.schema.get_field_index(name) for name in names]
            if -1 in found:
                raise ValueError(f"the record batch lacks a column of {names}: {batch.schema}")
        picked = [batch.column(position) for position in positions or found]
        yield first, type(batch).from_arrays(picked, names=names)
        first += batch.num_rows
