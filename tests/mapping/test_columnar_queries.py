"""Query results (DB-API cursors, SQLAlchemy results) take the columnar path, and map exactly as
the row mapper maps their rows.

The segments of ``test_columnar`` are written to real SQLite and DuckDB files; each query is
mapped through ``map_rows`` on the cursor (its fetched chunks turned into columns) and through
the same cursor with its ``column_batches`` hidden (row by row), and the two must agree row for
row. Values of other types than text and whole numbers, repeated column names and rows handed
over as mappings are covered too.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk._constants import DEFAULT_API_VERSION
from omnisend_sdk.mapping import ContactMapping, RecordFingerprints, map_rows
from omnisend_sdk.sources import SourceError, open_source
from tests.mapping.test_columnar import (
    COLUMNS,
    FULL,
    MAPPINGS,
    RowByRow,
    both_ways,
    segment,
    takes_columnar_path,
)

SELECT = "select * from segment"


def write_sqlite(
    path: Path,
    rows: list[dict[str, Any]],
    columns: tuple[str, ...] = COLUMNS,
    *,
    table: str = "segment",
) -> Path:
    """The rows as a table of a SQLite file (made, or added to), a missing value as NULL."""
    names = ", ".join(f'"{column}"' for column in columns)
    with sqlite3.connect(path) as db:
        db.execute(f"create table {table} ({names})")
        marks = ", ".join("?" * len(columns))
        db.executemany(
            f"insert into {table} values ({marks})",
            [tuple(row.get(column) for column in columns) for row in rows],
        )
    db.close()
    return path


@contextlib.contextmanager
def sqlalchemy_connection(path: Path) -> Iterator[tuple[Any, Any]]:
    """A SQLAlchemy connection to a SQLite file, and the ``sqlalchemy`` module (the test is
    skipped without it)."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            yield connection, sqlalchemy
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(write_sqlite(tmp_path / "segment.sqlite3", segment(400, 31)))
    yield db
    db.close()


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@pytest.mark.parametrize("chunk_rows", [10_000, 16, 1])
def test_a_sqlite_cursor_maps_as_row_by_row(
    sqlite_file: sqlite3.Connection, name: str, chunk_rows: int
) -> None:
    mapping = MAPPINGS[name]
    assert takes_columnar_path(mapping, open_source(sqlite_file.execute(SELECT)))

    rows = both_ways(
        mapping, lambda: open_source(sqlite_file.execute(SELECT), chunk_rows=chunk_rows)
    )

    assert [row[0] for row in rows] == list(range(1, 401))  # numbered as SQL counts rows
    assert any(row[3] for row in rows)
    assert not all(row[3] for row in rows)


