"""``open_source``: any supported object to a row source, chosen by its shape or file extension.

Objects of optional libraries are recognised without importing them (by the methods they have,
or their type's module and name), so none of those libraries is a dependency of the SDK.
"""

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
from omnisend_sdk.sources._lazy import LazyFrameSource, is_lazy_frame
from omnisend_sdk.sources._parquet import PARQUET_SUFFIXES, ParquetSource
from omnisend_sdk.sources._query import CursorSource, is_query_result
from omnisend_sdk.sources._relation import RelationSource, is_relation

_CSV: Final = frozenset({".csv", ".tsv", ".txt"})
_JSON_LINES: Final = frozenset({".jsonl", ".ndjson", ".jsonlines"})


def count_rows(source: RowSource) -> int:
    """The rows a source gives, read once more just to count them: a CSV file counts its lines
    without making a row of each (:meth:`CsvSource.count_rows`), any other source is iterated."""
    if isinstance(source, CsvSource):
        return source.count_rows()
    return sum(1 for _ in source)


def open_source(obj: object, **options: Any) -> RowSource:
    """A row source for ``obj``, without reading more than its header or metadata.

    - a :class:`~omnisend_sdk.mapping.RowSource`: itself;
    - a path (``str`` or ``PathLike``) ending in ``.csv``, ``.tsv`` or ``.txt``:
      :class:`CsvSource` (``.tsv`` with a tab delimiter); in ``.jsonl``, ``.ndjson`` or
      ``.jsonlines``: :class:`JsonLinesSource`; in ``.parquet`` or ``.pq``, or a directory:
      :class:`ParquetSource`;
    - a pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader:
      :class:`FrameSource`;
    - a polars LazyFrame: :class:`LazyFrameSource`;
    - a DuckDB relation (``duckdb.sql(...)``): :class:`RelationSource`;
    - a DB-API cursor (``fetchmany`` and ``description``) or a SQLAlchemy result
      (``conn.execute(...)``, ``.mappings()``): :class:`CursorSource`;
    - any other iterable of rows (dicts, SQLAlchemy ``Row``s, named tuples):
      :class:`IterableSource`.

    Args:
        obj: What to read.
        **options: Passed to the source's constructor (``delimiter=``, ``chunk_rows=``...).

    Raises:
        SourceError: An unknown file extension, a missing file, rows without column names, or
            an object that is not a source of rows.
    """
    if isinstance(obj, str | os.PathLike):
        return _open_path(Path(obj), options)
    if frame_kind(obj) is not None:
        return FrameSource(obj, **options)
    if is_lazy_frame(obj):  # before the RowSource check, which would resolve its .columns
        return LazyFrameSource(obj, **options)
    if isinstance(obj, RowSource):
        return obj
    if is_relation(obj):  # before cursors: DuckDB before 2.0 gives relations fetchmany too
        return RelationSource(obj, **options)
    if is_query_result(obj):
        return CursorSource(obj, **options)
    if isinstance(obj, Mapping | bytes | bytearray):
        raise SourceError(
            f"a {type(obj).__name__} is not a source of rows: pass a list of rows, a path or a"
            " DataFrame"
        )
    if isinstance(obj, Iterable):
        return IterableSource(obj, **options)
    raise SourceError(f"cannot read rows from a {type(obj).__name__}")


def _open_path(path: Path, options: dict[str, Any]) -> RowSource:
    suffix = path.suffix.lower()
    if suffix in _CSV:
        if suffix == ".tsv":
            options.setdefault("delimiter", "\t")
        return CsvSource(path, **options)
    if suffix in _JSON_LINES:
        return JsonLinesSource(path, **options)
    if suffix in PARQUET_SUFFIXES or path.is_dir():
        return ParquetSource(path, **options)
    raise SourceError(
        f"cannot tell the format of {path.name!r} from its extension: use .csv, .tsv, .jsonl or"
        " .parquet, or make the source yourself (CsvSource, JsonLinesSource, ParquetSource)"
    )
