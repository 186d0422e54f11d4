"""CSV files, streamed: delimiter sniffed, UTF-8 with a per-line fallback, every row checked.

Encoding: every line is decoded as UTF-8 (a byte order mark is skipped). A line that is not valid
UTF-8 is decoded with the fallback encoding (``CSV_FALLBACK_ENCODING``, cp1252: what spreadsheet
programs on Windows write) and its row gets a ``decoded_with_fallback`` warning. The decision is
made per line rather than per file because files are often concatenated from several exports,
and because deciding per file would need a full pass before the first row. A line that neither
encoding can read rejects its row (``undecodable_line``). With an explicit ``encoding=`` there is no
fallback: the file is read strictly in that encoding.

Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files), mixed or not; rows are numbered
by the line they start on, counted that way.

A quoted value may run over several lines. A quote opened and never closed would make the rest
of the file one value, and its rows would vanish into it; so a row that runs over several lines
is taken only when it is well formed: its quotes close before the end of the file, within
``_MAX_ROW_LINES`` lines (checked at each read of the file, so a few hundred more may pass) and
within the csv module's 131,072 characters a value; each closing quote is followed by a
delimiter or the line's end; and it has the header's number of fields. Otherwise its first line,
where the quote opened, is rejected (``unclosed_quote``) and parsing starts again on the next
line, so the lines the quote swallowed are read as the rows they are. Memory stays flat: what a
broken quote holds is bounded by those limits, whatever the size of the file.

A row with more or fewer fields than the header is rejected (``ragged_row``): its values cannot be
matched to columns without guessing. Blank lines are skipped; they hold no data.

Most lines of most files are plain: a whole row with no quote, no NUL and no decoding note, which
the csv module reads exactly as ``line.rstrip("\\r\\n").split(delimiter)``. Those are told apart
a block at a time and split so (:meth:`CsvSource.runs`, which a refresh reads unsplit); every
other line goes to the csv module, as all lines did before.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import IO, TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypeAlias

from omnisend_sdk._constants import CSV_FALLBACK_ENCODING, CSV_SNIFF_BYTES
from omnisend_sdk.mapping import Row, RowIssue
from omnisend_sdk.sources._base import FileSource, SourceError, open_file, source_issue
from omnisend_sdk.sources._lines import DecodedBlock, DecodedLines

if TYPE_CHECKING:
    from _csv import Reader

_SNIFF_DELIMITERS: Final = ",;\t|"
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Most lines one row may run over. No field of a customer profile holds a thousand lines; a
#: quote still open after them was never closed. Bounds the memory a broken quote takes and the
#: lines read twice to recover from it.
_MAX_ROW_LINES: Final = 1_000

#: A delimiter that makes no line plain (see :func:`_plain_count`): the csv module treats these
#: apart, or refuses them.
_NOT_PLAIN: Final = '"\r\n\0'
#: Most rows in a batch of columns (see :meth:`CsvSource.column_batches`): enough that the
#: batch's own work is spread thin, few enough that its values stay about a megabyte.
_COLUMN_BATCH_ROWS: Final = 2_048
#: A record: the line it starts on, its fields (``None``: not read) and the issues met.
_Record: TypeAlias = tuple[int, list[str] | None, tuple[RowIssue, ...]]
#: Why the parser was given no more lines in the middle of a record.
_Stop: TypeAlias = Literal["end", "limit"]


class CsvSource(FileSource):
    """A CSV file as a stream of rows, numbered by the line each row starts on (header = line 1).

    The header is read when the source is made, so :attr:`columns` is known before any row: its
    names trimmed, blanks named ``column_N``, repeats suffixed with their position.

    Args:
        path: The file's path, or a binary file object (read once, unless seekable).
        delimiter: The field delimiter; sniffed from the first 64 KiB when not given.
        encoding: Read strictly in this encoding instead of UTF-8 with a per-line fallback.
        fallback_encoding: Encoding for lines that are not UTF-8; ``None`` to reject those rows.

    Raises:
        SourceError: The file cannot be opened, has no header, or its header cannot be read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | IO[bytes],
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        fallback_encoding: str | None = CSV_FALLBACK_ENCODING,
    ) -> None:
        self._path = path
        self._encoding = encoding
        self._fallback = fallback_encoding
        self._read_once = False
        with self._open() as file:
            sample = file.read(CSV_SNIFF_BYTES)
        if encoding is None and sample.startswith(_UTF16_BOMS):
            raise SourceError(
                f"{self.name}: the file is UTF-16; pass encoding='utf-16' or save it as UTF-8"
            )
        self.delimiter = delimiter or _sniff_delimiter(sample, encoding)
        self.blank_lines = 0
        self._columns, self._header_lines = self._read_header()

    @property
    def name(self) -> str:
        """The file's name, for messages."""
        path = self._path
        if isinstance(path, str | os.PathLike):
            return os.fspath(path)
        return str(getattr(path, "name", "<file>"))

    @property
    def reiterable(self) -> bool:
        """True for paths and seekable files."""
        return isinstance(self._path, str | os.PathLike) or self._path.seekable()

    def _open(self) -> AbstractContextManager[IO[bytes]]:
        path = self._path
        if isinstance(path, str | os.PathLike):
            return open_file(path)
        if path.seekable():
            path.seek(0)
        elif self._read_once:
            raise SourceError(f"{self.name}: this file can be read only once")
        self._read_once = True
        return nullcontext(path)  # the caller's file: left open

    def _records(self, file: IO[bytes], width: int | None) -> _Records:
        lines = DecodedLines(file, name=self.name, encoding=self._encoding, fallback=self._fallback)
        return _Records(lines, self.delimiter, width)

    def _read_header(self) -> tuple[tuple[str, ...], int]:
        """The column names and the last line of the header (it may span lines)."""
        with self._open() as file:
            records = self._records(file, None)
            for _number, fields, issues in records:
                if fields is None:
                    # Taking the next line as the header would make a data row the header.
                    problems = "; ".join(issue.message for issue in issues)
                    raise SourceError(f"{self.name}: the header cannot be read ({problems})")
                if any(field.strip() for field in fields):
                    return _column_names(fields), records.end
        raise SourceError(f"{self.name}: no header line")

    def __iter__(self) -> Iterator[Row]:
        """Read the data rows; problems become row issues, never exceptions."""
        columns, width, delimiter = self._columns, len(self._columns), self.delimiter
        blank = delimiter * (width - 1)  # a line of empty fields: no data
        for item in self.runs():
            if not isinstance(item, PlainLines):
                yield item
                continue
            number = item.number
            for line in item.lines:
                text = line.rstrip("\r\n")
                fields = text.split(delimiter)
                if len(fields) == width and text != blank:
                    yield Row(number, dict(zip(columns, fields, strict=True)), ())
                elif (row := self.plain_row(number, fields)) is not None:
                    yield row
                number += 1

    def column_batches(self, columns: Sequence[str]) -> Iterator[tuple[int, list[Any]] | Row]:
        """The rows for ``map_rows``' fast path (see ``ColumnBatchSource`` in
        ``omnisend_sdk.mapping._columnar``): consecutive plain lines as columns of their fields
        (of ``columns``, in that order), up to :data:`_COLUMN_BATCH_ROWS` rows a batch, with
        the number of the first line; every other row as :meth:`__iter__` gives it."""
        positions = [self._columns.index(name) for name in columns]
        return self._column_runs(positions)

    def _column_runs(self, positions: list[int]) -> Iterator[tuple[int, list[Any]] | Row]:
        width, delimiter = len(self._columns), self.delimiter
        blank = delimiter * (width - 1)  # a line of empty fields: no data
        pending: list[list[str]] = []  # the fields of consecutive whole lines, not yet given
        start = 0  # the first one's number

        def given() -> tuple[int, list[Any]]:
            by_column = list(zip(*pending, strict=True))  # transposed in C
            batch = (start, [by_column[position] for position in positions])
            pending.clear()
            return batch

        for item in self.runs():
            if not isinstance(item, PlainLines):
                if pending:
                    yield given()
                yield item
                continue
            texts = [line.rstrip("\r\n") for line in item.lines]
            lines = [text.split(delimiter) for text in texts]
            if pending and start + len(pending) != item.number:
                yield given()  # the lines between were read as rows: not one batch
            if {len(fields) for fields in lines} == {width} and blank not in texts:
                if not pending:
                    start = item.number
                pending += lines
                if len(pending) >= _COLUMN_BATCH_ROWS:
                    yield given()
                continue
            # A line of another width, or a blank one: read as __iter__ reads it.
            for number, (text, fields) in enumerate(zip(texts, lines, strict=True), item.number):
                if len(fields) == width and text != blank:
                    if not pending:
                        start = number
                    pending.append(fields)
                    continue
                if pending:
                    yield given()
                if (row := self.plain_row(number, fields)) is not None:
                    yield row
        if pending:
            yield given()

    def count_rows(self) -> int:
        """The number of rows :meth:`__iter__` gives, counted without making them: a plain
        line counts when it holds any data (a blank one does not), every other row as it comes.

        An export over a cap it must refuse counts the file before sending (``on_limit="fail"``);
        this reads it at the cost of splitting its lines into blocks, not of a dict a row.
        """
        delimiter = self.delimiter
        count = 0
        for item in self.runs():
            if isinstance(item, PlainLines):
                count += sum(1 for line in item.lines if line.rstrip("\r\n").strip(delimiter))
            else:
                count += 1
        return count

    def runs(self) -> Iterator[Row | PlainLines]:
        """The data rows as :meth:`__iter__` reads them, but runs of plain lines left unparsed.

        A plain line holds a whole row and nothing the csv module reads otherwise than
        ``line.rstrip("\\r\\n").split(delimiter)`` (no quote, no NUL, no decoding note): a
        reader that needs only some of a file's rows whole can split them itself, and give the
        others to :meth:`plain_row`. Every other row comes as :meth:`__iter__` gives it.
        """
        width, header_lines = len(self._columns), self._header_lines
        self.blank_lines = 0
        with self._open() as file:
            for item in self._records(file, width).runs():
                if isinstance(item, PlainLines):
                    number, lines = item.number, item.lines
                    if number > header_lines:
                        yield item
                    elif number + len(lines) > header_lines + 1:  # the data after the header
                        data = lines[header_lines + 1 - number :]
                        utf8 = None if item.utf8 is None else "".join(data).encode()
                        yield PlainLines(header_lines + 1, data, utf8)
                    continue
                number, fields, issues = item
                if number <= header_lines:
                    continue
                if fields is None:
                    yield Row(number, None, issues)
                elif (row := self._row(number, fields, issues)) is not None:
                    yield row

    def plain_row(self, number: int, fields: list[str]) -> Row | None:
        """The row of a plain line (see :meth:`runs`) split into ``fields``; ``None`` for a blank
        line, which holds no data and is counted in :attr:`blank_lines`."""
        return self._row(number, fields, ())

    def _row(self, number: int, fields: list[str], issues: tuple[RowIssue, ...]) -> Row | None:
        width = len(self._columns)
        if not any(fields):  # a blank line, or only delimiters: no data
            self.blank_lines += 1
            return None
        if len(fields) == width:
            return Row(number, dict(zip(self._columns, fields, strict=True)), issues)
        ragged = source_issue(
            number, "ragged_row", f"line {number} has {len(fields)} fields, the header has {width}"
        )
        return Row(number, None, (*issues, ragged))


