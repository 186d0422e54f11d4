"""Batcher: batches of at most 100 items and about 1 MB, never empty, in the order rows came."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from omnisend_sdk import _json
from omnisend_sdk._constants import MAX_BATCH_BYTES
from omnisend_sdk.export._batcher import Batcher, PendingItem
from tests.export.fakes import request_body


def body_of(row: int, *, padding: int = 0) -> dict[str, Any]:
    body = request_body(f"person{row}@example.com")
    if padding:
        body["customProperties"] = {"notes": "é" * padding}  # two UTF-8 bytes each
    return body


def item(row: int, *, padding: int = 0) -> PendingItem:
    return PendingItem.of(row, f"person{row}@example.com", body_of(row, padding=padding))


def pack(batcher: Batcher, items: list[PendingItem]) -> list[list[PendingItem]]:
    batches: list[list[PendingItem]] = []
    for one in items:
        batches.extend(batcher.add(one))
    last = batcher.flush()
    if last is not None:
        batches.append(last)
    return batches


def encoded_size(batch: list[PendingItem]) -> int:
    """The size of the ``POST /batches`` body of ``batch`` (what ``encode_batch`` makes)."""
    items = b",".join(i.body for i in batch)
    return len(b'{"method":"POST","endpoint":"contacts","items":[' + items + b"]}")


def test_an_item_is_measured_in_encoded_bytes() -> None:
    one = item(1, padding=10)

    assert one.body == _json.dumps(body_of(1, padding=10))  # kept encoded, as it is sent
    assert one.size == len(one.body) + 1
    characters = len(json.dumps(body_of(1, padding=10), ensure_ascii=False, separators=(",", ":")))
    assert one.size == characters + 10 + 1  # bytes, not characters: each "é" is two


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (1, [1]),
        (99, [99]),
        (100, [100]),
        (101, [100, 1]),
        (250, [100, 100, 50]),
        (300, [100, 100, 100]),
    ],
)
def test_batches_are_cut_at_100_items(count: int, sizes: list[int]) -> None:
    batches = pack(Batcher(100), [item(n) for n in range(count)])

    assert [len(b) for b in batches] == sizes


def test_add_hands_out_a_full_batch_as_soon_as_it_is_full() -> None:
    batcher = Batcher(3)

    assert batcher.add(item(0)) == []
    assert batcher.add(item(1)) == []
    (full,) = batcher.add(item(2))
    assert [i.row for i in full] == [0, 1, 2]
    assert len(batcher) == 0
    assert batcher.flush() is None


@pytest.mark.parametrize("padding", [1_000, 50_000, 150_000, 330_000])
def test_batches_are_cut_before_about_1_mb(padding: int) -> None:
    items = [item(n, padding=padding) for n in range(40)]

    batches = pack(Batcher(100), items)

    assert len(batches) > 1 or sum(i.size for i in items) < MAX_BATCH_BYTES
    assert all(encoded_size(b) <= MAX_BATCH_BYTES for b in batches)
    # Each batch is as full as the limit allows: the next item would not have fitted.
    for batch, following in itertools.pairwise(batches):
        assert len(batch) == 100 or encoded_size([*batch, following[0]]) > MAX_BATCH_BYTES - 1_024


def test_an_item_bigger_than_the_limit_goes_alone_and_no_batch_is_ever_empty() -> None:
    items = [item(0), item(1), item(2, padding=600_000), item(3), item(4, padding=600_000)]

    batches = pack(Batcher(100), items)

    # Over 1 MB alone: the client refuses it, and the engine reports that row alone.
    assert [[i.row for i in b] for b in batches] == [[0, 1], [2], [3], [4]]
    assert all(batches)


@pytest.mark.parametrize(("max_items", "padding"), [(1, 0), (7, 0), (100, 200_000), (3, 400_000)])
def test_order_is_kept_and_nothing_is_lost_or_repeated(max_items: int, padding: int) -> None:
    items = [item(n, padding=padding if n % 3 == 0 else 0) for n in range(50)]

    batches = pack(Batcher(max_items), items)

    assert [i.row for b in batches for i in b] == list(range(50))
    assert all(0 < len(b) <= max_items for b in batches)


def test_flush_of_an_empty_batcher_is_none() -> None:
    assert Batcher(100).flush() is None
