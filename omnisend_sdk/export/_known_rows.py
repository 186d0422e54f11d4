"""The rows a refresh's first pass must map: a source's rows less those known unchanged on sight.

Most rows of a refresh are unchanged, and reading one as a row (a dict of its values) costs more
than all the rest of knowing it. So where a source can hand over its records a run at a time
without making rows of them (a CSV file's plain lines, see :meth:`CsvSource.runs`; an Arrow
source's record batches; a query result's fetched chunks; a pandas or polars frame's chunks of
columns), each record is fingerprinted from its text here, as :class:`RecordText` defines it,
and looked up among the members. When a member was mapped from that record and needs nothing
(what :meth:`Diff.known` asks), the row is counted unchanged on the spot: it is the member's
first row in the source, and admission has room for it. Every other row is made and goes on to
the mapper, which asks :meth:`Diff.known` again and maps it when that says no.

A record's text made here must be the text the mapper's path fingerprints for the same row, or
the lookup misses (and the row is mapped, as it would be anyway): never another record's, since
every value is taken in the same order and a value holding a separator is never taken.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, Final, Protocol

import attrs

from omnisend_sdk.export._members import MemberIndex
from omnisend_sdk.export._seen import SeenEmailKeys
from omnisend_sdk.mapping import ContactMapping, RecordText, Row, RowMapper, RowSource, record_text
from omnisend_sdk.sources import (
    CsvSource,
    CursorSource,
    FrameSource,
    LazyFrameSource,
    PlainLines,
    batch_dicts,
)

#: RecordText.MARKERS, encoded.
_MARKER_BYTES: Final = tuple(marker.encode() for marker in RecordText.MARKERS)


class Reading(Protocol):
    """The first pass, as told of rows known unchanged (``_Reading`` in ``_refresh``)."""

    def room(self) -> int:
        """Rows admission can still take."""
        ...

    def known_unchanged(self, rows: int) -> None:
        """``rows`` rows were read and known unchanged."""
        ...


def known_rows(
    source: RowSource,
    mapping: ContactMapping,
    context: str,
    *,
    members: MemberIndex,
    seen: SeenEmailKeys,
    reading: Reading,
    tagging: bool,
) -> KnownRows | None:
    """The source's rows to map, or ``None`` for a source or mapping that does not let records
    be known on sight (the source is then read as it is).

    Args:
        source: The refresh's source.
        mapping: Its mapping.
        context: What else decides what a row becomes (the API version).
        members: The members, their records and flags.
        seen: The pass's duplicate check.
        reading: Told of the rows known unchanged.
        tagging: Whether membership is marked with the segment tag.
    """
    if not source.columns or mapping.duplicates != "first" or not len(members):
        return None
    texts = record_text(RowMapper.bind(mapping, source.columns), context, record_order(source))
    if texts is None:
        return None
    if isinstance(source, CsvSource):
        return PlainLineRows(source, texts, members, seen, reading, tagging=tagging)
    if isinstance(source, LazyFrameSource) or (
        isinstance(source, FrameSource) and source.kind in ("pandas", "polars")
    ):
        return FrameChunkRows(source, texts, members, seen, reading, tagging=tagging)
    if callable(getattr(source, "arrow_batches", None)):
        return ArrowBatchRows(source, texts, members, seen, reading, tagging=tagging)
    if isinstance(source, CursorSource):
        return QueryChunkRows(source, texts, members, seen, reading, tagging=tagging)
    return None


def record_order(source: RowSource) -> tuple[str, ...]:
    """The order of the values in a record's fingerprint: the source's. An export and the
    refreshes after it must take the same, and a CSV line holds them so."""
    return source.columns


@attrs.define
class KnownRows(ABC):
    """A source's rows less those known unchanged: a row source for the mapper, read once."""

    _source: Any
    _texts: RecordText
    _members: MemberIndex
    _seen: SeenEmailKeys
    _reading: Reading
    _tagging: bool
    # Where the pass stands between runs of records: rows known unchanged, not yet told, and
    # the room admission had when last asked.
    _known: int = 0
    _room: int = 0

    @property
    def columns(self) -> tuple[str, ...]:
        """The source's columns."""
        columns: tuple[str, ...] = self._source.columns
        return columns

    @property
    def row_count(self) -> int | None:
        """Not known."""
        return None

    @property
    def reiterable(self) -> bool:
        """Read once."""
        return False

    @abstractmethod
    def __iter__(self) -> Iterator[Row]:
        """The rows to map, in source order; the others told to the reading as they pass."""

    def _tell(self) -> None:
        """Tell the reading of the rows known unchanged since it was last told."""
        if self._known:
            self._reading.known_unchanged(self._known)
            self._known = 0

    def _run(
        self, number: int, texts: Sequence[bytes | None], row_at: Callable[[int, int], Row | None]
    ) -> Iterator[Row]:
        """The rows to map of a run of records, the first one row ``number``: ``texts`` holds
        each record's text (``None``: not to be known on sight), ``row_at(index, number)``
        makes the row of one (``None``: no row, a blank line).

        One loop with every step inline (each named where it is done otherwise): a call costs
        as much as a step, and a refresh takes these steps for nearly every row.
        """
        members = self._members
        start, from_bytes = self._texts.hashed.copy, int.from_bytes
        table, records = members.record_table()
        mask = len(table) - 1
        flags, seen = members.flags, MemberIndex.SEEN | MemberIndex.EMAIL_SEEN
        need, value = MemberIndex.needs_nothing(tagging=self._tagging)
        first_rows = self._seen.member_rows
        known, room, first = self._known, self._room, number
        for text in texts:
            if text is not None and known < room:
                # The record's fingerprint (RecordText.digest), unsigned: compared with the
                # records' bits read unsigned (the same bits, without a keyword to parse).
                hashed = start()
                hashed.update(text)
                record = from_bytes(hashed.digest()) or 1
                # Its member (MemberIndex.find_record).
                slot = record & mask
                while found := table[slot]:
                    if records[found - 1] == record:
                        break
                    slot = (slot + 1) & mask
                if found:
                    position = found - 1
                    if flags[position] & need == value:  # its email not seen either
                        number += 1
                        first_rows[position] = number  # SeenEmailKeys.first_row_of_member
                        flags[position] |= seen  # that, and MemberIndex.mark_seen
                        known += 1
                        continue
            row = row_at(number - first, number)
            if row is not None:
                self._known = known
                self._tell()
                yield row
                known, room = 0, self._reading.room()
            number += 1
        self._known, self._room = known, room


