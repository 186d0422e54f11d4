"""The compact memory of emails seen: the same answers as a dict, in a fraction of the memory."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from omnisend_sdk.mapping import (
    CompactSeenEmails,
    ContactMapping,
    FirstRowTable,
    InMemorySeenEmails,
    MappedRow,
    map_rows,
)
from omnisend_sdk.mapping._dedupe import first_rows
from omnisend_sdk.sources import IterableSource, open_source


def reference(keys: list[int | None], first: int, known: dict[int, int]) -> list[int | None]:
    """What a dict answers: the row each key was first recorded with."""
    return [
        None if key is None else known.setdefault(key, row) for row, key in enumerate(keys, first)
    ]


def test_the_table_answers_as_a_dict_through_growth_and_wrapping() -> None:
    table, known = FirstRowTable(), {}
    smallest = len(table._slots)
    generator = random.Random(7)
    # Keys a multiple of the smallest table's size all start at slot 0 and pile up from there;
    # the largest ones start at its last slot and wrap; 0 is the empty slot's mark; negative keys
    # are what hash() gives half the time; None is a row without an email. (Before 3 December 0
    # marked an empty slot and counted as 1; now an entry number does, and every key is itself.)
    special = [
        0,
        1,
        -1,
        smallest,
        2 * smallest,
        smallest - 1,
        2 * smallest - 1,
        2**63 - 1,
        -(2**63),
    ]
    first = 0
    for _ in range(60):
        keys: list[int | None] = [generator.getrandbits(64) - 2**63 for _ in range(1_000)]
        keys += generator.choices(special, k=20) + [None] * 5
        keys += generator.sample(list(known), k=min(50, len(known)))  # repeats
        generator.shuffle(keys)
        assert table.first_rows_of(keys, first) == reference(keys, first, known)
        # Rows mostly run on from the last batch's; sometimes they skip some, or start again
        # lower (a table is told rows, not counted): a key found is then in an earlier run.
        first += len(keys) + generator.choice([0, 0, 0, 1, 250, -5_000])
    assert len(table) == len(known) > 60_000
    assert len(table._slots) > smallest  # it grew, and kept every key it held
    assert table.first_rows_of(list(known), first) == list(known.values())


def bytes_held(table: FirstRowTable) -> int:
    """The memory the table's arrays hold, their spare room included."""
    arrays = (table._slots, table._keys, table._run_positions, table._run_rows)
    return sum(sys.getsizeof(held) for held in arrays)


def test_a_table_sized_up_front_does_not_grow() -> None:
    table = FirstRowTable(expected=10_000)
    slots = table._slots
    assert table.first_rows_of(list(range(1, 10_001)), 5) == list(range(5, 10_005))
    assert table._slots is slots
    assert bytes_held(table) < 10_000 * 16  # 8 bytes a key, 4 a slot at 0.6 of them taken


def test_a_growing_table_holds_under_22_bytes_a_key() -> None:
    table = FirstRowTable()
    generator = random.Random(5)
    for first in range(0, 200_000, 2_000):
        table.first_rows_of([generator.getrandbits(64) - 2**63 for _ in range(2_000)], first)
    assert len(table) == 200_000
    # The keys take 8 to 9 bytes a key (an array's spare room), the slots 4 bytes each, 1.67 to
    # 3.33 a key (the table doubles past 0.6 taken): here, just after it doubled, 19.5. A table
    # of keys and rows by slot held 31.5 here, and 47 while it grew.
    assert bytes_held(table) < 200_000 * 22


def test_a_batch_larger_than_the_table_grows_it_first() -> None:
    table = FirstRowTable()
    keys = list(range(1, 3 * len(table._slots)))
    assert table.first_rows_of(keys + keys[:3], 0) == [*range(len(keys)), 0, 1, 2]


def test_keys_one_at_a_time_with_rows_skipped_answer_as_a_dict() -> None:
    # A source mapped a row at a time records only the rows with an email: each gap starts a run.
    table, known = FirstRowTable(), {}
    generator = random.Random(9)
    row = 0
    for _ in range(20_000):
        row += generator.choice([1, 1, 1, 2, 3])
        key = generator.randrange(5_000)
        assert table.first_row_of(key, row) == known.setdefault(key, row)
    assert len(table) == len(known)


def test_one_key_at_a_time_is_the_same_table() -> None:
    table = FirstRowTable()
    assert table.first_row_of(42, 3) == 3
    assert table.first_rows_of([42, 43], 10) == [3, 11]
    assert table.first_row_of(43, 99) == 11
    assert table.first_row_of(-5, -7) == -7  # rows seen before a source may be numbered below 0


def test_compact_seen_emails_answers_as_the_dict() -> None:
    generator = random.Random(3)
    emails = [f"user{generator.randrange(3_000)}@example.com" for _ in range(10_000)]
    compact, plain = CompactSeenEmails(), InMemorySeenEmails()
    row = 0
    while row < len(emails):
        size = generator.randrange(1, 500)
        batch: list[str | None] = [*emails[row : row + size]]
        if generator.random() < 0.5:
            batch[0] = None
        expected = [
            None if email is None else plain.first_row(email, n)
            for n, email in enumerate(batch, row)
        ]
        if generator.random() < 0.3:  # the row at a time, as keep_first asks
            got = [
                None if email is None else compact.first_row(email, n)
                for n, email in enumerate(batch, row)
            ]
        else:
            got = compact.first_rows(batch, row)
        assert got == expected
        row += size


def test_first_rows_asks_a_memory_without_a_batch_method_row_by_row() -> None:
    seen = InMemorySeenEmails()
    seen.first_row("ann@example.com", -1)
    assert first_rows(seen, ["bob@example.com", None, "ann@example.com", "bob@example.com"], 4) == [
        4,
        None,
        -1,
        4,
    ]


def described(rows: list[MappedRow]) -> list[tuple[int, str | None, bool, list[str]]]:
    return [(row.row, row.email, row.ok, [issue.message for issue in row.issues]) for row in rows]


def test_map_rows_drops_the_same_duplicates_by_default_as_with_a_dict(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    generator = random.Random(11)
    rows = [
        {
            "Email": f"{generator.choice('uU')}{generator.randrange(400)}@example.com",
            "First": f"N{i}",
        }
        for i in range(2_000)
    ]
    rows[5]["Email"] = " u1@example.com"  # mapped by the mapper itself, not the batch path
    rows[7]["Email"] = "not an email"
    mapping = ContactMapping(email="Email", first_name="First")
    path = tmp_path / "dups.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    for source in (lambda: IterableSource(rows), lambda: open_source(path, chunk_rows=128)):
        by_default = described(list(map_rows(mapping, source())))
        with_a_dict = described(list(map_rows(mapping, source(), seen=InMemorySeenEmails())))
        assert by_default == with_a_dict
        valid = {row["Email"].strip().lower() for row in rows if "@" in row["Email"]}
        assert sum(ok for _, _, ok, _ in by_default) == len(valid)