class PlainLines(NamedTuple):
    """Consecutive plain lines of a CSV file (see :meth:`CsvSource.runs`), each one whole row.

    Attributes:
        number: The first line's number.
        lines: The lines, each with its line end.
        utf8: The lines in UTF-8 as read, when the file is read as UTF-8 (what encoding them
            again would give, without doing it); otherwise ``None``.
    """

    number: int
    lines: list[str]
    utf8: bytes | None = None

    def split(self, delimiter: str) -> Iterator[tuple[int, list[str]]]:
        """Each line's number and fields."""
        for number, line in enumerate(self.lines, self.number):
            yield number, line.rstrip("\r\n").split(delimiter)


class _Blocks:
    """The blocks of lines given to the parser, kept while a record may need its lines again.

    An iterator that can stop and go on again: it stops, saying why in :attr:`stop`, when the
    file ends, or when the record being parsed (from line :attr:`start`) has run over
    ``_MAX_ROW_LINES`` lines. The parser asks for lines past a record's end only while a quote
    is open, so a stop in the middle of a record always means an open quote.

    Attributes:
        start: The first line of the record being parsed; set by the reader of the records.
        stop: Why the last ``next()`` gave no block, until the reader clears it.
    """

    def __init__(self, lines: DecodedLines) -> None:
        self._source = lines.blocks()
        self._kept: deque[tuple[int, list[str]]] = deque()  # (first line's number, lines)
        self.next_line = 1  # the number of the next line to come from the file
        self.start = 1
        self.stop: _Stop | None = None

    def __iter__(self) -> _Blocks:
        return self

    def __next__(self) -> list[str]:
        # Asked for more, the parser has taken every line so far: the record has these many.
        if self.next_line - self.start > _MAX_ROW_LINES:
            self.stop = "limit"
            raise StopIteration
        block = next(self._source, None)
        if block is None:
            self.stop = "end"
            raise StopIteration
        kept = self._kept
        while kept and kept[0][0] + len(kept[0][1]) <= self.start:
            kept.popleft()  # wholly before the record being parsed: never read again
        kept.append((self.next_line, block))
        self.next_line += len(block)
        return block

    def taken(self, first: int) -> list[str]:
        """The lines from ``first`` on that have come from the file so far."""
        lines: list[str] = []
        for number, block in self._kept:
            lines.extend(block[max(first - number, 0) :])
        return lines


