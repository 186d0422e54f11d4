"""Streaming row sources: CSV, JSON Lines, iterables of mappings, DataFrames and Arrow tables.

Every source reads lazily (constant memory in the number of rows), knows its columns before the
first row is read (so a mapping can be checked first), tells its row count when that is cheap,
and numbers each row by where it is in the source. Sources only read; they never write.
"""

from omnisend_sdk.sources._base import SourceError
from omnisend_sdk.sources._csv import CsvSource
from omnisend_sdk.sources._frames import FrameSource
from omnisend_sdk.sources._iterable import IterableSource
from omnisend_sdk.sources._jsonl import JsonLinesSource
from omnisend_sdk.sources._open import open_source

__all__ = [
    "CsvSource",
    "FrameSource",
    "IterableSource",
    "JsonLinesSource",
    "SourceError",
    "open_source",
]
