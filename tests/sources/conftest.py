"""Fixtures for the source tests: the segment written once in every format, a stack to close."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

# The emulator and a client paced to it, for the exports from every kind of source.
from tests.export.conftest import client, emulator, state_dir  # noqa: F401
from tests.sources.segment import Files, write_duckdb, write_files, write_parquet, write_sqlite


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return write_files(tmp_path_factory.mktemp("segment"))


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    """Closes the cursors and connections a test opens, last opened first."""
    with ExitStack() as stack:
        yield stack


#: Rows in the segment the memory tests read: enough that holding them all would show.
BIG_ROWS = 10_000


@pytest.fixture(scope="session")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A ``BIG_ROWS``-row segment as a SQLite and a DuckDB file and a Parquet file and dataset."""
    directory = tmp_path_factory.mktemp("big")
    rows = [
        (f"user{i}@example.com", f"First{i}", f"Last{i}", "UK", f"{i:05d}") for i in range(BIG_ROWS)
    ]
    files = Files(
        csv=directory / "unused.csv",
        jsonl=directory / "unused.jsonl",
        sqlite=directory / "big.sqlite",
        duckdb=directory / "big.duckdb",
        parquet=directory / "big.parquet",
        dataset=directory / "dataset",
    )
    write_sqlite(files.sqlite, rows)
    write_duckdb(files.duckdb, rows)
    write_parquet(files.parquet, rows, row_group_size=BIG_ROWS // 4)
    files.dataset.mkdir()
    half = BIG_ROWS // 2
    write_parquet(files.dataset / "a.parquet", rows[:half], row_group_size=half // 2)
    write_parquet(files.dataset / "b.parquet", rows[half:], row_group_size=half // 2)
    return files
