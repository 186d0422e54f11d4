"""A refresh's first pass over an Arrow source: record batches known unchanged on sight.

The pass reads a Parquet file's or a DuckDB relation's record batches itself
(:class:`ArrowBatchRows`): a row whose record a member was mapped from, when the member needs
nothing, is counted unchanged without a row being made. Everything it decides must be what the
row-by-row pass decides for the same rows: counts, issues and their row numbers, duplicates, the
cap, the work list, the members' marks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.export._known_rows import batch_texts
from omnisend_sdk.export._refresh import Diff
from omnisend_sdk.mapping import ContactMapping, RowMapper
from omnisend_sdk.sources import ParquetSource, RelationSource
from tests.export.test_refresh import mapped_rows_spy
from tests.export.test_refresh_plain_lines import MAPPING, SOME, RowByRow, first_pass, members_of

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

COLUMNS = ("Notes", "Email", "First", "Last", "Country")


def row(i: int, *, first: str | None = None, email: str | None = None, notes: str = "n") -> dict:
    email = email if email is not None else f"  Person{i}@Example.COM "
    country = ("Germany", "UK", "USA", None)[i % 4]  # a missing value every fourth row
    return {
        "Notes": notes,
        "Email": email,
        "First": first or f"First{i}",
        "Last": f"Last{i}",
        "Country": country,
    }


BEFORE = [row(i) for i in range(40)]
AFTER = [
    row(0),
    row(1, first="Renamed"),  # changed
    row(2),
    row(3),
    row(3),  # the same row again: a duplicate of the row before
    row(4, email="PERSON4@example.com"),  # another record, the same email
    row(4),  # known, but its email was seen: a duplicate
    row(5),
    row(5, first="Later"),  # changed, after the known row with its email: a duplicate
    row(8, notes="other notes"),  # a column MAPPING does not read
    row(9, email="not an email"),  # invalid
    {**row(10), "Email": None},  # no email
    row(11, first="a\x1fb"),  # a separator character: its batch is not known on sight
    *(row(i) for i in range(13, 30)),
    row(100),  # new
    {**row(101), "First": None},  # new, a missing value
    *(row(i) for i in range(30, 36)),  # 36 to 39 left
]


def parquet(path: Path, rows: list[dict], types: dict[str, Any] | None = None) -> Path:
    columns = {
        name: pa.array([r[name] for r in rows], (types or {}).get(name, pa.string()))
        for name in COLUMNS
    }
    pq.write_table(pa.table(columns), path, row_group_size=8)
    return path


#: What a first pass a batch at a time must decide as rows do under (the query results' test
#: takes them too): the mapping, membership, and the cap.
BY_MAPPING = pytest.mark.parametrize(
    "mapping", [MAPPING, SOME], ids=["most columns", "some columns"]
)
BY_TAGGING = pytest.mark.parametrize("segment_tag", ["Seg", None], ids=["tagged", "untagged"])
BY_LIMITS = pytest.mark.parametrize(
    "limits",
    [{}, {"max_profiles": 7, "on_limit": "truncate"}, {"max_profiles": 30, "on_limit": "fail"}],
    ids=["no cap", "cap 7", "cap 30"],
)


@BY_MAPPING
@BY_TAGGING
@BY_LIMITS
@pytest.mark.parametrize("chunk_rows", [5, 10_000], ids=["batches of 5", "one batch"])
def test_batches_decide_as_rows_do(
    tmp_path: Path,
    mapping: ContactMapping,
    segment_tag: str | None,
    limits: dict[str, Any],
    chunk_rows: int,
) -> None:
    before = ParquetSource(parquet(tmp_path / "before.parquet", BEFORE))
    members = members_of(before, mapping, untagged=14, leaving=20)
    after = ParquetSource(parquet(tmp_path / "after.parquet", AFTER), chunk_rows=chunk_rows)

    fast = first_pass(after, mapping, members, segment_tag=segment_tag, **limits)
    rows = first_pass(RowByRow(after), mapping, members, segment_tag=segment_tag, **limits)

    assert fast == rows
    assert fast[1]["unchanged"] > 20 or limits


def test_a_duckdb_relation_decides_as_rows_do(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect(str(tmp_path / "crm.duckdb"))
    for name, rows in (("before", BEFORE), ("after", AFTER)):
        table = pa.table({column: [r[column] for r in rows] for column in COLUMNS})
        connection.register("rows_in", table)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM rows_in")
        connection.unregister("rows_in")
    members = members_of(RelationSource(connection.table("before")), MAPPING, untagged=14)

    fast = first_pass(RelationSource(connection.table("after"), chunk_rows=6), MAPPING, members)
    rows = first_pass(RowByRow(RelationSource(connection.table("after"))), MAPPING, members)

    assert fast == rows
    # Changed: the renamed, the separator character, the member whose tag is not confirmed.
    assert fast[1] == {"new": 2, "changed": 3, "unchanged": 28}


def made_rows_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the rows that reach the mapper's path (made rows) from now on: it asks
    whether each one's record is known."""
    numbers: list[int] = []
    real = Diff.known

    def spy(self: Diff, mapper: RowMapper, number: int, *args: Any) -> Any:
        numbers.append(number)
        return real(self, mapper, number, *args)

    monkeypatch.setattr(Diff, "known", spy)
    return numbers


