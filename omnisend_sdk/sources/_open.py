"""``open_source``: any supported object to a row source, chosen by type or file extension."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from omnisend_sdk.mapping import RowSource
from omnisend_sdk.sources._base import SourceError
from omnisend_sdk.sources._csv import CsvSource
from omnisend_sdk.sources._frames import FrameSource, frame_kind
from omnisend_sdk.sources._iterable import IterableSource
from omnisend_sdk.sources._jsonl import JsonLinesSource

_CSV: Final = frozenset({".csv", ".tsv", ".txt"})
_JSON_LINES: Final = frozenset({".jsonl", ".ndjson", ".jsonlines"})


def open_source(obj: object, **options: Any) -> RowSource:
    """A row source for ``obj``, without reading more than its header.

    - a :class:`~omnisend_sdk.mapping.RowSource`: itself;
    - a path (``str`` or ``PathLike``) ending in ``.csv``, ``.tsv`` or ``.txt``:
      :class:`CsvSource` (``.tsv`` with a tab delimiter); in ``.jsonl``, ``.ndjson`` or
      ``.jsonlines``: :class:`JsonLinesSource`;
    - a pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader:
      :class:`FrameSource`;
    - any other iterable of mappings: :class:`IterableSource`.

    Args:
        obj: What to read.
        **options: Passed to the source's constructor (``delimiter=``, ``encoding=``...).

    Raises:
        SourceError: An unknown file extension, a missing file, or an object that is not a
            source of rows.
    """
    if isinstance(obj, RowSource):
        return obj
    if isinstance(obj, str | os.PathLike):
        path = Path(obj)
        suffix = path.suffix.lower()
        if suffix in _CSV:
            if suffix == ".tsv":
                options.setdefault("delimiter", "\t")
            return CsvSource(path, **options)
        if suffix in _JSON_LINES:
            return JsonLinesSource(path, **options)
        raise SourceError(
            f"cannot tell the format of {path.name!r} from its extension: use .csv, .tsv or"
            " .jsonl, or make the source yourself (CsvSource, JsonLinesSource)"
        )
    if frame_kind(obj) is not None:
        return FrameSource(obj, **options)
    if isinstance(obj, Mapping | bytes | bytearray):
        raise SourceError(
            f"a {type(obj).__name__} is not a source of rows: pass a list of rows, a path or a"
            " DataFrame"
        )
    if isinstance(obj, Iterable):
        return IterableSource(obj, **options)
    raise SourceError(f"cannot read rows from a {type(obj).__name__}")
