"""``client.segments``: create, list, read, change and delete segments, and count their contacts.

A segment is a rule Omnisend evaluates over the store's contacts; :func:`tag_rule` builds the one an
export needs, "the contacts with this tag". The requests are built and read here, without I/O; the
sync and async resources below only send them.

Pacing: Omnisend counts ``/segments`` in two windows of its own, 100 requests a minute for GET and
DELETE (family ``segments``) and 15 for POST and PUT (family ``segment_writes``); see
:mod:`omnisend_sdk._ratelimit` for why they are not also counted in the brand's 400.

Retrying: GET, PUT (it sends the whole segment, so twice is once) and DELETE are retried like any
read. ``POST /segments`` is not idempotent, and is treated like ``POST /batches``: if its answer is
lost (read timeout, dropped connection) or a gateway error (500, 502, 504) comes back, the client
raises :class:`~omnisend_sdk.OutcomeUnknownError` instead of resending, since a second create would
make a second segment; 429 and 503 say nothing was done, so they are retried.

A 409 on update or delete means the segment is still building: it is raised as
:class:`~omnisend_sdk.SegmentBuildingError`, a :class:`~omnisend_sdk.ConflictError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypedDict, Unpack, get_args
from urllib.parse import quote

import httpx

from omnisend_sdk._constants import (
    DEFAULT_SEGMENT_PAGE_SIZE,
    MAX_SEGMENT_NAME_LENGTH,
    MAX_SEGMENT_PAGE_SIZE,
    ApiVersion,
)
from omnisend_sdk._errors import ConflictError, InvalidRequestError, SegmentBuildingError
from omnisend_sdk._http import Operation, RequestSpec, json_body, parse_with
from omnisend_sdk._models import (
    ConditionGroup,
    Segment,
    SegmentCondition,
    SegmentFilter,
    SegmentPage,
    SegmentSortField,
    SegmentStatistics,
    SortDirection,
)
from omnisend_sdk._wire import from_json, segment_page_from_json, segment_to_json

if TYPE_CHECKING:
    from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient

Params = tuple[tuple[str, str], ...]


# --- rules -------------------------------------------------------------------------------------


def tag_rule(tag: str) -> tuple[ConditionGroup, ...]:
    """The condition groups of a segment holding every contact tagged ``tag``.

    ``client.segments.create("VIP customers", tag_rule("VIP customers"))`` makes the segment an
    export's tag stands for.

    Raises:
        InvalidRequestError: ``tag`` is not a non-empty string.
    """
    if not isinstance(tag, str) or not tag.strip():
        raise InvalidRequestError("a tag rule needs a non-empty tag")
    has_tag = SegmentFilter(property="tags", operator="anyOf", value=(tag,))
    return (ConditionGroup(conditions=(SegmentCondition("contact", "and", (has_tag,)),)),)


def check_segment(name: str, condition_groups: Sequence[ConditionGroup]) -> None:
    """Refuse a segment Omnisend would reject, before it is sent.

    Raises:
        InvalidRequestError: A blank name or one over 256 characters; no condition group, a
            group without conditions, or a condition without filters.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("a segment needs a non-empty name")
    if len(name) > MAX_SEGMENT_NAME_LENGTH:
        raise InvalidRequestError(
            f"a segment name holds at most {MAX_SEGMENT_NAME_LENGTH} characters, got {len(name)}"
        )
    if isinstance(condition_groups, ConditionGroup) or not condition_groups:
        raise InvalidRequestError("condition_groups must be a non-empty sequence of groups")
    for group in condition_groups:
        if not isinstance(group, ConditionGroup):
            raise InvalidRequestError(f"not a ConditionGroup: {type(group).__name__}")
        if not group.conditions:
            raise InvalidRequestError("every condition group needs at least one condition")
        if any(not condition.filters for condition in group.conditions):
            raise InvalidRequestError("every condition needs at least one filter")


class SegmentOrder(TypedDict, total=False):
    """How segments are ordered; both keys are optional (Omnisend's default: newest first).

    Attributes:
        sort: ``"createdAt"`` or ``"name"``.
        direction: ``"asc"`` or ``"desc"``.
    """

    sort: SegmentSortField | None
    direction: SortDirection | None


class SegmentPageQuery(SegmentOrder, total=False):
    """Which page of segments :meth:`Segments.list` returns; every key is optional.

    Attributes:
        limit: Segments on the page, 1 to 50 (10, Omnisend's default).
        after: The cursor of the page before: its ``page.after``.
        before: The cursor of the page after: its ``page.before``.
    """

    limit: int
    after: str | None
    before: str | None