def test_rows_known_on_sight_are_never_made_nor_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = members_of(ParquetSource(parquet(tmp_path / "b.parquet", BEFORE)), MAPPING)
    after = ParquetSource(parquet(tmp_path / "a.parquet", AFTER), chunk_rows=8)
    made, mapped = made_rows_spy(monkeypatch), mapped_rows_spy(monkeypatch)

    _, changes, *_ = first_pass(after, MAPPING, members)

    # Rows from 0, as the mapper's path asks whether their record is known. Made: the changed
    # (1), the other record of an email (5), the duplicates (4, 6, 8), the new (30, 31), and
    # the batch of the separator character (8 to 15; that row itself, 12, has no record).
    assert made == [1, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 30, 31]
    # Mapped: those, less the rows of that batch the mapper's path knows unchanged in turn.
    assert mapped == [1, 4, 5, 6, 8, 10, 11, 12, 30, 31]
    assert changes == {"new": 2, "changed": 2, "unchanged": 29}


def test_a_column_not_of_text_is_mapped_row_by_row(tmp_path: Path) -> None:
    # Its values are told apart by type in a record: a batch holding one is not known on sight.
    rows = [{**r, "Notes": i} for i, r in enumerate(BEFORE)]
    path = parquet(tmp_path / "typed.parquet", rows, {"Notes": pa.int64()})
    members = members_of(ParquetSource(path), SOME)

    fast = first_pass(ParquetSource(path), SOME, members)

    assert fast == first_pass(RowByRow(ParquetSource(path)), SOME, members)
    assert fast[1] == {"new": 0, "changed": 0, "unchanged": 40}
    batch = pa.record_batch([pa.array([1, 2]), pa.array(["a", None])], names=["Notes", "First"])
    assert batch_texts(batch, ["Notes", "First"]) == [None, None]


def test_the_text_of_a_batch_is_the_text_of_its_rows() -> None:
    names = ["a", "b", "c"]
    batch = pa.record_batch(
        [pa.array(["x", None, ""]), pa.array(["y", "z", None]), pa.array(["", "", "w"])],
        names=names,
    )

    assert batch_texts(batch, ["a", "b", "c"]) == [
        b"x\x1fy\x1f",
        b"\x1e\x1fz\x1f",
        b"\x1f\x1e\x1fw",
    ]
    assert batch_texts(batch, ["c"]) == [b"", b"", b"w"]
    marked = pa.record_batch([pa.array(["ok", "not\x1dok"])], names=["a"])
    assert batch_texts(marked, ["a"]) == [None, None]
