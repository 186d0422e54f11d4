"""A refresh's first pass over a pandas DataFrame: chunks of its columns known on sight.

The pass reads a frame's chunks of columns itself (:class:`FrameChunkRows`): a row whose record
a member was mapped from, when the member needs nothing, is counted unchanged without a row being
made. Everything it decides must be what the row-by-row pass decides for the same rows. The
segments are those of ``test_refresh_known_batches``.
"""

from __future__ import annotations

from typing import Any

import pytest

from omnisend_sdk.export._known_rows import FrameChunkRows, known_rows
from omnisend_sdk.export._members import MemberIndex
from omnisend_sdk.export._seen import SeenEmailKeys
from omnisend_sdk.sources import FrameSource, open_source
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

pd = pytest.importorskip("pandas")


def frame(rows: list[dict[str, Any]], chunk_rows: int = 10_000) -> FrameSource:
    return FrameSource(pd.DataFrame(rows, columns=list(COLUMNS)), chunk_rows=chunk_rows)


@BY_MAPPING
@BY_TAGGING
@BY_LIMITS
@pytest.mark.parametrize("chunk_rows", [5, 10_000], ids=["chunks of 5", "one chunk"])
def test_a_frame_decides_as_rows_do(
    mapping: Any, segment_tag: str | None, limits: dict[str, Any], chunk_rows: int
) -> None:
    members = members_of(frame(BEFORE), mapping, untagged=14, leaving=20)

    fast = first_pass(frame(AFTER, chunk_rows), mapping, members, segment_tag=segment_tag, **limits)
    rows = first_pass(RowByRow(frame(AFTER)), mapping, members, segment_tag=segment_tag, **limits)

    assert fast == rows
    assert fast[1]["unchanged"] > 20 or limits


def test_a_frame_is_read_a_chunk_of_columns_at_a_time() -> None:
    members = MemberIndex(members_of(frame(BEFORE), MAPPING))
    found = known_rows(
        frame(AFTER),
        MAPPING,
        "context",
        members=members,
        seen=SeenEmailKeys(members=members),
        reading=None,  # type: ignore[arg-type]  # not read here
        tagging=True,
    )
    assert isinstance(found, FrameChunkRows)


def test_rows_known_on_sight_are_never_made_nor_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    members = members_of(frame(BEFORE), MAPPING)
    made, mapped = made_rows_spy(monkeypatch), mapped_rows_spy(monkeypatch)

    _, changes, *_ = first_pass(frame(AFTER, 8), MAPPING, members)

    # Rows by position from 0, as for a Parquet file (test_refresh_known_batches): made, the
    # changed (1), the other record of an email (5), the duplicates (4, 6, 8), the new (30, 31)
    # and the chunk of the separator character (8 to 15; that row itself, 12, has no record).
    assert made == [1, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 30, 31]
    assert mapped == [1, 4, 5, 6, 8, 10, 11, 12, 30, 31]
    assert changes == {"new": 2, "changed": 2, "unchanged": 29}


def test_pandas_own_values_and_a_label_given_twice_decide_as_rows_do() -> None:
    """NaN and NA where text was, a column of whole numbers (its chunks are not known on sight:
    numbers are told apart by type in a record), a label given twice (its last column counts)."""

    def typed(rows: list[dict[str, Any]]) -> FrameSource:
        data = pd.DataFrame(rows, columns=list(COLUMNS))
        data["Last"] = pd.array(data["Last"], dtype="string")
        data.loc[data.index % 5 == 0, "Last"] = pd.NA
        data.loc[data.index % 7 == 0, "First"] = float("nan")
        twice = pd.DataFrame({"Country": ["Germany"] * len(rows)})
        return FrameSource(pd.concat([data, twice], axis=1), chunk_rows=6)

    members = members_of(typed(BEFORE), SOME, untagged=14)
    fast = first_pass(typed(AFTER), SOME, members)
    assert fast == first_pass(RowByRow(typed(AFTER)), SOME, members)
    assert fast[1]["unchanged"] > 20

    def numbered(rows: list[dict[str, Any]]) -> FrameSource:
        return FrameSource(pd.DataFrame([{**r, "Notes": i} for i, r in enumerate(rows)]))

    members = members_of(numbered(BEFORE), SOME)
    fast = first_pass(numbered(BEFORE), SOME, members)
    assert fast == first_pass(RowByRow(numbered(BEFORE)), SOME, members)
    assert fast[1] == {"new": 0, "changed": 0, "unchanged": 40}


@pytest.mark.parametrize("lazy", [False, True], ids=["DataFrame", "LazyFrame"])
def test_a_polars_frame_decides_as_rows_do(lazy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    polars = pytest.importorskip("polars")
    chunks: list[int] = []
    real = FrameChunkRows._chunk

    def spy(self: FrameChunkRows, number: int, names: Any, values: Any, record: Any) -> Any:
        chunks.append(len(values[0]))
        return real(self, number, names, values, record)

    monkeypatch.setattr(FrameChunkRows, "_chunk", spy)

    def frame(rows: list[dict[str, Any]]) -> Any:
        found = polars.DataFrame(rows, schema=dict.fromkeys(COLUMNS, polars.Utf8))
        return open_source(found.lazy() if lazy else found, chunk_rows=7)

    members = members_of(frame(BEFORE), MAPPING, untagged=14)

    fast = first_pass(frame(AFTER), MAPPING, members)
    rows = first_pass(RowByRow(frame(AFTER)), MAPPING, members)

    assert fast == rows
    assert fast[1] == {"new": 2, "changed": 3, "unchanged": 28}
    assert sum(chunks) == len(AFTER)  # known on sight a chunk of columns at a time
    assert max(chunks) <= 7