class _Records:
    """The records of a CSV file with the line each starts on; a broken quote taken apart.

    The parser reads whole blocks of lines, and its count of lines read says where each record
    ends. A record that spans lines but is not a sound one (see the module) is taken apart: its
    first line comes out as a rejected record, and a new parser reads the lines after it again,
    then the rest of the file.

    Args:
        lines: The file's decoded lines.
        delimiter: The field delimiter.
        width: The header's number of fields, or ``None`` while the header is being read.

    Attributes:
        end: The last line of the last record given.
    """

    def __init__(self, lines: DecodedLines, delimiter: str, width: int | None) -> None:
        self._lines = lines
        self._blocks = _Blocks(lines)
        self._delimiter = delimiter
        self._width = width
        self.end = 0

    def __iter__(self) -> Iterator[_Record]:
        for item in self.runs():
            if isinstance(item, PlainLines):
                for number, fields in item.split(self._delimiter):
                    self.end = number
                    yield number, fields, ()
            else:
                yield item

    def runs(self) -> Iterator[PlainLines | _Record]:
        """The records, but runs of plain lines (see :meth:`CsvSource.runs`) left unparsed.

        Plain lines are told apart a block at a time, in C. A line that is not plain starts a
        record for the parser, which reads on from there while the lines are not plain (it
        never reads ahead of the record it gives, so where it stops is where they start again).
        """
        blocks, notes = self._blocks, self._lines
        plain = len(self._delimiter) == 1 and self._delimiter not in _NOT_PLAIN
        lines: list[str] = []  # lines that came from the file and are not read yet...
        at, first = 0, 1  # ...from lines[at], which is line `first`
        reader: Reader | None = None  # a parser at line `first`, when there is one
        before = 0  # the line before the parser's first
        while True:
            if at == len(lines):
                blocks.start = first  # no record open: first is the next line of the file
                block = next(blocks, None)
                if block is None:
                    return
                lines, at, reader = block, 0, None
            count = _plain_count(lines, at, first, notes) if plain else 0
            if count:
                self.end = first + count - 1
                yield _plain_lines(first, lines, at, count)
                at, first, reader = at + count, first + count, None
                continue
            blocks.start = first
            if reader is None:
                rest = itertools.chain(
                    itertools.islice(lines, at, None), itertools.chain.from_iterable(blocks)
                )
                reader, before = self._parser(rest), first - 1
            try:
                fields: list[str] | None = next(reader)
                problem = None
            except StopIteration:  # never: the parser has a line to read
                return
            except csv.Error as err:
                fields, problem = None, str(err)
            end = before + reader.line_num
            listed = blocks.next_line == first - at + len(lines)  # lines ends where the file is
            record, resume, again = self._record_at(first, end, fields, problem)
            if again:  # not a record: the lines after its first are read again
                blocks.stop, reader = None, None
            self.end = resume - 1
            yield record
            if listed and resume - first < len(lines) - at:
                at += resume - first
            else:  # the parser read on into later blocks (or went back): list from there
                lines, at = blocks.taken(resume), 0
            first = resume

    def _record_at(
        self, first: int, end: int, fields: list[str] | None, problem: str | None
    ) -> tuple[_Record, int, bool]:
        """The record the parser read from line ``first`` to ``end``, the line to go on from,
        and whether that is a line the parser read already (the record was an unclosed quote:
        its first line is rejected, the lines after it are read again)."""
        notes = self._lines
        if end == first and not (
            problem or self._blocks.stop or notes.fallback_lines or notes.bad_lines
        ):
            return (first, fields, ()), first + 1, False  # a record of one line, kept cheap
        unclosed = self._unclosed_quote(first, end, fields, problem)
        if unclosed is None:
            return self._record(first, end, fields, problem), end + 1, False
        return (first, None, (*self._line_issues(first, first)[0], unclosed)), first + 1, True

    def _parser(self, lines: Iterator[str]) -> Reader:
        # Lenient: a stray quote inside a one-line row is kept as text, as spreadsheets read it.
        return csv.reader(lines, delimiter=self._delimiter, strict=False)

    def _record(
        self, start: int, end: int, fields: list[str] | None, problem: str | None
    ) -> _Record:
        """A sound record that needs more than the common case: notes on its lines, a problem."""
        issues, bad = self._line_issues(start, end)
        if problem is not None:
            issues.insert(0, source_issue(start, "unreadable_row", f"line {start}: {problem}"))
        return start, None if bad else fields, tuple(issues)

    def _unclosed_quote(
        self, start: int, end: int, fields: list[str] | None, problem: str | None
    ) -> RowIssue | None:
        """The issue for a record that is an unclosed quote, not a row; ``None`` if it is sound."""
        reason = self._why_unsound(start, end, fields, problem)
        if reason is None:
            return None
        return source_issue(
            start,
            "unclosed_quote",
            f"line {start}: a quote opened on this line {reason}: the line is not read",
        )

    def _why_unsound(
        self, start: int, end: int, fields: list[str] | None, problem: str | None
    ) -> str | None:
        stop = self._blocks.stop
        if stop == "end":
            return "is not closed before the end of the file"
        if stop == "limit":
            return f"is not closed within {end - start + 1:,} lines"
        if end == start:
            return None  # the record's quotes closed on its own line
        if fields is None:
            return f"runs to line {end}, where the row cannot be parsed: {problem}"
        if self._width is not None and len(fields) != self._width:
            return (
                f"runs to line {end} and makes a row of {len(fields)} fields where the header"
                f" has {self._width}"
            )
        lines = self._blocks.taken(start)[: end - start + 1]
        misplaced = _misplaced_quote(lines, self._delimiter)
        if misplaced is not None:
            return f"runs to line {end}, where a quote is misplaced ({misplaced})"
        return None

    def _line_issues(self, start: int, end: int) -> tuple[list[RowIssue], bool]:
        """The decoding issues of lines ``start`` to ``end`` (one record), and whether any of
        its lines could not be decoded at all."""
        fallback_lines, bad_lines = self._lines.take_notes(end)
        encodings = [self._lines.encoding, self._lines.fallback]
        tried = " nor ".join(encoding for encoding in encodings if encoding)
        issues = [
            source_issue(start, "undecodable_line", f"line {line} is not {tried}: row not read")
            for line in bad_lines
        ]
        issues.extend(
            source_issue(
                start,
                "decoded_with_fallback",
                f"line {line} is not UTF-8; read as {self._lines.fallback}",
                severity="warning",
            )
            for line in fallback_lines
        )
        return issues, bool(bad_lines)


