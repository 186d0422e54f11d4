"""Mapping record batches a column at a time: the fast path of :func:`map_rows`.

Row by row, a warehouse source spends most of its time making a dict of each row and mapping the
dict field by field. A source that can hand over its record batches is mapped here a batch at a
time instead: Parquet files, DuckDB relations, Arrow tables and readers (Arrow batches: see
:class:`ArrowBatchSource`), query results (DB-API cursors, SQLAlchemy results), pandas and
polars frames and CSV files, whose rows are turned into columns of Python values a chunk or a
run of plain lines at a time (see :class:`ColumnBatchSource`):

- only the columns the mapping reads are read, each turned into Python values at once; a
  Parquet file's text columns come dictionary-encoded, as the file stores them, so each row is
  only a position in its row group's dictionary;
- each text and country column's values are worked out once per distinct value and remembered:
  a country column of a few dozen spellings costs a few dozen lookups a run, not one a row;
- emails are checked by one regular expression: the addresses it passes are exactly those that
  :func:`normalise_email` returns lower-cased and otherwise as they are;
- each clean row's contact is put together by a function compiled for the mapping's fields,
  which drops repeated emails as :func:`keep_first` does, the batch's emails looked up at once
  (:func:`~omnisend_sdk.mapping._dedupe.first_rows`).

Only plainly clean rows are put together here. A row with anything the rules would report
(an email the expression does not pass, a text over its limit, an unknown country, a value that
is not text or a whole number) is mapped by :class:`RowMapper` itself from the same values the
row-by-row path would give it, so its contact and issues are the mapper's own. The result is the
row-by-row path's, row for row: the same contacts (the same JSON bytes), the same issues, in the
same order, duplicates dropped alike (tests/mapping/test_columnar.py holds it to that).

Record fingerprints (an export's, for the refreshes after it) are taken a batch at a time too:
the record columns' values joined as :meth:`RecordText.joined` joins
them, each hashed; a batch whose values are not all text or missing fingerprints each row as the
row-by-row path does. A refresh's lookups of known records stay row by row.

Mappings this path does not handle (a function of the row, a joined address, a constant, a phone,
a status, consent, gender, birthdate or custom properties) are mapped row by row, and so are
pandas DataFrames.

pyarrow's compute functions are not used: their first call costs some 30 MB of memory, more
than the whole read adds.
"""

from __future__ import annotations

import importlib
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

from omnisend_sdk._constants import MAX_EMAIL_LENGTH, MAX_EMAIL_LOCAL_LENGTH, MAX_TEXT_LENGTH
from omnisend_sdk._wire import CONTACT_FIELDS, ContactIdentity
from omnisend_sdk.mapping._dedupe import SeenEmails, _dropped, first_rows, first_wins
from omnisend_sdk.mapping._issues import RowIssue
from omnisend_sdk.mapping._mapper import _TEXT_FIELDS, MappedRow, RowMapper
from omnisend_sdk.mapping._postal import POSTAL_CODE_DIGITS, number_written, too_few_digits
from omnisend_sdk.mapping._records import (
    RecordFingerprints,
    RecordText,
    record_text,
)
from omnisend_sdk.mapping._row import Row
from omnisend_sdk.mapping._targets import SOURCE_FIELDS
from omnisend_sdk.mapping._text import MISSING_VALUE_TEXTS, clean_text, repaired_encoding

