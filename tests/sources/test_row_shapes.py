"""Rows as tuples: read when their column names are known, refused with a fix when not."""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.mapping import map_rows
from omnisend_sdk.sources import CursorSource, IterableSource, SourceError, open_source
from tests.sources.segment import COLUMNS, MAPPING, QUERY, Files, sqlalchemy_connection

FIX = r"pass the database cursor or SQLAlchemy result itself \(not \.fetchall\(\)\)"


def test_fetched_tuples_are_refused_with_the_fix(files: Files) -> None:
    with closing(sqlite3.connect(files.sqlite)) as db:
        tuples = db.execute(QUERY).fetchall()
    with pytest.raises(SourceError, match=f"the rows are tuples without column names.*{FIX}"):
        open_source(tuples)
    with pytest.raises(SourceError, match=r"columns=\[\.\.\.\]"):
        open_source(iter(tuples))


def test_a_cursor_that_selected_nothing_is_refused_with_the_fix() -> None:
    with closing(sqlite3.connect(":memory:")) as db:
        cursor = db.cursor()
        with pytest.raises(SourceError, match=f"description is None.*{FIX}"):
            open_source(cursor)
        with pytest.raises(SourceError, match="description is None"):
            open_source(db.execute("create table t (email text)"))


def test_a_sqlalchemy_result_that_returns_no_rows_is_refused(files: Files) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    with ExitStack() as stack:
        result = sqlalchemy_connection(files, stack).execute(sqlalchemy.text("select 1 where 0"))
        assert list(open_source(result)) == []  # no rows, but columns: an empty segment
    with ExitStack() as stack:
        statement = sqlalchemy.text("create temp table t (email text)")
        result = sqlalchemy_connection(files, stack).execute(statement)
        with pytest.raises(SourceError, match="returns no rows"):
            open_source(result)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda db: db.execute(QUERY), id="sqlite3 cursor"),
        pytest.param(lambda db: iter(db.execute(QUERY).fetchall()), id="iterator of sqlite3.Row"),
    ],
)
def test_sqlite_rows_are_read_by_column_name_never_missing_email(files: Files, make: Any) -> None:
    with closing(sqlite3.connect(files.sqlite)) as db:
        db.row_factory = sqlite3.Row
        source = open_source(make(db))
        assert source.columns == COLUMNS
        assert sum(m.ok for m in map_rows(MAPPING, source)) == 6


def test_tuples_are_read_with_the_columns_named() -> None:
    rows = [("a@example.com", "Ann"), ["b@example.com", "Bob"], ("c@example.com",), 42]
    source = open_source(rows, columns=["email", "first_name"])
    assert isinstance(source, IterableSource)
    result = [(r.number, r.values, [i.code for i in r.issues]) for r in source]
    assert result == [
        (0, {"email": "a@example.com", "first_name": "Ann"}, []),
        (1, {"email": "b@example.com", "first_name": "Bob"}, []),
        (2, None, ["ragged_row"]),
        (3, None, ["not_a_mapping"]),
    ]


def test_named_tuples_name_their_columns() -> None:
    Person = namedtuple("Person", ["email", "first_name"])
    source = open_source([Person("a@example.com", "Ann"), {"email": "b@example.com"}])
    assert source.columns == ("email", "first_name")
    assert [dict(r.values or {}) for r in source] == [
        {"email": "a@example.com", "first_name": "Ann"},
        {"email": "b@example.com"},
    ]


def test_chunks_of_no_rows_are_refused() -> None:
    with closing(sqlite3.connect(":memory:")) as db:
        cursor = db.execute("select 1 as email")
        with pytest.raises(ValueError, match="chunk_rows must be 1 or more"):
            CursorSource(cursor, chunk_rows=0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.parquet", None, "cannot read .*missing.parquet as Parquet"),
        ("text.parquet", b"email\na@example.com\n", "cannot read .*text.parquet as Parquet"),
        ("segment.xlsx", b"", r"\.csv, \.tsv, \.jsonl or \.parquet"),
    ],
)
def test_files_that_cannot_be_read_say_why(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(path)


def test_a_sqlite3_cursor_read_on_another_thread_says_how_to_allow_it(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "crm.db")
    connection.execute("CREATE TABLE people (email TEXT)")
    connection.execute("INSERT INTO people VALUES ('ann@example.com')")
    source = open_source(connection.execute("SELECT email FROM people"))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            list(source)
        except SourceError as error:
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    connection.close()

    (error,) = errors
    assert "check_same_thread=False" in str(error)
