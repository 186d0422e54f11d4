"""Mapping a whole source: rows in source order, unreadable rows reported, duplicates handled."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping._columnar import columnar_rows
from omnisend_sdk.mapping._dedupe import (
    SeenEmails,
    keep_first,
    keep_last,
    last_rows,
)
from omnisend_sdk.mapping._first_rows import CompactSeenEmails
from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._records import RecordFingerprints, map_with_records
from omnisend_sdk.mapping._row import Row, RowSource
from omnisend_sdk.mapping._spec import MappingSpec


def map_rows(
    mapping: MappingSpec,
    source: RowSource,
    *,
    seen: SeenEmails | None = None,
    records: RecordFingerprints | None = None,
) -> Iterator[MappedRow]:
    """Map every row of a source: one :class:`MappedRow` per source row, in source order.

    The columns are checked first (a :class:`MappingError` before any row is read). Rows the
    source could not read come out rejected with the source's issues; repeated emails come out
    rejected with a ``duplicate_email`` issue naming the row that is sent.

    Args:
        mapping: The mapping (a :class:`~omnisend_sdk.mapping.ContactMapping`).
        source: A row source (see :func:`omnisend_sdk.sources.open_source`).
        seen: Where the "first" policy keeps the emails sent so far (by default a
            :class:`CompactSeenEmails` sized for the source's row count: 14 MB at a million).
        records: Fingerprint the rows' records, and skip mapping records known to map as
            before (a refresh's unchanged members). The "first" policy only.

    Raises:
        MappingError: A column the mapping needs is missing; or the ``"last"`` duplicate policy
            on a source that can only be read once.
    """
    mapper = RowMapper.bind(mapping, source.columns)
    if mapping.duplicates == "first":
        return itertools.chain.from_iterable(_first_wins(mapper, source, seen, records))
    if not source.reiterable:
        raise MappingError(
            'duplicates="last" reads the source twice, but this source can be read only once'
            " (an iterator or generator): pass a list, a file or a DataFrame, or use"
            ' duplicates="first"'
        )
    return _last_wins(mapper, source)


def _last_wins(mapper: RowMapper, source: RowSource) -> Iterator[MappedRow]:
    last = last_rows(mapper, source)
    rows = columnar_rows(mapper, source)
    mapped = _mapped(mapper, source) if rows is None else itertools.chain.from_iterable(rows)
    yield from keep_last(mapped, last)


def _first_wins(
    mapper: RowMapper,
    source: RowSource,
    seen: SeenEmails | None,
    records: RecordFingerprints | None,
) -> Iterator[Iterator[MappedRow]]:
    """The rows, repeated emails dropped, in parts: a batch's rows each when the source hands
    over record batches or columns of values (mapped by :mod:`omnisend_sdk.mapping._columnar`:
    the same rows, faster), else all of them row by row.

    A generator, so that the source is read when the first row is asked for, as before.
    """
    if seen is None:
        seen = CompactSeenEmails(source.row_count or 0)
    batches = columnar_rows(mapper, source, seen, records)
    if batches is not None:
        yield from batches
    elif records is not None:
        yield keep_first(map_with_records(mapper, source, records), seen)
    else:
        yield keep_first(_mapped(mapper, source), seen)


def _mapped(mapper: RowMapper, rows: Iterable[Row]) -> Iterator[MappedRow]:
    map_row = mapper.map
    for number, values, issues in rows:
        if values is None:
            yield MappedRow(number, None, issues)
        else:
            yield map_row(number, values, issues)