_ATOM: Final = r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL: Final = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_TLD: Final = r"(?:[a-zA-Z]{2,63}|[xX][nN]--[a-zA-Z0-9-]+)"
#: An address that :func:`normalise_email` returns lower-cased and otherwise as it is: its own
#: expression with capitals allowed (ASCII only: no re.IGNORECASE), nothing around it to trim.
#: Its length limits are checked apart. The repeats are possessive (``++``, ``*+``): an atom
#: and a label hold no dot, so a match never gives back part of one, and failing without trying
#: to is about a fifth faster on a million addresses.
PLAIN_EMAIL: Final = re.compile(rf"{_ATOM}+(?:\.{_ATOM}+)*+@(?:{_LABEL}\.)++{_TLD}")
#: :data:`PLAIN_EMAIL` with no limit on a label's length, whose ``{0,61}`` made every label
#: backtrack (a quarter of the expression's time): a label is alphanumeric runs joined by
#: hyphens, matched without giving anything back. Only an address of :data:`_SHORT_EMAIL`
#: characters or more can hold a label over 63, and those are checked by PLAIN_EMAIL too.
QUICK_EMAIL: Final = re.compile(
    rf"{_ATOM}+(?:\.{_ATOM}+)*+@(?:[a-zA-Z0-9]++(?:-++[a-zA-Z0-9]++)*+\.)++{_TLD}"
)
#: Whole-address length under which no plain address can be too long, have a local part over
#: its limit or a label over 63 characters (a plain domain has at least ``a.bc``).
_SHORT_EMAIL: Final = min(MAX_EMAIL_LENGTH, MAX_EMAIL_LOCAL_LENGTH + 5)
#: The fields this path maps beside the email: the text fields, and the country.
_FIELDS: Final = frozenset({*_TEXT_FIELDS, "country"})
_COUNTRY: Final = CONTACT_FIELDS["country"]
_COUNTRY_CODE: Final = CONTACT_FIELDS["country_code"]
_POSTAL: Final = CONTACT_FIELDS["postal_code"]
_TAGS: Final = CONTACT_FIELDS["tags"]
#: The types of the values this path reads as the mapper does (``bool`` is not ``int`` here).
_PLAIN_TYPES: Final = frozenset({str, int, type(None)})
#: Whole numbers from -_INT64 up to _INT64 (not included) are 64-bit ones.
_INT64: Final = 1 << 63
#: The records of a batch when they are not asked for: 0, "no fingerprint", for every row.
_NO_RECORDS: Final = itertools.repeat(0)
#: Distinct values whose outcome a column remembers. Columns with more (streets) work out the
#: values past these each time they meet them.
_MAX_REMEMBERED: Final = 8192


class _Special:
    """The outcome of a value only :class:`RowMapper` maps: its row is mapped by the mapper."""

    def __repr__(self) -> str:
        return "SPECIAL"


SPECIAL: Final = _Special()
_UNSEEN: Final = object()


class ArrowBatchSource(Protocol):
    """A source that can hand over its rows as Arrow record batches (duck-typed by ``map_rows``).

    ``arrow_batches(columns)`` returns the rows as ``(number of the batch's first row, batch)``
    pairs in source order, each ``pyarrow.RecordBatch`` holding ``columns`` (source column names,
    no repeats), in that order, with the values the source's own rows have for them: a row's
    values are what ``batch.column(i).to_pylist()`` gives. The text columns named in
    ``encoded`` are worth handing over dictionary-encoded where the source has them so (a
    Parquet file stores them so): their values repeat, and are worked out once a distinct value.

    It returns ``None`` when it cannot, having read nothing; otherwise it counts as reading the
    source (a source read once may not be read again).
    """

    def arrow_batches(
        self, columns: Sequence[str], encoded: Collection[str] = ()
    ) -> Iterator[tuple[int, Any]] | None: ...


class ColumnBatchSource(Protocol):
    """A source that can hand over its rows as columns of Python values (duck-typed by
    ``map_rows``): query results, whose rows come fetched as tuples, and CSV files, whose plain
    lines split into lists of text.

    ``column_batches(columns)`` returns the rows in source order as ``(number of the batch's
    first row, values)`` pairs, ``values`` holding one sequence per column of ``columns`` (source
    column names, no repeats), in that order: the values the source's own rows have for that
    column, for rows numbered on from the first. Between them may come a :class:`Row` the
    source read alone, as its rows give it (a CSV line the csv module parsed, or one it could
    not read), mapped as the row-by-row path maps it. ``None`` when it cannot, having read
    nothing; otherwise it counts as reading the source.
    """

    def column_batches(
        self, columns: Sequence[str]
    ) -> Iterator[tuple[int, list[Any]] | Row] | None: ...


