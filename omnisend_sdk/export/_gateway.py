"""What the export engine needs from Omnisend, as a small Protocol, and the two client adapters.

The engine is written once, for asyncio. An :class:`AsyncOmnisendClient` is used directly; a sync
:class:`OmnisendClient` is driven from a thread pool, so its requests still overlap. Tests drive the
engine through fakes of this Protocol.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from omnisend_sdk._client import AsyncOmnisendClient, ClientStats, OmnisendClient
from omnisend_sdk._constants import MAX_BATCH_ITEMS, MAX_SEGMENT_PAGE_SIZE, ApiVersion
from omnisend_sdk._models import (
    Batch,
    BatchItems,
    ConditionGroup,
    ContactInput,
    Segment,
    SegmentPage,
    SegmentStatistics,
    UpsertResult,
)
from omnisend_sdk._ratelimit import EndpointFamily

T = TypeVar("T")

#: Threads that carry a sync client's requests; enough to keep the rate budget busy at high latency.
SYNC_CLIENT_THREADS = 24


@attrs.frozen
class GatewayFacts:
    """What the engine and the report need to know about the client behind a gateway.

    Attributes:
        api_version: The API version spoken (sets the batch size and the JSON spellings).
        key_fingerprint: The API key's fingerprint, for the report.
        window: The rate limiter's window in seconds (60, or less against a fast emulator).
        requests_per_window: The brand's general limit per window.
        batch_size: Items per batch the API version allows.
    """

    api_version: ApiVersion
    key_fingerprint: str
    window: float
    requests_per_window: int
    batch_size: int


class ExportGateway(Protocol):
    """The calls the export engine makes, and what it needs to know about the client."""

    @property
    def facts(self) -> GatewayFacts:
        """The client's version, key fingerprint and pace."""
        ...

    def stats(self) -> ClientStats:
        """Requests, retries and 429s so far."""
        ...

    async def create_batch(self, items: Sequence[bytes]) -> Batch:
        """``POST /batches`` with contact request bodies, each encoded as JSON."""
        ...

    async def list_batches(
        self, *, created_from: datetime, offset: int, limit: int
    ) -> tuple[Batch, ...]:
        """Recent contact batches."""
        ...

    async def get_batch(self, batch_id: str) -> Batch:
        """One batch's status."""
        ...

    async def batch_items(self, batch_id: str) -> BatchItems:
        """Each item's answer."""
        ...

    async def add_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        """Add tags to contacts by email."""
        ...

    async def remove_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        """Remove tags from contacts by email."""
        ...

    async def upsert(self, contact: ContactInput) -> UpsertResult:
        """Create or update one contact."""
        ...

    async def create_segment(self, name: str, rule: Sequence[ConditionGroup]) -> Segment:
        """``POST /segments``."""
        ...

    async def get_segment(self, segment_id: str) -> Segment:
        """``GET /segments/{id}``."""
        ...

    async def list_segments(self, after: str | None) -> SegmentPage:
        """``GET /segments``: one page of 50, after the cursor."""
        ...

    async def update_segment(
        self, segment_id: str, name: str, rule: Sequence[ConditionGroup]
    ) -> Segment:
        """``PUT /segments/{id}``."""
        ...

    async def segment_statistics(self, segment_id: str) -> SegmentStatistics:
        """``GET /segments/{id}/statistics``."""
        ...


@runtime_checkable
class PacedGateway(Protocol):
    """A gateway that can tell how long a request would wait for its rate-limit slot.

    The engine asks before it starts a request near its deadline: a request that would wait
    past the deadline is not started. A gateway without a limiter (a test's fake) need not be
    one; its requests never wait.
    """

    def next_wait(self, family: EndpointFamily) -> float:
        """Seconds a request of ``family`` started now would wait for the rate limiter."""
        ...


class _ClientFacts:
    """The Protocol's properties, read from either client."""

    def __init__(self, client: OmnisendClient | AsyncOmnisendClient) -> None:
        self._facts_of = client

    @property
    def facts(self) -> GatewayFacts:
        client = self._facts_of
        return GatewayFacts(
            api_version=client.api_version,
            key_fingerprint=client.key_fingerprint,
            window=client.rate_limiter.window,
            requests_per_window=client.rate_limiter.limit("default"),
            batch_size=MAX_BATCH_ITEMS[client.api_version],
        )

    def stats(self) -> ClientStats:
        return self._facts_of.stats

    def next_wait(self, family: EndpointFamily) -> float:
        return self._facts_of.rate_limiter.next_wait(family)