def list_params(
    *,
    limit: int = DEFAULT_SEGMENT_PAGE_SIZE,
    after: str | None = None,
    before: str | None = None,
    sort: SegmentSortField | None = None,
    direction: SortDirection | None = None,
) -> Params:
    """The query of ``GET /segments``, checked against the API's rules.

    Raises:
        InvalidRequestError: A limit outside 1 to 50, both cursors or an empty one, or a sort
            field or direction Omnisend does not know.
    """
    if not 1 <= limit <= MAX_SEGMENT_PAGE_SIZE:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_SEGMENT_PAGE_SIZE}")
    if after is not None and before is not None:
        raise InvalidRequestError("pass after or before, not both")
    if after == "" or before == "":
        raise InvalidRequestError("a cursor must not be empty")
    if sort is not None and sort not in get_args(SegmentSortField):
        raise InvalidRequestError(f"sort must be one of {get_args(SegmentSortField)}")
    if direction is not None and direction not in get_args(SortDirection):
        raise InvalidRequestError(f"direction must be one of {get_args(SortDirection)}")
    values: list[tuple[str, str | None]] = [
        ("limit", str(limit)),
        ("after", after),
        ("before", before),
        ("sort", sort),
        ("direction", direction),
    ]
    return tuple((name, value) for name, value in values if value is not None)


def next_params(page: SegmentPage, params: Params) -> Params | None:
    """The query of the page after ``page``, or None when it was the last."""
    if not page.has_more or page.after is None:
        return None
    kept = tuple((k, v) for k, v in params if k not in ("after", "before"))
    return (*kept, ("after", page.after))


@contextlib.contextmanager
def building_conflicts() -> Iterator[None]:
    """Around an update or delete: a 409 there means the segment is still building."""
    try:
        yield
    except SegmentBuildingError:
        raise
    except ConflictError as error:
        raise SegmentBuildingError(
            error.problem, method=error.method, path=error.path, retry_after=error.retry_after
        ) from error


# --- operations (sans-I/O) ---------------------------------------------------------------------


def create_operation(
    name: str, condition_groups: Sequence[ConditionGroup], version: ApiVersion
) -> Operation[Segment]:
    """``POST /segments``: not idempotent, so never resent after a lost answer."""
    check_segment(name, condition_groups)
    spec = RequestSpec(
        method="POST",
        path="/segments",
        body=json_body(segment_to_json(name, condition_groups, version)),
        family="segment_writes",
        idempotent=False,
    )
    return Operation(spec, _segment_parser(version))


def get_operation(segment_id: str, version: ApiVersion) -> Operation[Segment]:
    """``GET /segments/{id}``."""
    spec = RequestSpec(method="GET", path=_path(segment_id), family="segments")
    return Operation(spec, _segment_parser(version))


def update_operation(
    segment_id: str, name: str, condition_groups: Sequence[ConditionGroup], version: ApiVersion
) -> Operation[Segment]:
    """``PUT /segments/{id}``: replaces the name and the whole rule."""
    check_segment(name, condition_groups)
    spec = RequestSpec(
        method="PUT",
        path=_path(segment_id),
        body=json_body(segment_to_json(name, condition_groups, version)),
        family="segment_writes",
    )
    return Operation(spec, _segment_parser(version))


def delete_operation(segment_id: str) -> Operation[None]:
    """``DELETE /segments/{id}``."""
    spec = RequestSpec(method="DELETE", path=_path(segment_id), family="segments")
    return Operation(spec, lambda _: None)


def statistics_operation(segment_id: str, version: ApiVersion) -> Operation[SegmentStatistics]:
    """``GET /segments/{id}/statistics``."""
    spec = RequestSpec(method="GET", path=f"{_path(segment_id)}/statistics", family="segments")

    def parse(response: httpx.Response) -> SegmentStatistics:
        return parse_with(lambda body: from_json(SegmentStatistics, body, version), response)

    return Operation(spec, parse)


def list_operation(params: Params, version: ApiVersion) -> Operation[SegmentPage]:
    """One page of ``GET /segments``."""

    def parse(response: httpx.Response) -> SegmentPage:
        return parse_with(lambda body: segment_page_from_json(body, version), response)

    spec = RequestSpec(method="GET", path="/segments", params=params, family="segments")
    return Operation(spec, parse)


def _segment_parser(version: ApiVersion) -> Callable[[httpx.Response], Segment]:
    return lambda response: parse_with(lambda body: from_json(Segment, body, version), response)


def _path(segment_id: str) -> str:
    if not isinstance(segment_id, str) or not segment_id or "/" in segment_id:
        raise InvalidRequestError(f"not a segment id: {segment_id!r}")
    return f"/segments/{quote(segment_id, safe='')}"


# --- resources ---------------------------------------------------------------------------------


