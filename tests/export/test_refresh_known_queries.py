"""A refresh's first pass over a query result: fetched chunks known unchanged on sight.

The pass reads a DB-API cursor's or a SQLAlchemy result's chunks itself
(:class:`QueryChunkRows`): a row whose record a member was mapped from, when the member needs
nothing, is counted unchanged without a row being made. Everything it decides must be what the
row-by-row pass decides for the same rows. The segments of ``test_refresh_known_batches`` are
written to real SQLite and DuckDB files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.mapping import RecordText
from omnisend_sdk.sources import CursorSource
from tests.export.test_refresh import mapped_rows_spy
from tests.export.test_refresh_known_batches import (
    AFTER,
    BEFORE,
    BY_LIMITS,
    BY_MAPPING,
    BY_TAGGING,
    COLUMNS,
    made_rows_spy,
)
from tests.export.test_refresh_plain_lines import MAPPING, SOME, RowByRow, first_pass, members_of
from tests.mapping.test_columnar_queries import sqlalchemy_connection, write_sqlite

NAMES = ", ".join(f'"{column}"' for column in COLUMNS)


def write_tables(path: Path, **tables: list[dict[str, Any]]) -> None:
    for name, rows in tables.items():
        write_sqlite(path, rows, COLUMNS, table=name)


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "crm.sqlite3"
    write_tables(path, before=BEFORE, after=AFTER)
    db = sqlite3.connect(path)
    yield db
    db.close()


def cursor(db: Any, table: str, chunk_rows: int = 10_000) -> CursorSource:
    return CursorSource(db.execute(f"select {NAMES} from {table}"), chunk_rows=chunk_rows)


@BY_MAPPING
@BY_TAGGING
@BY_LIMITS
@pytest.mark.parametrize("chunk_rows", [5, 10_000], ids=["chunks of 5", "one chunk"])
def test_a_sqlite_cursor_decides_as_rows_do(
    crm: sqlite3.Connection,
    mapping: Any,
    segment_tag: str | None,
    limits: dict[str, Any],
    chunk_rows: int,
) -> None:
    members = members_of(cursor(crm, "before"), mapping, untagged=14, leaving=20)

    fast = first_pass(
        cursor(crm, "after", chunk_rows), mapping, members, segment_tag=segment_tag, **limits
    )
    rows = first_pass(
        RowByRow(cursor(crm, "after")), mapping, members, segment_tag=segment_tag, **limits
    )

    assert fast == rows
    assert fast[1]["unchanged"] > 20 or limits


def test_a_duckdb_cursor_decides_as_rows_do(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect(str(tmp_path / "crm.duckdb"))
    for name, rows in (("before", BEFORE), ("after", AFTER)):
        typed = ", ".join(f'"{column}" varchar' for column in COLUMNS)
        connection.execute(f"create table {name} ({typed})")
        connection.executemany(
            f"insert into {name} values ({', '.join('?' * len(COLUMNS))})",
            [[row[column] for column in COLUMNS] for row in rows],
        )
    members = members_of(cursor(connection, "before"), MAPPING, untagged=14)

    fast = first_pass(cursor(connection, "after", 6), MAPPING, members)
    rows = first_pass(RowByRow(cursor(connection, "after")), MAPPING, members)
    connection.close()

    assert fast == rows
    # Changed: the renamed, the separator character, the member whose tag is not confirmed.
    assert fast[1] == {"new": 2, "changed": 3, "unchanged": 28}


def test_sqlalchemy_results_and_mappings_decide_as_rows_do(
    crm: sqlite3.Connection, tmp_path: Path
) -> None:
    with sqlalchemy_connection(tmp_path / "crm.sqlite3") as (connection, sqlalchemy):

        def result(table: str, *, mappings: bool = False) -> CursorSource:
            found = connection.execute(sqlalchemy.text(f"select {NAMES} from {table}"))
            return CursorSource(found.mappings() if mappings else found, chunk_rows=7)

        members = members_of(result("before"), MAPPING, untagged=14)
        as_rows = first_pass(result("after"), MAPPING, members)
        as_mappings = first_pass(result("after", mappings=True), MAPPING, members)
        row_by_row = first_pass(RowByRow(result("after")), MAPPING, members)
    assert as_rows == row_by_row
    assert as_mappings == row_by_row
    assert as_rows[1] == {"new": 2, "changed": 3, "unchanged": 28}


def test_rows_known_on_sight_are_never_made_nor_mapped(
    crm: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = members_of(cursor(crm, "before"), MAPPING)
    made, mapped = made_rows_spy(monkeypatch), mapped_rows_spy(monkeypatch)

    _, changes, *_ = first_pass(cursor(crm, "after", 8), MAPPING, members)

    # Rows from 1, as SQL counts them. Made: the changed (2), the other record of an email (6),
    # the duplicates (5, 7, 9), the new (31, 32), and the chunk of the separator character
    # (9 to 16; that row itself, 13, has no record).
    assert made == [2, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 31, 32]
    # Mapped: those, less the rows of that chunk the mapper's path knows unchanged in turn.
    assert mapped == [2, 5, 6, 7, 9, 11, 12, 13, 31, 32]
    assert changes == {"new": 2, "changed": 2, "unchanged": 29}


def test_a_column_not_of_text_is_mapped_row_by_row(tmp_path: Path) -> None:
    """Its values are told apart by type in a record: a chunk holding one is not known on
    sight, and decides as rows do all the same."""
    path = tmp_path / "typed.sqlite3"
    write_tables(path, segment=[{**row, "Notes": i} for i, row in enumerate(BEFORE)])
    db = sqlite3.connect(path)
    members = members_of(cursor(db, "segment"), SOME)

    fast = first_pass(cursor(db, "segment"), SOME, members)

    assert fast == first_pass(RowByRow(cursor(db, "segment")), SOME, members)
    assert fast[1] == {"new": 0, "changed": 0, "unchanged": 40}
    db.close()


def test_the_text_of_columns_is_the_text_of_their_rows() -> None:
    columns = [["x", None, ""], ["y", "z", None], ["", "", "w"]]

    assert RecordText.joined(columns, 3) == [b"x\x1fy\x1f", b"\x1e\x1fz\x1f", b"\x1f\x1e\x1fw"]
    assert RecordText.joined(columns[2:], 3) == [b"", b"", b"w"]
    assert RecordText.joined([["ok", "not\x1dok"]], 2) == [None, None]
    assert RecordText.joined([["a\x1eb"], [None]], 1) == [None]  # a mark inside a value
    assert RecordText.joined([["a", "b"], [1, None]], 2) == [None, None]  # told apart by type
    assert RecordText.joined([[b"a", "b"]], 2) == [None, None]