class AsyncClientGateway(_ClientFacts):
    """The engine's gateway over an :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        super().__init__(client)
        self._client = client

    async def create_batch(self, items: Sequence[bytes]) -> Batch:
        return await self._client.batches.create(items)

    async def list_batches(
        self, *, created_from: datetime, offset: int, limit: int
    ) -> tuple[Batch, ...]:
        return await self._client.batches.list(
            created_from=created_from, offset=offset, limit=limit
        )

    async def get_batch(self, batch_id: str) -> Batch:
        return await self._client.batches.get(batch_id)

    async def batch_items(self, batch_id: str) -> BatchItems:
        return await self._client.batches.items(batch_id)

    async def add_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        return await self._client.tags.add(tags, emails=emails)

    async def remove_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        return await self._client.tags.remove(tags, emails=emails)

    async def upsert(self, contact: ContactInput) -> UpsertResult:
        return await self._client.contacts.upsert(contact)

    async def create_segment(self, name: str, rule: Sequence[ConditionGroup]) -> Segment:
        return await self._client.segments.create(name, rule)

    async def get_segment(self, segment_id: str) -> Segment:
        return await self._client.segments.get(segment_id)

    async def list_segments(self, after: str | None) -> SegmentPage:
        return await self._client.segments.list(limit=MAX_SEGMENT_PAGE_SIZE, after=after)

    async def update_segment(
        self, segment_id: str, name: str, rule: Sequence[ConditionGroup]
    ) -> Segment:
        return await self._client.segments.update(segment_id, name, rule)

    async def segment_statistics(self, segment_id: str) -> SegmentStatistics:
        return await self._client.segments.statistics(segment_id)


class ThreadedClientGateway(_ClientFacts):
    """The engine's gateway over a sync :class:`OmnisendClient`, whose calls run in threads.

    The client is thread-safe and its limiter is shared, so threads only add overlap, never more
    than the rate budget.
    """

    def __init__(self, client: OmnisendClient, *, threads: int = SYNC_CLIENT_THREADS) -> None:
        super().__init__(client)
        self._client = client
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="omnisend-export")

    async def _call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    async def create_batch(self, items: Sequence[bytes]) -> Batch:
        return await self._call(self._client.batches.create, items)

    async def list_batches(
        self, *, created_from: datetime, offset: int, limit: int
    ) -> tuple[Batch, ...]:
        return await self._call(
            self._client.batches.list, created_from=created_from, offset=offset, limit=limit
        )

    async def get_batch(self, batch_id: str) -> Batch:
        return await self._call(self._client.batches.get, batch_id)

    async def batch_items(self, batch_id: str) -> BatchItems:
        return await self._call(self._client.batches.items, batch_id)

    async def add_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        return await self._call(self._client.tags.add, tags, emails=emails)

    async def remove_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        return await self._call(self._client.tags.remove, tags, emails=emails)

    async def upsert(self, contact: ContactInput) -> UpsertResult:
        return await self._call(self._client.contacts.upsert, contact)

    async def create_segment(self, name: str, rule: Sequence[ConditionGroup]) -> Segment:
        return await self._call(self._client.segments.create, name, rule)

    async def get_segment(self, segment_id: str) -> Segment:
        return await self._call(self._client.segments.get, segment_id)

    async def list_segments(self, after: str | None) -> SegmentPage:
        return await self._call(
            self._client.segments.list, limit=MAX_SEGMENT_PAGE_SIZE, after=after
        )

    async def update_segment(
        self, segment_id: str, name: str, rule: Sequence[ConditionGroup]
    ) -> Segment:
        return await self._call(self._client.segments.update, segment_id, name, rule)

    async def segment_statistics(self, segment_id: str) -> SegmentStatistics:
        return await self._call(self._client.segments.statistics, segment_id)

    def close(self) -> None:
        """Stop the threads (the client itself stays open: it is the caller's)."""
        self._executor.shutdown(wait=True)


def gateway_for(
    client: OmnisendClient | AsyncOmnisendClient,
) -> AsyncClientGateway | ThreadedClientGateway:
    """The gateway that fits the client."""
    if isinstance(client, AsyncOmnisendClient):
        return AsyncClientGateway(client)
    return ThreadedClientGateway(client)
