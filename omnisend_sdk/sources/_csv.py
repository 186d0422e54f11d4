"""CSV files, streamed: delimiter sniffed, UTF-8 with a per-line fallback, every row checked.

Encoding: every line is decoded as UTF-8 (a byte order mark is skipped). A line that is not valid
UTF-8 is decoded with the fallback encoding (``CSV_FALLBACK_ENCODING``, cp1252: what spreadsheet
programs on Windows write) and its row gets a ``decoded_with_fallback`` warning. The decision is
made per line rather than per file because files are often concatenated from several exports,
and because deciding per file would need a full pass before the first row. A line that neither
encoding can read rejects its row (``undecodable_line``). With an explicit ``encoding=`` there is no
fallback: the file is read strictly in that encoding.

A row with more or fewer fields than the header is rejected (``ragged_row``): its values cannot be
matched to columns without guessing. Blank lines are skipped; they hold no data.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, Final

from omnisend_sdk._constants import CSV_FALLBACK_ENCODING, CSV_SNIFF_BYTES
from omnisend_sdk.mapping import Row, RowIssue
from omnisend_sdk.sources._base import FileSource, SourceError, open_file, source_issue

_SNIFF_DELIMITERS: Final = ",;\t|"
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


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
        SourceError: The file cannot be opened, or has no header.
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

    def _read_header(self) -> tuple[tuple[str, ...], int]:
        with self._open() as file:
            reader = _Records(file, self)
            for _, fields, _ in reader:
                if fields is not None and any(field.strip() for field in fields):
                    return _column_names(fields), reader.lines
        raise SourceError(f"{self.name}: no header line")

    def __iter__(self) -> Iterator[Row]:
        """Read the data rows; problems become row issues, never exceptions."""
        width = len(self._columns)
        columns = self._columns
        self.blank_lines = 0
        with self._open() as file:
            records = _Records(file, self)
            for number, fields, issues in records:
                if number <= self._header_lines:
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


class _Records:
    """The records of a CSV byte stream with the line each starts on, decoding line by line."""

    def __init__(self, file: IO[bytes], source: CsvSource) -> None:
        self._file = file
        self._source = source
        self.lines = 0  # physical lines read so far
        self._fallback_lines: list[int] = []
        self._bad_lines: list[int] = []
        self._line_encoding = "utf-8"

    def _decoded(self) -> Iterator[str]:
        source = self._source
        encoding, fallback = "utf-8", source._fallback
        if source._encoding is not None:
            if codecs.lookup(source._encoding).name.startswith(("utf-16", "utf-32")):
                yield from self._strict(source._encoding)  # lines are not split on b"\n"
                return
            encoding, fallback = source._encoding, None
        self._line_encoding = encoding
        for raw in self._file:
            self.lines += 1
            if self.lines == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # noqa: PLW2901 - the BOM is not data
            try:
                yield raw.decode(encoding)
                continue
            except UnicodeDecodeError:
                pass
            try:
                if fallback is None:
                    raise UnicodeDecodeError(encoding, raw, 0, len(raw), "no fallback")
                text = raw.decode(fallback)
                self._fallback_lines.append(self.lines)
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
                self._bad_lines.append(self.lines)
            yield text

    def _strict(self, encoding: str) -> Iterator[str]:
        text = io.TextIOWrapper(self._file, encoding=encoding, newline="")
        try:
            while True:
                try:
                    line = text.readline()
                except UnicodeDecodeError as err:
                    raise SourceError(
                        f"{self._source.name}: after line {self.lines}, bytes that are not"
                        f" {encoding}: {err.reason}"
                    ) from err
                if not line:
                    return
                self.lines += 1
                yield line
        finally:
            text.detach()  # the binary file belongs to the caller's with-block

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, tuple[RowIssue, ...]]]:
        reader = csv.reader(self._decoded(), delimiter=self._source.delimiter, strict=False)
        while True:
            start = self.lines + 1
            try:
                fields: list[str] | None = next(reader)
                problem = None
            except StopIteration:
                return
            except csv.Error as err:
                fields, problem = None, str(err)
            issues = self._issues(start, problem)
            yield start, (None if fields is not None and self._bad_lines else fields), issues
            self._fallback_lines.clear()
            self._bad_lines.clear()

    def _issues(self, start: int, problem: str | None) -> tuple[RowIssue, ...]:
        issues: list[RowIssue] = []
        if problem is not None:
            issues.append(source_issue(start, "unreadable_row", f"line {start}: {problem}"))
        fallback = self._source._fallback if self._source._encoding is None else None
        tried = f"{self._line_encoding} nor {fallback}" if fallback else self._line_encoding
        for line in self._bad_lines:
            issues.append(
                source_issue(start, "undecodable_line", f"line {line} is not {tried}: row not read")
            )
        for line in self._fallback_lines:
            issues.append(
                source_issue(
                    start,
                    "decoded_with_fallback",
                    f"line {line} is not UTF-8; read as {self._source._fallback}",
                    severity="warning",
                )
            )
        return tuple(issues)


def _sniff_delimiter(sample: bytes, encoding: str | None) -> str:
    text = sample.decode(encoding or "utf-8", "replace")
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
