"""Parquet datasets: hive partitions become columns, and the files are read in path order."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from omnisend_sdk.sources import ParquetSource, SourceError, open_source
from tests.sources.segment import COLUMNS, ROWS, write_parquet


def test_hive_partitions_become_columns_and_files_are_read_in_path_order(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    for shop, rows in (("b", ROWS[5:]), ("a", ROWS[:5])):  # written out of order
        (tmp_path / f"shop={shop}").mkdir()
        write_parquet(tmp_path / f"shop={shop}" / "part-0.parquet", rows)

    source = open_source(tmp_path, chunk_rows=2)

    assert isinstance(source, ParquetSource)
    assert source.columns == (*COLUMNS, "shop")
    assert source.row_count == len(ROWS)
    rows = list(source)
    assert [row.number for row in rows] == list(range(len(ROWS)))
    assert [row.values["email"] for row in rows] == [row[0] for row in ROWS]  # type: ignore[index]
    assert [row.values["shop"] for row in rows] == ["a"] * 5 + ["b"] * 5  # type: ignore[index]


def test_a_file_is_read_in_chunks_of_the_size_asked(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "segment.pq"
    write_parquet(path, ROWS, row_group_size=4)
    source = open_source(path, chunk_rows=3)
    assert isinstance(source, ParquetSource)
    assert source.name == str(path)
    chunks = [len(list(chunk)) for chunk in source._chunks()]
    assert sum(chunks) == len(ROWS)
    assert max(chunks) <= 3


def test_without_pyarrow_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails as if not installed
    with pytest.raises(
        SourceError, match=r"Parquet needs pyarrow: pip install 'omnisend-sdk\[parquet\]'"
    ):
        open_source(tmp_path / "segment.parquet")