class PlainLineRows(KnownRows):
    """A CSV file's rows, its plain lines known on sight."""

    def __iter__(self) -> Iterator[Row]:
        self._known, self._room = 0, self._reading.room()
        for item in self._source.runs():
            if isinstance(item, PlainLines):
                yield from self._plain(item)
            else:
                self._tell()
                yield item
                self._room = self._reading.room()
        self._tell()

    def _plain(self, plain: PlainLines) -> Iterator[Row]:
        source: CsvSource = self._source
        lines, delimiter = plain.lines, source.delimiter

        def row_at(index: int, number: int) -> Row | None:
            return source.plain_row(number, lines[index].rstrip("\r\n").split(delimiter))

        return self._run(plain.number, record_texts(plain, source, self._texts), row_at)


class ArrowBatchRows(KnownRows):
    """An Arrow source's rows (Parquet, DuckDB, pyarrow data), its record batches known on
    sight."""

    def __iter__(self) -> Iterator[Row]:
        batches = self._source.arrow_batches(self._source.columns)
        if batches is None:  # it cannot after all, having read nothing: its rows, as they are
            yield from self._source
            return
        self._known, self._room = 0, self._reading.room()
        for number, batch in batches:
            yield from self._batch(number, batch)
        self._tell()

    def _batch(self, number: int, batch: Any) -> Iterator[Row]:
        columns = self._source.columns

        def row_at(index: int, number: int) -> Row:
            (values,) = batch_dicts(columns, batch.slice(index, 1))
            return Row(number, values, ())

        return self._run(number, batch_texts(batch, self._texts.columns), row_at)


class QueryChunkRows(KnownRows):
    """A query result's rows (DB-API cursors, SQLAlchemy results), each fetched chunk known on
    sight."""

    def __iter__(self) -> Iterator[Row]:
        source: CursorSource = self._source
        self._known, self._room = 0, self._reading.room()
        for number, rows in source.fetched():
            yield from self._chunk(number, rows)
        self._tell()

    def _chunk(self, number: int, rows: Sequence[Any]) -> Iterator[Row]:
        source: CursorSource = self._source

        def row_at(index: int, number: int) -> Row:
            return Row(number, source.values_of(rows[index]), ())

        values = source.columns_of(number, rows, self._texts.columns)
        return self._run(number, RecordText.joined(values, len(rows)), row_at)


