"""One small segment, written as every kind of source: files, embedded databases, frames, streams.

Each kind is opened from the same rows, so every test can ask the same question of all of them:
does every valid row come out, under the number that points back into that source?
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from omnisend_sdk.mapping import ContactMapping

COLUMNS = ("email", "first_name", "last_name", "country", "zip")
#: The segment in source order; ``None`` is a NULL (an empty field in CSV).
ROWS: list[tuple[str | None, ...]] = [
    ("Ann@Example.com", "Ann", "Lee", "UK", "SW1A 1AA"),
    ("bob@example.com", "Bob", None, "Germany", "10115"),
    ("not-an-email", "Nobody", None, "DE", None),
    (None, "Nameless", None, "LT", None),
    ("  ANN@example.com ", "Annie", None, "GB", None),
    ("zoe@example.com", "Zoë", "Novák", "Česko", "11000"),
    ("eve@example.com", None, None, None, None),
    ("fay@example..com", "Fay", None, "FR", "75001"),
    ("gus@example.com", "Gus", "O'Brien", "Lithuania", "01100"),
    ("hal@example.com", "Hal", None, "Narnia", None),
]
#: What each position becomes: the email sent, or the code of the issue that rejects the row.
OUTCOME: dict[int, tuple[str, str]] = {
    0: ("sent", "ann@example.com"),
    1: ("sent", "bob@example.com"),
    2: ("rejected", "invalid_email"),
    3: ("rejected", "missing_email"),
    4: ("rejected", "duplicate_email"),
    5: ("sent", "zoe@example.com"),
    6: ("sent", "eve@example.com"),
    7: ("rejected", "invalid_email"),
    8: ("sent", "gus@example.com"),
    9: ("sent", "hal@example.com"),
}
SENT = {email for kind, email in OUTCOME.values() if kind == "sent"}

MAPPING = ContactMapping(
    email="email", first_name="first_name", last_name="last_name", country="country",
    postal_code="zip",
)  # fmt: skip
QUERY = "select email, first_name, last_name, country, zip from segment order by id"


def dicts() -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]


class Files(NamedTuple):
    """The segment written once per test session, in every file format."""

    csv: Path
    jsonl: Path
    sqlite: Path
    duckdb: Path
    parquet: Path
    dataset: Path


def write_files(directory: Path) -> Files:
    files = Files(
        csv=directory / "segment.csv",
        jsonl=directory / "segment.jsonl",
        sqlite=directory / "segment.sqlite",
        duckdb=directory / "segment.duckdb",
        parquet=directory / "segment.parquet",
        dataset=directory / "dataset",
    )
    with files.csv.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([COLUMNS, *[["" if v is None else v for v in r] for r in ROWS]])
    files.jsonl.write_text("".join(json.dumps(row) + "\n" for row in dicts()), encoding="utf-8")
    write_sqlite(files.sqlite, ROWS)
    write_duckdb(files.duckdb, ROWS)
    write_parquet(files.parquet, ROWS)
    files.dataset.mkdir()
    # Two files, so positions have to run on from one file into the next.
    write_parquet(files.dataset / "part-0.parquet", ROWS[:4])
    write_parquet(files.dataset / "part-1.parquet", ROWS[4:])
    return files


def write_sqlite(path: Path, rows: list[tuple[str | None, ...]]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"create table segment (id integer primary key, {', '.join(COLUMNS)})")
        db.executemany(f"insert into segment ({', '.join(COLUMNS)}) values (?,?,?,?,?)", rows)


def write_duckdb(path: Path, rows: list[tuple[str | None, ...]]) -> None:
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect(str(path)) as db:
        # From an Arrow table: row by row, DuckDB's executemany takes seconds per 10,000 rows.
        db.register("written", arrow_table(rows, with_id=True))
        db.execute("create table segment as select * from written")


def write_parquet(path: Path, rows: list[tuple[str | None, ...]], **options: Any) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(arrow_table(rows), path, **options)


def arrow_table(rows: list[tuple[str | None, ...]], *, with_id: bool = False) -> Any:
    pa = pytest.importorskip("pyarrow")
    columns = {
        name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(COLUMNS)
    }
    return pa.table({"id": range(len(rows)), **columns} if with_id else columns)


class Kind(NamedTuple):
    """A kind of source, as a test table row.

    Attributes:
        name: The test id.
        make: Opens the source from the files; connections it opens go on the stack.
        reader: The class ``open_source`` reads it with.
        first: The number of the segment's first row in this kind of source.
        reiterable: Whether the source can be read again.
        counted: Whether the source knows its row count without being read.
    """

    name: str
    make: Callable[[Files, ExitStack], object]
    reader: str
    first: int
    reiterable: bool
    counted: bool


def sqlite_cursor(files: Files, stack: ExitStack, *, row_factory: Any = None) -> sqlite3.Cursor:
    # closing(): the with-block of a sqlite3 connection commits, it does not close.
    db = stack.enter_context(closing(sqlite3.connect(files.sqlite)))
    db.row_factory = row_factory
    return db.execute(QUERY)


def duckdb_connection(files: Files, stack: ExitStack) -> Any:
    duckdb = pytest.importorskip("duckdb")
    return stack.enter_context(duckdb.connect(str(files.duckdb), read_only=True))


def sqlalchemy_connection(files: Files, stack: ExitStack) -> Any:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"sqlite:///{files.sqlite}")
    stack.callback(engine.dispose)
    return stack.enter_context(engine.connect())


def sqlalchemy_result(files: Files, stack: ExitStack) -> Any:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    return sqlalchemy_connection(files, stack).execute(sqlalchemy.text(QUERY))


def arrow_reader(files: Files, stack: ExitStack) -> Any:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    file = stack.enter_context(pq.ParquetFile(files.parquet))
    return pa.RecordBatchReader.from_batches(file.schema_arrow, file.iter_batches(batch_size=3))


class OneShot:
    """A one-shot iterable that is not its own iterator, as result wrappers are."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = iter(rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self._rows


