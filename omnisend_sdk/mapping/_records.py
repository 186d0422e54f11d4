"""Fingerprints of source records: a record met again under the same mapping maps the same way.

A refresh reads the whole segment, most of it unchanged since the last run, and mapping and
validating a row costs several times reading it. A 64-bit fingerprint of the values a mapping
reads from a row, keyed by everything else that decides what the row becomes (the mapping, the
columns it binds, the phone rules, the API version, this library's version and the rules'
edition), lets a refresh
recognise a row it mapped cleanly before and skip mapping it again.

Only plain values are fingerprinted: text, whole numbers, booleans and missing values. A row with
anything else (a float, a date, an object) gets 0, "no fingerprint", and is mapped as always; so
does every row of a mapping with a function of the row, since code cannot be fingerprinted.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final, cast

import attrs

from omnisend_sdk._version import __version__
from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._row import Row

#: The edition of the mapping rules: changed with any rule that maps some row differently, so
#: that a refresh maps again the records it fingerprinted under the rules before (and sends
#: what they now map to) rather than take them as known. Between releases the library's version
#: stays the same, so it cannot tell. 2026-12-02: postal codes' lost zeros, missing-value texts,
#: garbled text, birthdates kept as moments or in 1900, wrapped emails.
RULES_EDITION: Final = "2026-12-02"

#: Between two values; a missing value; a number's mark. A value holding one of them as text is
#: told apart by counting them, and gets no fingerprint when the counts do not add up.
_BETWEEN, _MISSING, _NUMBER = "\x1f", "\x1e", "\x1d"

RecordFingerprinter = Callable[[Mapping[str, object]], int]
KnownRecord = Callable[[RowMapper, int, Mapping[str, object], int], MappedRow | None]
"""``(mapper, number, values, record) -> row``: the row, ready, for a record known to map as
before (without mapping it again); ``None`` to map it."""


@attrs.frozen
class RecordFingerprints:
    """Fingerprint each clean row's record, and let ``known`` answer for records met before.

    Attributes:
        context: Whatever besides the mapping decides what a row becomes (the API version).
        known: Answers for known records; ``None`` maps every row.
        columns: The source's columns, in its order: a record's values are taken in that
            order (a CSV reader's, whose lines hold them so: see :class:`RecordText`); by
            name when not given.
    """

    context: str
    known: KnownRecord | None = None
    columns: tuple[str, ...] | None = None


@attrs.frozen
class RecordText:
    """A mapping's record fingerprints, taken from a record's values as text.

    For a reader that holds a row as a list of strings (a CSV line's fields) and can join the
    ones the mapping reads itself, without making a dict of them: the fingerprint of a row of
    text is :meth:`fingerprint` of ``SEPARATOR.join(values of columns)``. Taken in the source's
    order, a line whose every column is read needs only its delimiters replaced. A loop may take it
    inline, from text known to hold none of :attr:`MARKERS`: a copy of :attr:`hashed`, updated
    with the text encoded as UTF-8, its digest as a signed big-endian integer, or 1 for 0.

    Attributes:
        columns: The source columns the mapping reads, in the order their values are joined.
        hashed: The hash of what decides what a record becomes, to go on from with each record.
    """

    SEPARATOR: ClassVar[str] = _BETWEEN
    #: A missing value's text, and the mark before a number's (in a row of other values than
    #: text: see :func:`record_fingerprinter`).
    MISSING: ClassVar[str] = _MISSING
    NUMBER: ClassVar[str] = _NUMBER
    #: Text holding one of these may be ambiguous: see :meth:`fingerprint`.
    MARKERS: ClassVar[str] = _BETWEEN + _MISSING + _NUMBER

    columns: tuple[str, ...]
    hashed: Any

    def digest(self, text: str) -> int:
        """The fingerprint of joined text known not to be ambiguous (never 0)."""
        found = self.hashed.copy()
        found.update(text.encode())
        return int.from_bytes(found.digest(), "big", signed=True) or 1  # 0 means "none"

    @staticmethod
    def joined(columns: Sequence[Sequence[object]], count: int) -> Sequence[bytes | None]:
        """The record text of each of ``count`` rows whose values are ``columns`` (a sequence a
        column), encoded: joined as :func:`record_fingerprinter` joins a row's text and missing
        values. ``None`` for every row when a value is neither text nor missing (values of other
        types are told apart by type, which the row-by-row fingerprint does), or holds a
        separator (it would be ambiguous)."""
        try:
            return RecordText._joined(cast("Sequence[Sequence[str | None]]", columns), count)
        except TypeError:  # a value that is not text: joining it fails
            return [None] * count

    @staticmethod
    def _joined(columns: Sequence[Sequence[str | None]], count: int) -> Sequence[bytes | None]:
        lists: list[Sequence[str]] = []
        missing = 0
        for found in columns:
            nulls = found.count(None) if None in found else 0
            missing += nulls
            lists.append(
                [_MISSING if item is None else item for item in found]
                if nulls
                else cast("Sequence[str]", found)
            )
        joined = lists[0] if len(lists) == 1 else list(map(_BETWEEN.join, zip(*lists, strict=True)))
        # Each separator and missing mark put in once: any more are in a value (ambiguous).
        whole = "".join(joined)
        if (
            whole.count(_BETWEEN) != (len(lists) - 1) * count
            or whole.count(_MISSING) != missing
            or _NUMBER in whole
        ):
            return [None] * count
        return [item.encode() for item in joined]

    def digests(self, texts: Sequence[bytes | None]) -> list[int]:
        """The fingerprint of each joined text, encoded, known not to be ambiguous (see
        :meth:`joined`); 0 for ``None``."""
        start, from_bytes = self.hashed.copy, int.from_bytes
        found = []
        for text in texts:
            if text is None:
                found.append(0)
                continue
            hashed = start()
            hashed.update(text)
            found.append(from_bytes(hashed.digest(), "big", signed=True) or 1)
        return found

    def fingerprinter(self) -> RecordFingerprinter:
        """The function that fingerprints a row's record from its values by column name: text,
        whole numbers, booleans and missing values; 0 for a row holding anything else."""
        return _fingerprinter(self)

    def fingerprint(self, text: str) -> int:
        """The fingerprint of the joined values; 0 when a value holds a marker (ambiguous)."""
        if text.count(_BETWEEN) != len(self.columns) - 1 or _MISSING in text or _NUMBER in text:
            return 0
        return self.digest(text)


def record_text(
    mapper: RowMapper, context: str, columns: Sequence[str] | None = None
) -> RecordText | None:
    """How to fingerprint a record of this mapper from its text, or ``None`` when none can.

    Args:
        mapper: The mapping, bound to the source's columns.
        context: Whatever else decides what a row becomes (the API version, for one).
        columns: The source's columns: the values read are joined in their order (sorted by
            name when not given).
    """
    if not mapper.reads_only_columns:
        return None
    mapping = mapper.mapping
    phones = mapper.phone_rules_name
    if phones == "libphonenumber":  # its metadata decides which numbers are valid
        phones += importlib.metadata.version("phonenumbers")
    place = {column: position for position, column in enumerate(columns or ())}
    read = tuple(sorted(set(mapper.columns.values()), key=lambda name: (place.get(name, -1), name)))
    if not read:
        return None  # nothing read from the row: every row maps alike, nothing to tell apart
    # The order of the values is among what decides: reordered, the same text is another record.
    decided_by = repr(
        (
            __version__,
            RULES_EDITION,
            context,
            repr(mapping),
            sorted(mapper.columns.items()),
            phones,
            read,
        )
    )
    # Hashed in front of every record: a record fingerprinted under anything else differs.
    prefix = hashlib.blake2b(decided_by.encode(), digest_size=16).hexdigest() + _BETWEEN
    # The prefix hashed once: each record goes on from a copy (blake2b of prefix + text, at a
    # third of the cost of hashing both).
    return RecordText(read, hashlib.blake2b(prefix.encode(), digest_size=8))


def record_fingerprinter(
    mapper: RowMapper, context: str, columns: Sequence[str] | None = None
) -> RecordFingerprinter | None:
    """The function that fingerprints a row's record for this mapper, or ``None`` when none can
    (the arguments are :func:`record_text`'s)."""
    texts = record_text(mapper, context, columns)
    return None if texts is None else texts.fingerprinter()


def _fingerprinter(texts: RecordText) -> RecordFingerprinter:
    read, digest, of_text = texts.columns, texts.digest, texts.fingerprint
    values_of = operator.itemgetter(*read) if len(read) > 1 else lambda values: (values[read[0]],)

    def fingerprint(values: Mapping[str, object]) -> int:
        try:  # the common case, a row of text (a CSV file's): joined in one call
            return of_text(_BETWEEN.join(values_of(values)))
        except (TypeError, KeyError):
            return mixed(values)

    def mixed(values: Mapping[str, object]) -> int:
        """A row with missing values or numbers among its text."""
        parts = []
        missing = numbers = 0
        get = values.get
        for column in read:
            value = get(column)
            if type(value) is str:
                parts.append(value)
            elif value is None:
                parts.append(_MISSING)
                missing += 1
            elif type(value) is int or type(value) is bool:
                parts.append(f"{_NUMBER}{value!r}")
                numbers += 1
            else:
                return 0
        text = _BETWEEN.join(parts)
        if (
            text.count(_BETWEEN) != len(parts) - 1
            or text.count(_MISSING) != missing
            or text.count(_NUMBER) != numbers
        ):
            return 0  # a value holds a marker: the text would be ambiguous
        return digest(text)

    return fingerprint


def map_with_records(
    mapper: RowMapper, rows: Iterable[Row], records: RecordFingerprints
) -> Iterator[MappedRow]:
    """Map rows, giving each clean one its record's fingerprint; known records skip the mapper."""
    fingerprint = record_fingerprinter(mapper, records.context, records.columns)
    map_row, known = mapper.map, records.known
    for number, values, issues in rows:
        if values is None:
            yield MappedRow(number, None, issues)
            continue
        record = fingerprint(values) if fingerprint is not None and not issues else 0
        if record and known is not None and (ready := known(mapper, number, values, record)):
            yield ready
            continue
        mapped = map_row(number, values, issues)
        if not mapped.issues:
            mapped.record = record
        yield mapped