def _plain_lines(first: int, lines: list[str], at: int, count: int) -> PlainLines:
    """The ``count`` plain lines from ``lines[at]`` (line ``first``) on, with their bytes when
    ``lines`` is a block read as UTF-8."""
    block = lines if isinstance(lines, DecodedBlock) else None
    if at == 0 and count == len(lines):
        return PlainLines(first, lines, None if block is None else block.utf8)
    utf8 = None if block is None or block.utf8_lines is None else block.utf8_lines[at : at + count]
    return PlainLines(first, lines[at : at + count], None if utf8 is None else b"".join(utf8))


def _plain_count(lines: list[str], at: int, first: int, notes: DecodedLines) -> int:
    """How many lines from ``lines[at]`` (line ``first``) on are plain: each a whole row that the
    csv module would read as ``line.rstrip("\\r\\n").split(delimiter)``.

    Such a line holds no quote (nor the line ends and NUL the parser also treats apart), is no
    longer than the csv module's limit on a value, and was decoded without a note.
    """
    limit = csv.field_size_limit()
    noted = notes.fallback_lines or notes.bad_lines  # on this block's lines: none read yet
    if not at and not noted:  # the whole block at once, in C
        utf8 = lines.utf8 if isinstance(lines, DecodedBlock) else None
        if utf8 is not None:  # its bytes: searched faster than its text, and never copied
            if b'"' not in utf8 and b"\0" not in utf8 and len(utf8) <= limit:
                return len(lines)  # (bytes are at least as many as characters)
        else:
            text = "".join(lines)
            if '"' not in text and "\0" not in text and len(text) <= limit:
                return len(lines)
    marked = {*notes.fallback_lines, *notes.bad_lines}
    count = 0
    for line in itertools.islice(lines, at, None):
        if '"' in line or "\0" in line or len(line) > limit or first + count in marked:
            break
        count += 1
    return count


def _misplaced_quote(lines: list[str], delimiter: str) -> str | None:
    """What a strict parser finds wrong with a record the lenient one read, if anything.

    The two differ only on a closing quote followed by more text. In a record that spans lines
    that is how a stray quote shows: it opened a value that the next quote closed, lines later,
    where that quote opened a value of its own.
    """
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as err:
        return str(err)
    return None


def _sniff_delimiter(sample: bytes, encoding: str | None) -> str:
    # The sniffer counts delimiters per \n-ended line: give it \n whatever the file's line ends.
    text = sample.decode(encoding or "utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    cut = text.rfind("\n")
    if cut > 0:
        text = text[:cut]  # a partial last line would mislead the sniffer
    try:
        return csv.Sniffer().sniff(text, delimiters=_SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _column_names(fields: list[str]) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for position, field in enumerate(fields, start=1):
        name = field.strip().lstrip("\ufeff") or f"column_{position}"
        if name in seen:
            name = f"{name} (column {position})"
        seen.add(name)
        names.append(name)
    return tuple(names)