def columnar_rows(
    mapper: RowMapper,
    source: object,
    seen: SeenEmails | None = None,
    records: RecordFingerprints | None = None,
) -> Iterator[Iterator[MappedRow]] | None:
    """The source's rows mapped a record batch at a time, or ``None`` to map them row by row.

    ``None`` when the mapping needs anything this path does not handle, or the source can hand
    over neither Arrow record batches nor columns of values. Else each batch's rows, as
    :meth:`RowMapper.map` maps them; with ``seen``, repeated emails dropped as
    :func:`keep_first` drops them; with ``records``, each clean row given its record's
    fingerprint as :func:`~omnisend_sdk.mapping._records.map_with_records` gives it (records
    without a ``known``: a refresh's lookups are made row by row).
    """
    arrow_batches = getattr(source, "arrow_batches", None)
    column_batches = getattr(source, "column_batches", None)
    if not (callable(arrow_batches) or callable(column_batches)):
        return None
    if records is not None and records.known is not None:
        return None
    plan = _Plan.of(mapper, seen, records)
    if plan is None:
        return None
    if callable(arrow_batches):
        batches = arrow_batches(plan.read, plan.encoded)
        if batches is not None:
            # There are Arrow batches: pyarrow is there.
            plan.types = importlib.import_module("pyarrow.types")
            return map(plan.map_batch, batches)
    if callable(column_batches):
        items = column_batches(plan.read)
        if items is not None:
            return map(plan.map_item, items)
    return None


