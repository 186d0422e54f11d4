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
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, TYPE_CHECKING, Final, Literal, TypeAlias

from omnisend_sdk._constants import CSV_FALLBACK_ENCODING, CSV_SNIFF_BYTES
from omnisend_sdk.mapping import Row, RowIssue
from omnisend_sdk.sources._base import FileSource, SourceError, open_file, source_issue
from omnisend_sdk.sources._lines import DecodedLines

if TYPE_CHECKING:
    from _csv import Reader

_SNIFF_DELIMITERS: Final = ",;\t|"
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Most lines one row may run over. No field of a customer profile holds a thousand lines; a
#: quote still open after them was never closed. Bounds the memory a broken quote takes and the
#: lines read twice to recover from it.
_MAX_ROW_LINES: Final = 1_000

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
        width = len(self._columns)
        columns, header_lines = self._columns, self._header_lines
        self.blank_lines = 0
        with self._open() as file:
            for number, fields, issues in self._records(file, width):
                if number <= header_lines:
                    continue
                if fields is None:
                    yield Row(number, None, issues)
                elif not any(fields):  # a blank line, or only delimiters: no data
                    self.blank_lines += 1
                elif len(fields) == width:
                    yield Row(number, dict(zip(columns, fields, strict=True)), issues)
                else:
                    ragged = source_issue(
                        number,
                        "ragged_row",
                        f"line {number} has {len(fields)} fields, the header has {width}",
                    )
                    yield Row(number, None, (*issues, ragged))


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
        self._next = 1  # the number of the next line to come from the file
        self.start = 1
        self.stop: _Stop | None = None

    def __iter__(self) -> _Blocks:
        return self

    def __next__(self) -> list[str]:
        # Asked for more, the parser has taken every line so far: the record has these many.
        if self._next - self.start > _MAX_ROW_LINES:
            self.stop = "limit"
            raise StopIteration
        block = next(self._source, None)
        if block is None:
            self.stop = "end"
            raise StopIteration
        kept = self._kept
        while kept and kept[0][0] + len(kept[0][1]) <= self.start:
            kept.popleft()  # wholly before the record being parsed: never read again
        kept.append((self._next, block))
        self._next += len(block)
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
        blocks = self._blocks
        reader = self._parser(itertools.chain.from_iterable(blocks))
        start, before = 1, 0  # the next record's first line; the line before the parser's first
        noted_fallback, noted_bad = self._lines.fallback_lines, self._lines.bad_lines
        while True:
            blocks.start = start
            try:
                fields: list[str] | None = next(reader)
                problem = None
            except StopIteration:
                return
            except csv.Error as err:
                fields, problem = None, str(err)
            end = before + reader.line_num
            if end == start and not (problem or blocks.stop or noted_fallback or noted_bad):
                self.end = start
                yield start, fields, ()  # the common case, kept cheap
                start += 1
                continue
            unclosed = self._unclosed_quote(start, end, fields, problem)
            if unclosed is None:
                self.end = end
                yield self._record(start, end, fields, problem)
                start = end + 1
                continue
            # Not a record: read the lines after its first again, then the rest of the file.
            again = blocks.taken(start + 1)
            blocks.stop = None
            reader = self._parser(itertools.chain(again, itertools.chain.from_iterable(blocks)))
            self.end, before = start, start
            yield start, None, (*self._line_issues(start, start)[0], unclosed)
            start += 1

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