def sqlite_rows(files: Files, stack: ExitStack) -> Any:
    return sqlite_cursor(files, stack, row_factory=sqlite3.Row)


def polars_lazy(files: Files, stack: ExitStack) -> Any:
    return pytest.importorskip("polars").scan_parquet(files.parquet)


def polars_frame(files: Files, stack: ExitStack) -> Any:
    return pytest.importorskip("polars").read_parquet(files.parquet)


def pandas_frame(files: Files, stack: ExitStack) -> Any:
    return pytest.importorskip("pandas").read_parquet(files.parquet)


# fmt: off
KINDS = [
    # name, make, reader, first row's number, reiterable, counted
    Kind("list of dicts", lambda f, s: dicts(), "IterableSource", 0, True, True),
    Kind("generator", lambda f, s: (row for row in dicts()), "IterableSource", 0, False, False),
    Kind("one-shot iterable", lambda f, s: OneShot(dicts()), "IterableSource", 0, False, False),
    Kind("csv file", lambda f, s: f.csv, "CsvSource", 2, True, False),
    Kind("json lines file", lambda f, s: f.jsonl, "JsonLinesSource", 1, True, False),
    Kind("sqlite3 cursor", sqlite_cursor, "CursorSource", 1, False, False),
    Kind("sqlite3 cursor of sqlite3.Row", sqlite_rows, "CursorSource", 1, False, False),
    Kind("list of sqlite3.Row", lambda f, s: sqlite_rows(f, s).fetchall(), "IterableSource", 0,
         True, True),
    Kind("duckdb cursor", lambda f, s: duckdb_connection(f, s).execute(QUERY), "CursorSource", 1,
         False, False),
    Kind("duckdb relation", lambda f, s: duckdb_connection(f, s).sql(QUERY), "RelationSource", 1,
         False, False),
    Kind("sqlalchemy result", sqlalchemy_result, "CursorSource", 1, False, False),
    Kind("sqlalchemy mappings", lambda f, s: sqlalchemy_result(f, s).mappings(), "CursorSource",
         1, False, False),
    Kind("sqlalchemy rows", lambda f, s: sqlalchemy_result(f, s).all(), "IterableSource", 0, True,
         True),
    Kind("parquet file", lambda f, s: f.parquet, "ParquetSource", 0, True, True),
    Kind("parquet dataset", lambda f, s: f.dataset, "ParquetSource", 0, True, True),
    Kind("arrow record batch reader", arrow_reader, "FrameSource", 0, False, False),
    Kind("polars lazy frame", polars_lazy, "LazyFrameSource", 0, False, False),
    Kind("polars data frame", polars_frame, "FrameSource", 0, True, True),
    Kind("pandas data frame", pandas_frame, "FrameSource", 0, True, True),
]
# fmt: on