class _Plan:
    """What a mapping reads, how a clean row's contact is put together, and what was learnt."""

    def __init__(
        self,
        mapper: RowMapper,
        email: str,
        texts: list[tuple[str, str]],
        country: str | None,
        *,
        seen: SeenEmails | None,
        records: RecordText | None,
    ) -> None:
        self.mapper = mapper
        mapping = mapper.mapping
        keys = [key for key, _ in texts]
        read = [email, *(column for _, column in texts)]
        if country is not None:
            keys += [_COUNTRY, _COUNTRY_CODE]
            read.append(country)
        #: The source's columns the mapping reads, each once, in the order batches hold them.
        self.read = tuple(dict.fromkeys(read))
        self.email = self.read.index(email)
        #: The columns worth reading dictionary-encoded: all but the email's.
        self.encoded = tuple(column for column in self.read if column != email)
        #: Each text column's position, what its values came to, and the rule they follow.
        self.texts = [
            (self.read.index(column), _Column(), _postal_text_of if key == _POSTAL else _text_of)
            for key, column in texts
        ]
        #: Which of the texts is the postal code (``None``: none is), whose digits a row's
        #: country may say are too few (see ``omnisend_sdk.mapping._postal``).
        self.postal = next((i for i, (key, _) in enumerate(texts) if key == _POSTAL), None)
        self.country = None if country is None else self.read.index(country)
        self.country_column = country or ""
        #: What country values came to, and the code sent for each value sent with a name.
        self.countries = _Column()
        self.codes: dict[object, str] = {}
        self.code_of = self.codes.get  # one object: dictionaries' outcomes are kept by rule
        #: ``pyarrow.types``, once there are Arrow batches (``None`` for columns of values).
        self.types: Any = None
        identity: ContactIdentity = (mapping.send_welcome_message, None, None, None)
        tags = tuple(mapping.tags)
        self.seen = seen
        self.keep = _same if seen is None else first_wins(seen.first_row)
        self.dense = _row_builder(tuple(keys), tags, identity, sparse=False)
        self.sparse = _row_builder(tuple(keys), tags, identity, sparse=True)
        #: How records are fingerprinted (``None``: they are not): their columns' positions in
        #: a batch, and the row-by-row path's function for rows whose values are not all text.
        self.records = records
        self.record_at = [] if records is None else [self.read.index(c) for c in records.columns]
        self.fingerprint = None if records is None else records.fingerprinter()

    @classmethod
    def of(
        cls, mapper: RowMapper, seen: SeenEmails | None, records: RecordFingerprints | None = None
    ) -> _Plan | None:
        """The plan for a mapper whose mapping this path handles, else ``None``."""
        mapping = mapper.mapping
        if mapping.custom_properties or not isinstance(mapping.email, str):
            return None
        texts = []
        country = None
        for name in SOURCE_FIELDS[1:]:  # the text fields in the mapper's order (_TEXT_FIELDS)
            source = getattr(mapping, name)
            if source is None:
                continue
            if name not in _FIELDS or not isinstance(source, str):
                return None
            if name == "country":
                country = mapper.columns[source]
            else:
                texts.append((CONTACT_FIELDS[name], mapper.columns[source]))
        email = mapper.columns[mapping.email]
        # As map_with_records fingerprints them: none when a mapping's records cannot be.
        recorded = (
            None if records is None else record_text(mapper, records.context, records.columns)
        )
        if recorded and not {email, country, *(column for _, column in texts)}.issuperset(
            recorded.columns
        ):
            return None  # a record of other columns than those read (never, for these mappings)
        return cls(mapper, email, texts, country, seen=seen, records=recorded)

    def map_item(self, item: tuple[int, list[Any]] | Row) -> Iterator[MappedRow]:
        """A batch's rows (see :meth:`map_batch`), or a row the source read alone."""
        if not isinstance(item, Row):
            return self.map_batch(item)
        number, values, issues = item
        if values is None:
            return iter((self.keep(MappedRow(number, None, issues)),))
        return iter((self.keep(self._map_values(number, values, issues)),))

    def map_batch(self, numbered: tuple[int, Any]) -> Iterator[MappedRow]:
        """One batch's rows, numbered on from its first row's number."""
        first, batch = numbered
        arrays = batch if self.types is None else batch.columns
        if not all(map(self._plain_type, arrays)):  # values read otherwise: the mapper maps them
            decoded = [_Values.of(array, self.types).decoded() for array in arrays]
            rows = map(self._map_values, itertools.count(first), _dicts(self.read, decoded))
            return map(self.keep, rows)
        columns: list[_Values | None] = [None] * len(arrays)
        special: set[int] = set()
        missing: set[int] = set()
        lists = []
        for position, column, rule in self.texts:
            values = column.values(arrays[position], self.types)
            columns[position] = values
            lists.append(_mark(*column.outcomes(values, rule), special, missing))
        if self.country is not None:
            values = self.countries.values(arrays[self.country], self.types)
            columns[self.country] = values
            names = _mark(*self.countries.outcomes(values, self._country_of), special, missing)
            codes, _ = self.countries.outcomes(values, self.code_of, remember=False)
            if self.postal is not None:
                special.update(_short_postal_codes(lists[self.postal], codes))
            lists += [names, codes]
        emails_in = columns[self.email] or _Values.of(arrays[self.email], self.types)
        columns[self.email] = emails_in
        emails = _emails(emails_in.decoded(), special)
        # Rows the mapper maps itself: the row builder hands them over (their email None).
        ready: dict[int, MappedRow | None] = {}
        records = self._records(columns)  # type: ignore[arg-type]
        if special:
            offsets = sorted(special)
            picked = [column.pick(offsets) for column in columns]  # type: ignore[union-attr]
            map_row = self.mapper.map
            for offset, row in zip(offsets, _dicts(self.read, picked), strict=True):
                mapped = ready[first + offset] = map_row(first + offset, row)
                if records is not None and not mapped.issues:
                    mapped.record = records[offset]
                emails[offset] = None
        build = self.dense
        if missing - special:  # fields left out: the sparse builder, told which rows by None
            build = self.sparse
            ready.update(dict.fromkeys([first + offset for offset in missing - special]))
        numbers = range(first, first + len(emails))
        kept = numbers if self.seen is None else self._first_rows(first, emails, ready)
        return map(
            build,
            numbers,
            emails,
            kept,
            _NO_RECORDS if records is None else records,
            itertools.repeat(ready),
            *lists,
        )

    def _map_values(
        self, number: int, values: Mapping[str, Any], issues: tuple[RowIssue, ...] = ()
    ) -> MappedRow:
        """A row mapped by the mapper, with its record's fingerprint as map_with_records gives
        it (none for a row with an issue, the source's own included)."""
        mapped = self.mapper.map(number, values, issues)
        if self.fingerprint is not None and not mapped.issues:
            mapped.record = self.fingerprint(values)
        return mapped

    def _records(self, columns: list[_Values]) -> list[int] | None:
        """Each row's record fingerprint (``None`` when records are not asked for): the batch's
        text joined and hashed at once, else (values that are not all text) row by row."""
        if self.records is None:
            return None
        values = [columns[position].decoded() for position in self.record_at]
        count = len(values[0])
        texts = RecordText.joined(values, count)
        if count and texts[0] is None:  # a value not of text, or holding a separator: row by row
            assert self.fingerprint is not None
            names = self.records.columns
            rows = zip(*values, strict=True)
            return [self.fingerprint(dict(zip(names, row, strict=True))) for row in rows]
        return self.records.digests(texts)

    def _first_rows(
        self, first: int, emails: list[Any], ready: dict[int, MappedRow | None]
    ) -> list[int | None]:
        """Each row's first row of its email (its own when the email is new to ``seen``), the
        batch's emails looked up at once; ``None`` for a row sent or rejected whatever the other
        rows hold (no email, or rejected), as :func:`first_wins` passes them."""
        assert self.seen is not None
        checked: list[str | None] = emails
        if any(row is not None for row in ready.values()):  # rows the mapper mapped
            checked = list(emails)
            for number, row in ready.items():
                if row is not None:
                    checked[number - first] = row.email if row.ok else None
        return first_rows(self.seen, checked, first)

    def _plain_type(self, column: Any) -> bool:
        """Whether a column's values are all text, whole numbers or null (``str``, ``int``,
        ``None``), which this path reads as the mapper does."""
        types = self.types
        if types is None:  # values already: their own types say
            return set(map(type, column)) <= _PLAIN_TYPES
        kind = column.type
        if types.is_dictionary(kind):
            kind = kind.value_type
        is_view = getattr(types, "is_string_view", None)  # pyarrow 16 and later
        return bool(
            types.is_string(kind)
            or types.is_large_string(kind)
            or types.is_integer(kind)
            or types.is_null(kind)
            or (is_view is not None and is_view(kind))
        )

    def _country_of(self, value: object) -> str | _Special | None:
        """The country name the mapper sends for a value (``None``: none; the code goes to
        :attr:`codes`), or ``SPECIAL`` when it reports something about it (unknown)."""
        fields: dict[str, Any] = {}
        issues: list[RowIssue] = []
        self.mapper._map_country(0, {self.country_column: value}, fields, issues)
        if issues:
            return SPECIAL
        if not fields:
            return None
        # Kept for every value sent with a name (the rows read it from here): recognised
        # spellings are few, whatever the column holds.
        self.codes[value] = fields[_COUNTRY_CODE]
        name: str = fields[_COUNTRY]
        return name


