"""JSON Lines files: one JSON object per line, streamed; a bad line is a row issue, not a stop."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from typing import Final

from omnisend_sdk.mapping import Row
from omnisend_sdk.sources._base import FileSource, open_file, source_issue

#: Lines read ahead to learn the columns: objects need not all have the same keys.
_COLUMN_SCAN_LINES: Final = 1000


class JsonLinesSource(FileSource):
    """A JSON Lines file (``.jsonl``, ``.ndjson``) as rows numbered by line (1-based).

    The columns are the keys of the objects in the first 1,000 lines, in order of appearance;
    a later object may have others (they are read if a mapping names them). Blank lines are
    skipped. A line that is not a JSON object, or not UTF-8, is a rejected row with an issue.

    Args:
        path: The file's path.

    Raises:
        SourceError: The file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self.blank_lines = 0
        columns: dict[str, None] = {}
        for index, row in enumerate(self):
            if row.values is not None:
                columns.update(dict.fromkeys(row.values))
            if index >= _COLUMN_SCAN_LINES:
                break
        self._columns = tuple(columns)

    @property
    def name(self) -> str:
        """The file's path, for messages."""
        return os.fspath(self._path)

    @property
    def reiterable(self) -> bool:
        """Always: the file is opened again."""
        return True

    def __iter__(self) -> Iterator[Row]:
        """Read the rows; bad lines become rejected rows with an issue."""
        file = open_file(self._path)
        self.blank_lines = 0
        with file:
            for number, raw in enumerate(file, start=1):
                bom = number == 1 and raw.startswith(codecs.BOM_UTF8)
                line = raw[len(codecs.BOM_UTF8) :] if bom else raw
                if not line.strip():
                    self.blank_lines += 1
                    continue
                yield _parse(number, line)


def _parse(number: int, line: bytes) -> Row:
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return Row(number, None, (source_issue(number, "undecodable_line", "not UTF-8"),))
    except ValueError as err:
        message = f"not valid JSON: {getattr(err, 'msg', err)}"
        return Row(number, None, (source_issue(number, "invalid_json", message),))
    if not isinstance(value, dict):
        message = f"a JSON {type(value).__name__}, not an object"
        return Row(number, None, (source_issue(number, "not_an_object", message),))
    return Row(number, value)