class Segments:
    """Segments of the store: ``client.segments``."""

    def __init__(self, client: OmnisendClient) -> None:
        self._client = client

    def create(self, name: str, condition_groups: Sequence[ConditionGroup]) -> Segment:
        """Create a segment; Omnisend then builds its membership (``status == "building"``).

        Args:
            name: Up to 256 characters.
            condition_groups: The rule, e.g. ``tag_rule("VIP customers")``.

        Raises:
            InvalidRequestError: A blank or too long name, or an empty rule.
            OutcomeUnknownError: The answer was lost; the segment may exist. Look for it by name
                with :meth:`iter` before creating it again.
        """
        operation = create_operation(name, condition_groups, self._client.api_version)
        return self._client.execute(operation)

    def list(self, **query: Unpack[SegmentPageQuery]) -> SegmentPage:
        """One page of segments (1 to 50, Omnisend's default 10) and the cursors around it.

        Pass ``page.after`` as ``after`` for the next page, or use :meth:`iter` to walk them all.
        See :class:`SegmentPageQuery` for every key.
        """
        return self._client.execute(list_operation(list_params(**query), self._client.api_version))

    def iter(
        self, *, page_size: int = MAX_SEGMENT_PAGE_SIZE, **order: Unpack[SegmentOrder]
    ) -> Iterator[Segment]:
        """Every segment, fetching pages lazily as you iterate (50 a page: the fewest requests).

        Arguments are checked here, before anything is sent.
        """
        return self._pages(list_params(limit=page_size, **order))

    def _pages(self, params: Params | None) -> Iterator[Segment]:
        while params is not None:
            page = self._client.execute(list_operation(params, self._client.api_version))
            yield from page.segments
            params = next_params(page, params)

    def get(self, segment_id: str) -> Segment:
        """The segment with this id; ``NotFoundError`` if there is none."""
        return self._client.execute(get_operation(segment_id, self._client.api_version))

    def update(
        self, segment_id: str, name: str, condition_groups: Sequence[ConditionGroup]
    ) -> Segment:
        """Replace the segment's name and rule (``PUT``: send the whole rule).

        Raises:
            NotFoundError: No such segment.
            SegmentBuildingError: Omnisend is still building the segment; try again later.
        """
        operation = update_operation(segment_id, name, condition_groups, self._client.api_version)
        with building_conflicts():
            return self._client.execute(operation)

    def delete(self, segment_id: str) -> None:
        """Delete the segment (its contacts stay).

        Raises:
            NotFoundError: No such segment (also when an earlier attempt, whose answer was lost
                and which the client retried, already deleted it).
            SegmentBuildingError: Omnisend is still building the segment; try again later.
        """
        with building_conflicts():
            self._client.execute(delete_operation(segment_id))

    def statistics(self, segment_id: str) -> SegmentStatistics:
        """How many contacts the segment holds (eventually consistent after tag changes)."""
        return self._client.execute(statistics_operation(segment_id, self._client.api_version))


class AsyncSegments:
    """Segments of the store: ``client.segments`` of :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        self._client = client

    async def create(self, name: str, condition_groups: Sequence[ConditionGroup]) -> Segment:
        """Like :meth:`Segments.create`."""
        operation = create_operation(name, condition_groups, self._client.api_version)
        return await self._client.execute(operation)

    async def list(self, **query: Unpack[SegmentPageQuery]) -> SegmentPage:
        """Like :meth:`Segments.list`."""
        operation = list_operation(list_params(**query), self._client.api_version)
        return await self._client.execute(operation)

    def iter(
        self, *, page_size: int = MAX_SEGMENT_PAGE_SIZE, **order: Unpack[SegmentOrder]
    ) -> AsyncIterator[Segment]:
        """Like :meth:`Segments.iter`, as an async iterator."""
        return self._pages(list_params(limit=page_size, **order))

    async def _pages(self, params: Params | None) -> AsyncIterator[Segment]:
        while params is not None:
            page = await self._client.execute(list_operation(params, self._client.api_version))
            for segment in page.segments:
                yield segment
            params = next_params(page, params)

    async def get(self, segment_id: str) -> Segment:
        """Like :meth:`Segments.get`."""
        return await self._client.execute(get_operation(segment_id, self._client.api_version))

    async def update(
        self, segment_id: str, name: str, condition_groups: Sequence[ConditionGroup]
    ) -> Segment:
        """Like :meth:`Segments.update`."""
        operation = update_operation(segment_id, name, condition_groups, self._client.api_version)
        with building_conflicts():
            return await self._client.execute(operation)

    async def delete(self, segment_id: str) -> None:
        """Like :meth:`Segments.delete`."""
        with building_conflicts():
            await self._client.execute(delete_operation(segment_id))

    async def statistics(self, segment_id: str) -> SegmentStatistics:
        """Like :meth:`Segments.statistics`."""
        operation = statistics_operation(segment_id, self._client.api_version)
        return await self._client.execute(operation)