def _dicts(names: Sequence[str], columns: list[list[Any]]) -> Iterator[dict[str, Any]]:
    """Rows as the row-by-row path hands them to the mapper (with only the columns it reads)."""
    return (dict(zip(names, record, strict=True)) for record in zip(*columns, strict=True))


def _emails(values: list[Any], special: set[int]) -> list[Any]:
    """The column's addresses lower-cased; the rows whose address is not plainly valid (see
    :data:`PLAIN_EMAIL`) are added to ``special``."""
    match = QUICK_EMAIL.fullmatch
    emails = [value.lower() if type(value) is str and match(value) else None for value in values]
    if None in emails:
        special.update(offset for offset, email in enumerate(emails) if email is None)
    if max(map(len, filter(None, emails)), default=0) >= _SHORT_EMAIL:
        for offset, email in enumerate(emails):
            if email is not None and (
                len(email) > MAX_EMAIL_LENGTH
                or email.index("@") > MAX_EMAIL_LOCAL_LENGTH
                or not PLAIN_EMAIL.fullmatch(email)
            ):
                special.add(offset)
    return emails


class _Values:
    """A batch column's values, as Python values: a list of them, or (dictionary-encoded) the
    dictionary's entries and each row's position among them."""

    __slots__ = ("entries", "positions", "values")

    def __init__(self, values: list[Any] | None, entries: list[Any], positions: list[int]) -> None:
        self.values = values
        self.entries = entries
        self.positions = positions

    @classmethod
    def of(cls, array: Any, types: Any, entries: list[Any] | None = None) -> _Values:
        """A column's values; ``entries``: its dictionary's, when known already."""
        if types is None:  # a column of values already
            return cls(list(array), [], [])
        if not types.is_dictionary(array.type):
            return cls(array.to_pylist(), [], [])
        # Never the dictionary array's own to_pylist(), which makes a scalar of each value.
        if entries is None:
            entries = array.dictionary.to_pylist()
        indices = array.indices
        positions: list[int] = indices.to_pylist()
        if indices.null_count:  # a null is the position past the entries, made None
            entries = [*entries, None]
            positions = [len(entries) - 1 if at is None else at for at in positions]
        return cls(None, entries, positions)

    def decoded(self) -> list[Any]:
        """Each row's value."""
        if self.values is not None:
            return self.values
        return list(map(self.entries.__getitem__, self.positions))

    def pick(self, offsets: Iterable[int]) -> list[Any]:
        """The values of the rows at ``offsets``."""
        if self.values is not None:
            return [self.values[offset] for offset in offsets]
        return [self.entries[self.positions[offset]] for offset in offsets]


