"""Sources stream: a query result is fetched a chunk at a time, and no source holds its rows.

Proved by counting, never by timing: the fetches a real sqlite3 cursor sees, and the peak of
the memory Python allocates while a 10,000-row source is read.
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from collections.abc import Callable
from contextlib import ExitStack, closing
from typing import Any

import pytest

from omnisend_sdk.sources import open_source
from tests.sources.conftest import BIG_ROWS
from tests.sources.segment import QUERY, Files, arrow_reader, duckdb_connection, sqlalchemy_result

CHUNK = 500
#: Python's peak while a streamed source is read: one chunk of rows, about 0.3 MB, and what the
#: libraries hold briefly. Holding the 10,000 rows would take about 6 MB.
STREAMING_PEAK_BYTES = 1_500_000


class CountingCursor(sqlite3.Cursor):
    """A real sqlite3 cursor that logs each fetch on its connection, and refuses fetchall."""

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = super().fetchmany(size if size is not None else self.arraysize)
        self.connection.fetches.append((size, len(rows)))  # type: ignore[attr-defined]
        return rows

    def fetchall(self) -> list[Any]:
        raise AssertionError("fetchall() holds the whole result in memory")


class CountingConnection(sqlite3.Connection):
    """A real sqlite3 connection whose cursors count their fetches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetches: list[tuple[int | None, int]] = []

    def cursor(self, factory: Any = CountingCursor) -> Any:
        return super().cursor(factory)


def expected_fetches(rows: int, chunk: int = CHUNK) -> list[tuple[int | None, int]]:
    """A full chunk per fetch, then the short last one, then the empty one that ends it."""
    full, rest = divmod(rows, chunk)
    return [(chunk, chunk)] * full + ([(chunk, rest)] if rest else []) + [(chunk, 0)]


def test_a_cursor_is_fetched_a_chunk_at_a_time(big_files: Files) -> None:
    connect = sqlite3.connect(big_files.sqlite, factory=CountingConnection)
    with closing(connect) as db:
        source = open_source(db.cursor().execute(QUERY), chunk_rows=CHUNK)
        rows = iter(source)
        assert next(rows).number == 1
        assert db.fetches == [(CHUNK, CHUNK)]  # one chunk fetched, not the result
        assert sum(1 for _ in rows) == BIG_ROWS - 1
        assert db.fetches == expected_fetches(BIG_ROWS)


def test_a_cursor_is_fetched_2048_rows_at_a_time_by_default(big_files: Files) -> None:
    connect = sqlite3.connect(big_files.sqlite, factory=CountingConnection)
    with closing(connect) as db:
        source = open_source(db.cursor().execute(QUERY))
        assert sum(1 for _ in source) == BIG_ROWS
        assert db.fetches == expected_fetches(BIG_ROWS, chunk=2_048)


@pytest.mark.parametrize("mappings", [False, True], ids=["result", "mappings"])
def test_a_sqlalchemy_result_is_fetched_a_chunk_at_a_time(big_files: Files, mappings: bool) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(big_files.sqlite, factory=CountingConnection),
    )
    with closing(engine.connect()) as conn:
        fetches = conn.connection.dbapi_connection.fetches
        result = conn.execute(sqlalchemy.text(QUERY))
        source = open_source(result.mappings() if mappings else result, chunk_rows=CHUNK)
        rows = iter(source)
        assert next(rows).number == 1
        assert fetches == [(CHUNK, CHUNK)]
        assert sum(1 for _ in rows) == BIG_ROWS - 1
        assert fetches == expected_fetches(BIG_ROWS)
    engine.dispose()


def sqlite_cursor(files: Files, stack: ExitStack) -> Any:
    db = stack.enter_context(closing(sqlite3.connect(files.sqlite)))
    return db.execute(QUERY)


#: The kinds that stream from outside Python's memory: a file, a database, a query engine.
STREAMED: list[tuple[str, Callable[[Files, ExitStack], object]]] = [
    ("sqlite3 cursor", sqlite_cursor),
    ("duckdb cursor", lambda f, s: duckdb_connection(f, s).execute(QUERY)),
    ("duckdb relation", lambda f, s: duckdb_connection(f, s).sql(QUERY)),
    ("sqlalchemy result", sqlalchemy_result),
    ("sqlalchemy mappings", lambda f, s: sqlalchemy_result(f, s).mappings()),
    ("parquet file", lambda f, s: f.parquet),
    ("parquet dataset", lambda f, s: f.dataset),
    ("arrow record batch reader", arrow_reader),
    ("polars lazy frame", lambda f, s: pytest.importorskip("polars").scan_parquet(f.parquet)),
]


def read_all(make: Callable[[Files, ExitStack], object], files: Files) -> int:
    with ExitStack() as stack:
        return sum(1 for _ in open_source(make(files, stack), chunk_rows=CHUNK))


def python_peak(read: Callable[[], object]) -> int:
    """The most memory Python held at once while ``read`` ran, in bytes."""
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("name", "make"), STREAMED, ids=[name for name, _ in STREAMED])
def test_reading_holds_a_chunk_not_the_rows(
    name: str, make: Callable[[Files, ExitStack], object], big_files: Files
) -> None:
    assert read_all(make, big_files) == BIG_ROWS  # also imports what reading needs, untraced
    assert python_peak(lambda: read_all(make, big_files)) < STREAMING_PEAK_BYTES
