"""Opaque-cursor paging, shared by ``GET /contacts`` and ``GET /segments``.

A cursor names the sort key of the item it was taken from, not a position, so paging stays stable
while items are added or deleted between two pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ._problems import InvalidField, validation_problem

if TYPE_CHECKING:
    from ._rules import PageQuery

T = TypeVar("T")

SortKey = tuple[float | str, int]
"""An item's sort value (a time or a name) and its creation sequence number, the tie-breaker."""


def cursor_page(
    items: Iterable[T],
    key: Callable[[T], SortKey],
    query: PageQuery,
) -> tuple[list[T], dict[str, Any]]:
    """Sort ``items`` by ``key`` and cut the page the query's cursors and ``limit`` ask for.

    Returns:
        The page and the answer's ``paging``: ``{cursors: {after, before}, hasMore, limit}``.

    Raises:
        ApiProblem: 400 when a cursor was not made by this listing with this ``sort``.
    """
    sort, limit, after, before = query.sort, query.limit, query.after, query.before
    ascending = query.direction == "asc"
    ordered = sorted(items, key=key, reverse=not ascending)
    sample = key(ordered[0])[0] if ordered else None
    if after is not None:
        boundary = _decode_cursor(after, "after", sort, sample)
        rest = [i for i in ordered if (key(i) > boundary) == ascending and key(i) != boundary]
        page = rest[:limit]
        has_more = len(rest) > limit
        more_after, more_before = has_more, len(rest) < len(ordered)
    elif before is not None:
        boundary = _decode_cursor(before, "before", sort, sample)
        prior = [i for i in ordered if (key(i) < boundary) == ascending and key(i) != boundary]
        page = prior[-limit:]
        has_more = len(prior) > limit
        more_after, more_before = len(prior) < len(ordered), has_more
    else:
        page = ordered[:limit]
        has_more = len(ordered) > limit
        more_after, more_before = has_more, False
    cursors = {
        "after": _encode_cursor(sort, key(page[-1])) if page and more_after else None,
        "before": _encode_cursor(sort, key(page[0])) if page and more_before else None,
    }
    return page, {"cursors": cursors, "hasMore": has_more, "limit": limit}


def _encode_cursor(sort: str, key: SortKey) -> str:
    raw = json.dumps([sort, key[0], key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, name: str, sort: str, sample: float | str | None) -> SortKey:
    """The sort key in ``cursor``; ``sample`` is a sort value of the listing, to check its type."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, seq = json.loads(raw)
        if (
            cursor_sort != sort
            or type(seq) is not int
            or not isinstance(value, float | str)
            or (sample is not None and type(value) is not type(sample))
        ):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error) as err:
        raise validation_problem(
            [InvalidField(name, "invalid_value", "not a cursor of this listing")],
            "Invalid query parameters",
        ) from err
    return (value, seq)
