"""The lines of a text file's bytes, decoded a block at a time: the layer under the CSV parser.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``: Unix, Windows and old Mac files, and files
that mix them (concatenated exports). Each line is decoded on its own, so that one line in
another encoding costs that line a fallback, not the file.

Lines come in blocks (the whole lines of one read of the file) so that splitting and decoding
run in C, a block at a time, instead of a Python step per line.
"""

from __future__ import annotations

import codecs
import io
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Final

from omnisend_sdk.sources._base import SourceError

#: Bytes read at a time: a block of lines. Memory holds one block, plus the lines a quote open
#: over several blocks needs (see the CSV source).
_CHUNK_BYTES: Final = 16_384
#: Encodings whose lines cannot be found by looking for ``\n`` and ``\r`` bytes (those bytes
#: occur inside their characters): decoded by a text stream instead.
_WIDE_ENCODINGS: Final = ("utf-16", "utf-32")
#: Lines of a UTF-16 or UTF-32 file given at a time.
_WIDE_BLOCK_LINES: Final = 1_000


def split_blocks(file: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``file`` in blocks that end where a line ends (the last one: where the file
    does), a line being ended by ``\\n``, ``\\r\\n`` or a lone ``\\r``."""
    # Pieces of a line not known to have ended: joined once its end arrives, so a long line
    # costs linear time however many reads it spans.
    unfinished: list[bytes] = []
    while chunk := file.read(_CHUNK_BYTES):
        # A final \r may be the first half of a \r\n: cut in two, it would count as two ends.
        end = len(chunk) - 1 if chunk.endswith(b"\r") else len(chunk)
        cut = max(chunk.rfind(b"\n", 0, end), chunk.rfind(b"\r", 0, end)) + 1
        if cut == 0:
            unfinished.append(chunk)
            continue
        if unfinished:
            unfinished.append(chunk[:cut])
            yield b"".join(unfinished)
            unfinished = []
        else:
            yield chunk[:cut]
        if cut < len(chunk):
            unfinished.append(chunk[cut:])
    if unfinished:
        yield b"".join(unfinished)


class DecodedBlock(list[str]):
    """A block of lines, decoded, and its bytes when those are the lines in UTF-8.

    When every line was read as UTF-8, the bytes are what encoding the lines again would give:
    a reader can search or hash them without doing it.

    Attributes:
        utf8: The block's bytes, or ``None`` when a line was not read as UTF-8.
        utf8_lines: The same, line by line (each with its end).
    """

    __slots__ = ("utf8", "utf8_lines")

    def __init__(self, lines: Iterable[str], utf8: bytes | None, utf8_lines: list[bytes]) -> None:
        super().__init__(lines)
        self.utf8 = utf8
        self.utf8_lines = utf8_lines if utf8 is not None else None


class DecodedLines:
    """A byte stream's lines as text, each decoded on its own, numbered from 1.

    Every line is read in ``encoding`` (a UTF-8 byte order mark is dropped). A line that is not
    is read in ``fallback`` and its number noted in :attr:`fallback_lines`; a line neither reads
    is decoded with replacement characters (so that parsing goes on past it) and its number noted
    in :attr:`bad_lines`. Notes are made a block ahead of the reader of the lines, who takes
    those of the lines it has read with :meth:`take_notes`.

    Args:
        file: The bytes, read once from where they are.
        name: The file's name, for messages.
        encoding: The encoding of every line; ``None`` for UTF-8 with ``fallback``.
        fallback: The encoding of lines that are not UTF-8, when ``encoding`` is ``None``.
    """

    def __init__(
        self, file: IO[bytes], *, name: str, encoding: str | None, fallback: str | None
    ) -> None:
        self._file = file
        self._name = name
        self.encoding = "utf-8" if encoding is None else encoding
        self.fallback = fallback if encoding is None else None
        # Numbers of the lines noted, in increasing order, until the reader takes them.
        self.fallback_lines: list[int] = []
        self.bad_lines: list[int] = []

    def blocks(self) -> Iterator[list[str]]:
        """The lines, each with its line end, a block at a time (a :class:`DecodedBlock` when
        the file is not UTF-16 or UTF-32).

        Raises:
            SourceError: A UTF-16 or UTF-32 file (named by ``encoding``) holds bytes that are
                not in its encoding: its lines cannot be told apart past them.
        """
        if codecs.lookup(self.encoding).name.startswith(_WIDE_ENCODINGS):
            return self._wide_blocks()
        return self._narrow_blocks()

    def take_notes(self, last: int) -> tuple[list[int], list[int]]:
        """Remove and return the notes on lines up to ``last``: (fallback lines, bad lines)."""
        return _take(self.fallback_lines, last), _take(self.bad_lines, last)

    def _narrow_blocks(self) -> Iterator[DecodedBlock]:
        decode = _decoder(self.encoding)
        utf8 = codecs.lookup(self.encoding).name == "utf-8"
        number = 1  # of the block's first line
        for raw in split_blocks(self._file):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # noqa: PLW2901 - it names the encoding
            lines = raw.splitlines(keepends=True)
            try:
                texts = DecodedBlock(map(decode, lines), raw if utf8 else None, lines)
            except UnicodeDecodeError:
                texts = DecodedBlock(
                    (self._decode(at, line) for at, line in enumerate(lines, start=number)),
                    None,
                    lines,
                )
            number += len(texts)
            yield texts

    def _decode(self, number: int, raw: bytes) -> str:
        """One line: in the encoding, else in the fallback, else with replacement characters."""
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError:
            pass
        if self.fallback is not None:
            try:
                text = raw.decode(self.fallback)
            except UnicodeDecodeError:
                pass
            else:
                self.fallback_lines.append(number)
                return text
        self.bad_lines.append(number)
        return raw.decode("utf-8", "replace")

    def _wide_blocks(self) -> Iterator[list[str]]:
        # A text stream with newline="" ends lines where split_blocks does, and keeps the ends.
        text = io.TextIOWrapper(self._file, encoding=self.encoding, newline="")
        block: list[str] = []
        number = 0
        try:
            while True:
                try:
                    line = text.readline()
                except UnicodeDecodeError as err:
                    if block:
                        yield block  # the rows before the bytes are read, as they come
                    raise SourceError(
                        f"{self._name}: after line {number}, bytes that are not"
                        f" {self.encoding}: {err.reason}"
                    ) from err
                if not line:
                    break
                number += 1
                block.append(line)
                if len(block) == _WIDE_BLOCK_LINES:
                    yield block
                    block = []
            if block:
                yield block
        finally:
            text.detach()  # the binary file belongs to the caller's with-block


def _decoder(encoding: str) -> Callable[[bytes], str]:
    """A C-level function decoding a line: ``map`` runs it without a Python frame per line."""
    if codecs.lookup(encoding).name == "utf-8":
        return bytes.decode  # UTF-8 is its default, and the fastest call
    decode: Callable[[bytes], str] = operator.methodcaller("decode", encoding)
    return decode


def _take(numbers: list[int], last: int) -> list[int]:
    """Remove and return the leading numbers up to ``last`` (the list is in increasing order)."""
    cut = 0
    while cut < len(numbers) and numbers[cut] <= last:
        cut += 1
    taken = numbers[:cut]
    del numbers[:cut]
    return taken
