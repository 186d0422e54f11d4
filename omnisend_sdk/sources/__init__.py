"""Streaming row sources: files (CSV, JSON Lines, Parquet), iterables, DataFrames and Arrow
data, polars LazyFrames, database cursors, SQLAlchemy results and DuckDB relations.

Every source reads lazily (memory flat in the number of rows), knows its columns before the
first row is read (so a mapping can be checked first), tells its row count only when that costs
no read, and numbers each row by where it is in the source. A source that can be read only once
(a cursor, a generator, a stream) says so (``reiterable`` is false) and refuses a second read
rather than giving no rows. Sources only read; they never write, and never close what the
caller passed in.
"""

from omnisend_sdk.sources._arrow import batch_dicts
from omnisend_sdk.sources._base import SourceError
from omnisend_sdk.sources._csv import CsvSource, PlainLines
from omnisend_sdk.sources._database import masked_url, query_rows
from omnisend_sdk.sources._frames import FrameSource
from omnisend_sdk.sources._iterable import IterableSource
from omnisend_sdk.sources._jsonl import JsonLinesSource
from omnisend_sdk.sources._lazy import LazyFrameSource
from omnisend_sdk.sources._open import count_rows, open_source
from omnisend_sdk.sources._parquet import ParquetSource
from omnisend_sdk.sources._query import CursorSource
from omnisend_sdk.sources._relation import RelationSource

__all__ = [
    "CsvSource",
    "CursorSource",
    "FrameSource",
    "IterableSource",
    "JsonLinesSource",
    "LazyFrameSource",
    "ParquetSource",
    "PlainLines",
    "RelationSource",
    "SourceError",
    "batch_dicts",
    "count_rows",
    "masked_url",
    "open_source",
    "query_rows",
]