class FrameChunkRows(KnownRows):
    """A pandas or polars DataFrame's rows, or a LazyFrame's, each chunk of its columns known on
    sight."""

    def __iter__(self) -> Iterator[Row]:
        source: FrameSource | LazyFrameSource = self._source
        # Each column once: a name given twice means its last column, as in a row's values.
        names = tuple(dict.fromkeys(source.columns))
        chunks = source.column_batches(names)
        if chunks is None:  # not a frame of columns after all: its rows, as they are
            yield from source
            return
        record = [names.index(name) for name in self._texts.columns]
        self._known, self._room = 0, self._reading.room()
        for number, values in chunks:
            yield from self._chunk(number, names, values, record)
        self._tell()

    def _chunk(
        self, number: int, names: Sequence[str], values: list[Any], record: Sequence[int]
    ) -> Iterator[Row]:
        def row_at(index: int, number: int) -> Row:
            row = [column[index] for column in values]
            return Row(number, dict(zip(names, row, strict=True)), ())

        texts = RecordText.joined([values[place] for place in record], len(values[0]))
        return self._run(number, texts, row_at)


def batch_texts(batch: Any, columns: Sequence[str]) -> Sequence[bytes | None]:
    """The record text of each row of an Arrow record batch, encoded (see
    :meth:`RecordText.joined`). ``None`` for every row of a batch
    with a column that is not text (its values are told apart by type).

    Joined in Python from each column's values (``to_pylist``, in C): ``pyarrow.compute`` would
    join them faster, but importing it costs more than joining a million rows.
    """
    types = importlib.import_module("pyarrow.types")  # there is a batch: pyarrow is there
    values = [batch.column(batch.schema.get_field_index(name)) for name in columns]
    text = types.is_string, types.is_large_string
    if not all(any(is_text(value.type) for is_text in text) for value in values):
        return [None] * batch.num_rows
    return RecordText.joined([value.to_pylist() for value in values], batch.num_rows)


def record_texts(plain: PlainLines, source: CsvSource, texts: RecordText) -> Sequence[bytes | None]:
    """What :class:`RecordText` hashes for the record of each of a run's plain lines, encoded;
    ``None`` for a line to read as a row (not a whole row of the columns, or blank), and for
    every line of a run where a value may be ambiguous (holds one of
    :attr:`RecordText.MARKERS`, which no real segment does: such a run is simply mapped).

    Made a run at a time: what can be done to all of its lines at once (encoding, replacing the
    delimiters, splitting into lines) is, in C, which leaves a refresh's loop over the lines
    little more than hashing each. The run's bytes as read are used when they are UTF-8.

    When the record is every column in order, a line's text is the line with its delimiters
    replaced, and is given even for a line with too few or too many fields, or a blank one: its
    record cannot be a member's (a member was mapped from a whole row with an email, and no
    value holds a separator), so the lookup sends it on to be read as a row all the same.
    """
    columns, delimiter = source.columns, source.delimiter.encode()
    data = "".join(plain.lines).encode() if plain.utf8 is None else plain.utf8
    if any(marker in data for marker in _MARKER_BYTES):
        return [None] * len(plain.lines)
    between = texts.SEPARATOR.encode()
    if texts.columns == columns:
        return split_lines(data.replace(delimiter, between), len(plain.lines))
    # The record is some of the columns: each line split apart.
    width, pick = len(columns), itemgetter(*(columns.index(name) for name in texts.columns))
    join = between.join if len(texts.columns) > 1 else lambda value: value
    return [
        join(pick(fields)) if len(fields) == width and any(fields) else None
        for fields in (line.split(delimiter) for line in split_lines(data, len(plain.lines)))
    ]


def split_lines(data: bytes, count: int) -> list[bytes]:
    """The ``count`` lines of ``data`` without their ends (each ``\\n``, ``\\r\\n`` or a lone
    ``\\r``, as the source ends lines), split the fastest way their ends allow."""
    if b"\r" not in data:
        end = b"\n"
    elif data.endswith(b"\r\n") or not data.endswith((b"\r", b"\n")):
        end = b"\r\n"  # tried: right when every line but an unended last one ends so
    else:
        end = b""
    if end:
        found = data.split(end)
        if data.endswith(end):
            found.pop()  # the nothing after the last line end
        if len(found) == count:  # as many pieces as lines: every line ended with `end`
            return found
    found = data.splitlines()  # other line ends, or a mix
    if len(found) != count:  # never: the source split the lines at the same ends
        raise AssertionError(f"a run of {count} plain lines split into {len(found)}")
    return found