class _Column:
    """What one column's values came to (each worked out once), kept across batches."""

    __slots__ = ("_dictionary", "_entries", "_per_entry", "seen")

    def __init__(self) -> None:
        #: Values -> outcome, for up to :data:`_MAX_REMEMBERED` values.
        self.seen: dict[object, Any] = {}
        self._dictionary: Any = None
        self._entries: list[Any] = []
        #: The last dictionary's entries' outcomes by rule, and whether any is odd (see _outcomes).
        self._per_entry: dict[Callable[[Any], Any], tuple[list[Any], bool]] = {}

    def values(self, array: Any, types: Any) -> _Values:
        """A batch's values; a dictionary met in the batch before (a Parquet row group's, in
        each of its batches) is not converted again."""
        if types is None or not types.is_dictionary(array.type):
            return _Values.of(array, types)
        dictionary = array.dictionary
        if self._dictionary is None or not dictionary.equals(self._dictionary):
            self._dictionary, self._entries = dictionary, dictionary.to_pylist()
            self._per_entry = {}
        return _Values.of(array, types, self._entries)

    def outcomes(
        self, values: _Values, outcome: Callable[[Any], Any], *, remember: bool = True
    ) -> tuple[list[Any], bool]:
        """Each row's outcome under a rule (one rule a column, when ``remember``), worked out
        once per distinct value (without ``remember``: a rule as fast as a lookup), and whether
        any may be ``None`` or ``SPECIAL``."""
        if values.values is not None:
            if not remember:
                return list(map(outcome, values.values)), True
            return _outcomes(values.values, self.seen, outcome)
        known = self._per_entry.get(outcome)
        if known is None:
            known = (
                _outcomes(self._entries, self.seen, outcome)
                if remember
                else (list(map(outcome, self._entries)), True)
            )
            self._per_entry[outcome] = known
        per_entry, odd = known
        if len(values.entries) > len(per_entry):  # the null's position
            null = outcome(None)
            per_entry = [*per_entry, null]
            odd = odd or null is None or null is SPECIAL
        return list(map(per_entry.__getitem__, values.positions)), odd


def _outcomes(
    values: list[Any], seen: dict[Any, Any], outcome: Callable[[Any], Any]
) -> tuple[list[Any], bool]:
    """Each value's outcome, each distinct value worked out once and remembered (up to
    :data:`_MAX_REMEMBERED` values), and whether any is ``None`` or ``SPECIAL``.

    ``SPECIAL`` is never remembered, so that a value remembered never needs that looking for.
    """
    found = list(map(seen.get, values))  # None: not seen yet, or seen to have no value
    odd = False
    if None in found:
        for offset in [offset for offset, known in enumerate(found) if known is None]:
            value = values[offset]
            known = seen.get(value, _UNSEEN)  # worked out since, or seen to have no value
            if known is _UNSEEN:
                known = outcome(value)
                if known is not SPECIAL and len(seen) < _MAX_REMEMBERED:
                    seen[value] = known
            found[offset] = known
            odd = odd or known is None or known is SPECIAL
    return found, odd


def _mark(found: list[Any], odd: bool, special: set[int], missing: set[int]) -> list[Any]:
    """Add the rows whose outcome is ``SPECIAL`` to ``special``, ``None`` to ``missing``
    (none when not ``odd``)."""
    if odd and None in found:
        missing.update(offset for offset, known in enumerate(found) if known is None)
    if odd and SPECIAL in found:
        special.update(offset for offset, known in enumerate(found) if known is SPECIAL)
    return found


