"""JSON Lines, iterables, DataFrames and Arrow tables, and open_source's dispatch."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.mapping import Constant, ContactMapping, Row
from omnisend_sdk.sources import (
    CsvSource,
    FrameSource,
    IterableSource,
    JsonLinesSource,
    LazyFrameSource,
    SourceError,
    open_source,
)

#: US rows: a postal code read as a number gets back the zeros a US code's five digits need.
MAPPING = ContactMapping(email="email", postal_code="zip", birthdate="born", country=Constant("US"))


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"email": "A@example.com", "zip": 62701}\n'
        b"\n"
        b"{not json}\n"
        b"[1, 2]\n"
        b'{"email": "b@example.com", "born": "1990-01-02"}\n'
        b'{"email": "c@example.com", "name": "\xff"}\n'
    )
    source = open_source(path)
    assert isinstance(source, JsonLinesSource)
    assert source.columns == ("email", "zip", "born")  # line 6 is unreadable
    assert source.reiterable
    assert source.row_count is None
    result = {r.row: (r.ok, [i.code for i in r.issues]) for r in MAPPING.map_rows(source)}
    assert result == {
        1: (True, []),
        3: (False, ["invalid_json"]),
        4: (False, ["not_an_object"]),
        5: (True, []),
        6: (False, ["undecodable_line"]),
    }
    assert source.blank_lines == 1


def test_iterables() -> None:
    rows = [{"email": "a@example.com"}, "oops", {"email": "b@example.com", "zip": 1}]
    source = IterableSource(rows)
    assert source.columns == ("email",)
    assert source.row_count == 3
    assert source.reiterable
    assert [(r.number, r.issues[0].code if r.issues else None) for r in source] == [
        (0, None),
        (1, "not_a_mapping"),
        (2, None),
    ]


def test_generators_are_read_once_without_losing_the_first_row() -> None:
    source = IterableSource({"email": f"u{i}@example.com"} for i in range(3))
    assert source.columns == ("email",)
    assert source.row_count is None
    assert not source.reiterable
    assert [r.number for r in source] == [0, 1, 2]
    with pytest.raises(SourceError, match="can be read only once"):
        list(source)


def test_iterables_with_given_columns() -> None:
    source = IterableSource(iter([]), columns=["email"])
    assert source.columns == ("email",)
    assert list(source) == []


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        ("s.csv", CsvSource),
        ("s.TSV", CsvSource),
        ("s.ndjson", JsonLinesSource),
        ([{"email": "x"}], IterableSource),
    ],
)
def test_open_source_dispatch(tmp_path: Path, obj: Any, kind: type) -> None:
    if isinstance(obj, str):
        path = tmp_path / obj
        path.write_text('{"email": "x"}\n' if "json" in obj else "email\tname\nx\ty\n")
        obj = path
    source = open_source(obj)
    assert isinstance(source, kind)
    assert open_source(source) is source
    if obj.__class__.__name__.endswith("Path") and str(obj).endswith(".TSV"):
        assert source.delimiter == "\t"  # type: ignore[attr-defined]


@pytest.mark.parametrize("obj", ["segment.xlsx", {"email": "x"}, b"email\n", 42])
def test_open_source_refuses(obj: object) -> None:
    with pytest.raises(SourceError):
        open_source(obj)


def _frame_rows(source: FrameSource) -> list[Row]:
    rows = list(source)
    assert list(source) == rows  # read again, same rows
    return rows


def test_pandas_in_chunks() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "email": ["a@example.com", None, "c@example.com"],
            "zip": [62701.0, math.nan, 10001.0],
            "born": [pd.Timestamp("1990-01-02"), pd.NaT, pd.Timestamp("1985-05-06")],
            7: [1, 2, 3],
        }
    )
    source = open_source(frame, chunk_rows=2)
    assert isinstance(source, FrameSource)
    assert source.columns == ("email", "zip", "born", "7")
    assert source.row_count == 3
    rows = _frame_rows(source)
    assert [r.number for r in rows] == [0, 1, 2]
    assert rows[1].values == {"email": None, "zip": None, "born": None, "7": 2}
    mapped = list(MAPPING.map_rows(source))
    assert mapped[0].contact.postal_code == "62701"  # type: ignore[union-attr]
    assert mapped[0].contact.birthdate == date(1990, 1, 2)  # type: ignore[union-attr]
    assert [i.code for i in mapped[1].issues] == ["missing_email"]


def test_polars_in_chunks() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {"email": ["a@example.com", None, "c@example.com"], "zip": ["1", None, "3"]}
    )
    source = open_source(frame, chunk_rows=2)
    assert source.columns == ("email", "zip")
    assert source.row_count == 3
    rows = _frame_rows(source)  # type: ignore[arg-type]
    assert rows[1].values == {"email": None, "zip": None}
    mapping = ContactMapping(email="email", postal_code="zip")
    assert [m.ok for m in mapping.map_rows(source)] == [True, False, True]


def test_arrow_tables_and_readers() -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"email": ["a@example.com", None, "c@example.com"], "zip": [1, None, 3]})
    source = open_source(table, chunk_rows=2)
    assert source.columns == ("email", "zip")
    assert source.row_count == 3
    assert _frame_rows(source)[2].values == {"email": "c@example.com", "zip": 3}  # type: ignore[arg-type]
    batch = table.to_batches()[0]
    assert [r.number for r in open_source(batch)] == [0, 1, 2]
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    source = open_source(reader)
    assert not source.reiterable
    assert source.row_count is None
    assert [r.number for r in source] == [0, 1, 2]
    with pytest.raises(SourceError, match="can be read only once"):
        list(source)


class SlicedOnly:
    """A real LazyFrame seen as polars before 1.34 shows it: no collect_batches, only slice()."""

    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self.slices: list[tuple[int, int]] = []

    def collect_schema(self) -> Any:
        return self._frame.collect_schema()

    def slice(self, offset: int, length: int) -> Any:
        self.slices.append((offset, length))
        return self._frame.slice(offset, length)


def test_lazy_frames_without_streaming_batches_are_collected_slice_by_slice() -> None:
    pl = pytest.importorskip("polars")
    frame = SlicedOnly(pl.LazyFrame({"email": [f"u{i}@example.com" for i in range(10)]}))
    source = LazyFrameSource(frame, chunk_rows=4)
    assert source.columns == ("email",)
    assert [(r.number, r.values) for r in source][::9] == [
        (0, {"email": "u0@example.com"}),
        (9, {"email": "u9@example.com"}),
    ]
    assert frame.slices == [(0, 4), (4, 4), (8, 4), (12, 4)]  # the last one finds no rows