@pytest.mark.parametrize("name", ["full", "tags-and-welcome", "reject-long-text"])
def test_a_duckdb_cursor_maps_as_row_by_row(tmp_path: Path, name: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "segment.duckdb"
    with duckdb.connect(str(path)) as db:
        names = ", ".join(f'"{column}" varchar' for column in COLUMNS)
        db.execute(f"create table segment ({names})")
        db.executemany(
            f"insert into segment values ({', '.join('?' * len(COLUMNS))})",
            [[row[column] for column in COLUMNS] for row in segment(300, 32)],
        )
    with duckdb.connect(str(path), read_only=True) as db:
        assert takes_columnar_path(MAPPINGS[name], open_source(db.execute(SELECT)))
        rows = both_ways(MAPPINGS[name], lambda: open_source(db.execute(SELECT), chunk_rows=64))
    assert len(rows) == 300


def test_sqlalchemy_results_and_their_mappings_map_as_row_by_row(
    sqlite_file: sqlite3.Connection, tmp_path: Path
) -> None:
    with sqlalchemy_connection(tmp_path / "segment.sqlite3") as (connection, sqlalchemy):
        query = sqlalchemy.text(SELECT)
        result = lambda: connection.execute(query)  # noqa: E731
        mappings = lambda: connection.execute(query).mappings()  # noqa: E731
        assert takes_columnar_path(FULL, open_source(result()))
        assert takes_columnar_path(FULL, open_source(mappings()))
        as_rows = both_ways(FULL, lambda: open_source(result(), chunk_rows=50))
        as_mappings = both_ways(FULL, lambda: open_source(mappings(), chunk_rows=50))
    assert as_rows == as_mappings
    assert len(as_rows) == 400


#: Values a database hands over that are neither text nor a whole number, in text columns.
ODD_VALUES: list[Any] = [
    1.5,
    -0.0,
    True,
    False,
    b"bytes",
    decimal.Decimal("12.50"),
    datetime.date(2026, 12, 2),
    2**70,  # a whole number longer than 64 bits
    -(2**63),
    2**63 - 1,
    "plain text",
    None,
]


def test_values_of_other_types_map_as_row_by_row(tmp_path: Path) -> None:
    """Whole columns of odd values and odd values among text, as Python's sqlite3 gives them
    (it keeps a float a float, bytes bytes, a big whole number as text) and as rows of Python
    values from any driver would hold them."""
    rows = segment(240, 33)
    for i, row in enumerate(rows):
        row["City"] = ODD_VALUES[i % len(ODD_VALUES)]
        row["Postal"] = i * 37 - 500  # whole numbers only
        if i % 5 == 0:
            row["Country"] = ODD_VALUES[(i // 5) % len(ODD_VALUES)]
        if i % 17 == 0:
            row["Email"] = ODD_VALUES[(i // 17) % len(ODD_VALUES)]
    stored = [{column: _storable(value) for column, value in row.items()} for row in rows]
    db = sqlite3.connect(write_sqlite(tmp_path / "odd.sqlite3", stored))
    both_ways(FULL, lambda: open_source(db.execute(SELECT), chunk_rows=40))
    db.close()
    source = lambda: open_source(PythonCursor(COLUMNS, rows), chunk_rows=30)  # noqa: E731
    assert takes_columnar_path(FULL, source())
    both_ways(FULL, source)


def _storable(value: Any) -> Any:
    """What sqlite3 stores of a value: its integers are 64-bit (a longer one is stored as
    text), and a decimal or a date as the text a driver would write."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return str(value)
    if isinstance(value, decimal.Decimal | datetime.date):
        return str(value)
    return value


class PythonCursor:
    """A DB-API cursor over rows of Python values, as a driver builds them (``description``,
    ``fetchmany``): what a database with other types than SQLite's hands over."""

    def __init__(self, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        self.description = [(name, None, None, None, None, None, None) for name in columns]
        self._rows = iter([tuple(row.get(column) for column in columns) for row in rows])

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [row for _, row in zip(range(size), self._rows, strict=False)]


def test_records_are_fingerprinted_as_row_by_row(sqlite_file: sqlite3.Connection) -> None:
    """What an export asks for: each clean row's record fingerprint, a fetched chunk at a
    time; whole numbers among the values are fingerprinted row by row."""
    records = RecordFingerprints(DEFAULT_API_VERSION, columns=COLUMNS)
    mapped = both_ways(
        FULL, lambda: open_source(sqlite_file.execute(SELECT), chunk_rows=40), records=records
    )
    assert any(row[4] for row in mapped)
    numbered = (
        'select "Email", "First", "Last", "Street", "City", 7 as "State", "Postal", "Country"'
        " from segment"
    )
    mapped = both_ways(
        FULL, lambda: open_source(sqlite_file.execute(numbered), chunk_rows=40), records=records
    )
    assert any(row[4] for row in mapped)


def test_a_repeated_column_name_means_its_last_column(tmp_path: Path) -> None:
    rows = [{"Email": f"u{i}@example.com", "First": f"F{i}", "Last": f"L{i}"} for i in range(90)]
    db = sqlite3.connect(write_sqlite(tmp_path / "names.sqlite3", rows))
    query = 'select "Email", "First", "Last" as "First" from segment'
    mapping = ContactMapping(email="Email", first_name="First")
    assert takes_columnar_path(mapping, open_source(db.execute(query)))
    mapped = both_ways(mapping, lambda: open_source(db.execute(query), chunk_rows=64))
    db.close()
    assert [dict(row[6])["firstName"] for row in mapped] == [f"L{i}" for i in range(90)]


def test_a_query_result_is_still_read_once(sqlite_file: sqlite3.Connection) -> None:
    source = open_source(sqlite_file.execute(SELECT))
    assert len(list(map_rows(FULL, source))) == 400
    with pytest.raises(SourceError, match="read only once"):
        next(iter(map_rows(FULL, source)))


def test_an_empty_result_maps_to_nothing(sqlite_file: sqlite3.Connection) -> None:
    query = f"{SELECT} where 0"
    assert list(map_rows(FULL, open_source(sqlite_file.execute(query)))) == []


def test_rows_that_do_not_match_the_description_are_an_error() -> None:
    rows = [{"Email": "a@example.com", "First": "Ann"}]
    cursor = PythonCursor(("Email", "First"), rows)
    cursor.description.append(("Extra", None, None, None, None, None, None))  # 3 named, 2 held
    with pytest.raises(SourceError, match=r"has 3 columns, but rows 1 to 1 hold \[2\] values"):
        list(map_rows(ContactMapping(email="Email"), open_source(cursor)))


def test_a_sqlite_cursor_on_another_thread_says_how_to_fix_it(tmp_path: Path) -> None:
    """The columnar path reads through the same fetch as the row-by-row one, and so gives the
    same advice when a sqlite3 connection refuses another thread."""
    import threading  # noqa: PLC0415

    path = write_sqlite(tmp_path / "segment.sqlite3", segment(20, 34))
    db = sqlite3.connect(path)
    source = open_source(db.execute(SELECT))
    failures: list[BaseException] = []

    def read(run: Callable[[], object]) -> None:
        try:
            run()
        except BaseException as error:
            failures.append(error)

    worker = threading.Thread(target=read, args=(lambda: list(map_rows(FULL, source)),))
    worker.start()
    worker.join()
    db.close()
    assert len(failures) == 1
    assert isinstance(failures[0], SourceError)
    assert "check_same_thread=False" in str(failures[0])


def test_the_row_by_row_side_really_is_row_by_row(sqlite_file: sqlite3.Connection) -> None:
    """The comparison means something only if the hidden side cannot take the fast path."""
    assert not takes_columnar_path(FULL, RowByRow(open_source(sqlite_file.execute(SELECT))))