def _text_of(value: object) -> str | _Special | None:
    """A text field's value as the mapper sends it (``None``: left out), or ``SPECIAL`` when
    it reports something about it (a text over its limit) or reads it otherwise (not text or
    a whole number)."""
    if type(value) is str:
        if not value.isascii() and repaired_encoding(value) is not None:
            return SPECIAL  # garbled: the mapper repairs it, with a warning
        text = clean_text(value)
        if len(text) > MAX_TEXT_LENGTH or text in MISSING_VALUE_TEXTS:
            return SPECIAL
        return text or None
    if type(value) is int:
        # What to_text makes of it, never over the limit at 64 bits (Arrow's size). A query's
        # whole number may be as long as Python allows: those the mapper reads itself.
        return str(value) if -_INT64 <= value < _INT64 else SPECIAL
    return None if value is None else SPECIAL


def _postal_text_of(value: object) -> str | _Special | None:
    """:func:`_text_of` for a postal code: a number, or a float's writing of one (``2139.0``), is
    ``SPECIAL`` too, since the mapper puts back the leading zeros it lost by the row's country
    (see ``omnisend_sdk.mapping._postal``)."""
    if type(value) is int:
        return SPECIAL
    text = _text_of(value)
    if type(text) is str and "." in text and number_written(text) is not None:
        return SPECIAL
    return text


def _short_postal_codes(postal_codes: list[Any], country_codes: list[Any]) -> list[int]:
    """The rows whose postal code is digits fewer than their country's codes have: the mapper
    puts back the zeros a spreadsheet dropped, with a warning."""
    lengths = list(map(POSTAL_CODE_DIGITS.get, country_codes, itertools.repeat(0)))
    return [
        offset
        for offset, (code, length) in enumerate(zip(postal_codes, lengths, strict=True))
        # The length first: it rules out nearly every row before a call.
        if type(code) is str and len(code) < length and too_few_digits(code, length)
    ]


def _same(row: MappedRow) -> MappedRow:
    return row


def _row_builder(
    keys: tuple[str, ...],
    tags: tuple[str, ...],
    identity: ContactIdentity,
    *,
    sparse: bool,
) -> Callable[..., MappedRow]:
    """``(number, email, kept, record, ready, *values) -> MappedRow``: a clean row's contact,
    its fields from ``values`` in ``keys`` order, then the tags, as :meth:`RowMapper.map` fills
    them, and its record's fingerprint; dropped as a repeated email, as :func:`keep_first` drops
    it, when ``kept`` (the first row of its email) is another row. A row whose email is ``None``
    is ``ready[number]``, ready made. ``sparse``: rows in ``ready`` (as ``None``) leave out their
    ``None`` values.

    Compiled for the mapping's keys, as ``dataclasses`` compiles ``__init__``: a dict display is
    about twice as fast as ``dict(zip())``, and this runs once a row. The code is made of the
    wire's own field names (never of data) and of names bound here.
    """
    arguments = [f"_{i}" for i in range(len(keys))]
    items = [f"{key!r}: {argument}" for key, argument in zip(keys, arguments, strict=True)]
    if tags:
        items.append(f"{_TAGS!r}: list(tags)")
    lines = [
        f"def build({', '.join(['number', 'email', 'kept', 'record', 'ready', *arguments])}):",
        "    if email is None:",
        "        row = ready[number]",
        "        if kept is None or kept == number:",
        "            return row",
        "        return dropped(row, kept, 'first')",
        f"    fields = {{{', '.join(items)}}}",
    ]
    if sparse:
        lines += [
            "    if number in ready:",
            "        fields = {key: value for key, value in fields.items() if value is not None}",
        ]
    lines += [
        "    row = MappedRow(number, email, (), fields, identity)",
        "    if kept != number:",
        "        return dropped(row, kept, 'first')",
        "    row.record = record",
        "    return row",
    ]
    namespace: dict[str, Any] = {
        "MappedRow": MappedRow,
        "tags": tags,
        "identity": identity,
        "dropped": _dropped,
    }
    exec("\n".join(lines), namespace)  # noqa: S102 - code of field names, see above
    build: Callable[..., MappedRow] = namespace["build"]
    return build
