"""``client.batches``: send up to 100 contacts in one request, then follow their processing.

``POST /batches`` is not idempotent: if its answer is lost, the batch may exist anyway, so the
client raises :class:`OutcomeUnknownError` instead of resending, and the caller reconciles with
:meth:`Batches.list`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final, TypedDict, Unpack

import httpx

from omnisend_sdk._constants import (
    DEFAULT_BATCH_WAIT_TIMEOUT_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS,
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_POLL_INTERVAL_SECONDS,
    ApiVersion,
)
from omnisend_sdk._contacts import check_contact
from omnisend_sdk._errors import BatchWaitTimeoutError, InvalidRequestError
from omnisend_sdk._http import Operation, RequestSpec, json_body, parse_with, read_object
from omnisend_sdk._models import Batch, BatchItem, BatchItems, BatchStatus, ContactInput
from omnisend_sdk._wire import contact_to_json, from_json

if TYPE_CHECKING:
    from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient

#: Growth of the polling interval between two looks at a batch.
_POLL_BACKOFF = 1.5


BatchItemInput = ContactInput | Mapping[str, Any] | bytes
"""A batch item: a :class:`ContactInput`; a contact request body already in the API's JSON shape;
or such a body already encoded as JSON (what the export engine sends: it encodes each contact
once, to measure it, and keeps only the bytes)."""

#: The ``POST /batches`` envelope around its items, as ``json_body`` encodes it.
_ENVELOPE_START: Final = b'{"method":"POST","endpoint":"contacts","items":['


def encode_batch(
    items: Sequence[BatchItemInput], version: ApiVersion, *, origin: str | None = None
) -> bytes:
    """The ``POST /batches`` body for contacts, refused if Omnisend would refuse it.

    Each item is encoded alone and the envelope put around them: compact JSON is the same
    bytes either way, and an item given encoded is not encoded again.

    Raises:
        InvalidRequestError: No items, more than the version allows (100, v3 1000), a contact
            without identifier, an encoded item that is not a JSON object, or a body over
            about 1 MB.
    """
    limit = MAX_BATCH_ITEMS[version]
    if not 1 <= len(items) <= limit:
        raise InvalidRequestError(f"a batch holds 1 to {limit} items, got {len(items)}")
    encoded: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            if not (item.startswith(b"{") and item.endswith(b"}")):
                raise InvalidRequestError("an encoded batch item must be a JSON object")
            encoded.append(item)
        elif isinstance(item, ContactInput):
            check_contact(item)
            encoded.append(json_body(contact_to_json(item, version)))
        else:
            encoded.append(json_body(item))
    tail = b"]}" if origin is None else b'],"origin":' + json_body(origin) + b"}"
    body = b"".join((_ENVELOPE_START, b",".join(encoded), tail))
    if len(body) > MAX_BATCH_BYTES:
        raise InvalidRequestError(
            f"the batch body is {len(body):,} bytes; Omnisend accepts about {MAX_BATCH_BYTES:,}: "
            "send fewer items per batch"
        )
    return body


def create_operation(body: bytes, version: ApiVersion) -> Operation[Batch]:
    """``POST /batches`` with an encoded body (see :func:`encode_batch`)."""
    spec = RequestSpec(method="POST", path="/batches", body=body, idempotent=False)
    return Operation(spec, lambda response: _parse_batch(response, version))


def get_operation(batch_id: str, version: ApiVersion) -> Operation[Batch]:
    """``GET /batches/{id}``."""
    spec = RequestSpec(method="GET", path=f"/batches/{_checked_id(batch_id)}")
    return Operation(spec, lambda response: _parse_batch(response, version))


def items_operation(batch_id: str, version: ApiVersion) -> Operation[BatchItems]:
    """``GET /batches/{id}/items``: the batch with each item's answer."""
    spec = RequestSpec(method="GET", path=f"/batches/{_checked_id(batch_id)}/items")

    def parse(response: httpx.Response) -> BatchItems:
        def read(body: Mapping[str, Any]) -> BatchItems:
            return BatchItems(
                batch=from_json(Batch, body, version),
                responses=tuple(from_json(BatchItem, i, version) for i in _list(body, "responses")),
                errors=tuple(from_json(BatchItem, i, version) for i in _list(body, "errors")),
            )

        return parse_with(read, response)

    return Operation(spec, parse)


class BatchListFilters(TypedDict, total=False):
    """Which contact batches :meth:`Batches.list` returns; every key is optional.

    Attributes:
        status: Only batches in this status.
        created_from: Created on this calendar day (UTC) or later; a datetime counts as its day.
        created_to: Created on this calendar day (UTC) or earlier.
        offset: Batches to skip, newest first (0).
        limit: Batches to return (100).
    """

    status: BatchStatus | None
    created_from: date | None
    created_to: date | None
    offset: int
    limit: int


class BatchWaitOptions(TypedDict, total=False):
    """How :meth:`Batches.wait` waits; every key is optional.

    Attributes:
        timeout: Seconds the whole wait may last (600).
        poll_interval: Seconds before the second look (1); later looks come less often.
    """

    timeout: float
    poll_interval: float


def list_operation(
    version: ApiVersion,
    *,
    status: BatchStatus | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Operation[tuple[Batch, ...]]:
    """``GET /batches?endpoint=contacts``: recent contact batches, newest first."""
    if offset < 0 or limit < 1:
        raise InvalidRequestError("offset must be >= 0 and limit >= 1")
    values: list[tuple[str, str | None]] = [
        ("endpoint", "contacts"),
        ("status", status),
        ("dateFrom", _day(created_from)),
        ("dateTo", _day(created_to)),
        ("offset", str(offset)),
        ("limit", str(limit)),
    ]
    params = tuple((k, v) for k, v in values if v is not None)

    def parse(response: httpx.Response) -> tuple[Batch, ...]:
        body = read_object(response)
        # The listing's envelope is unconfirmed: accept the likely names of its array.
        listed: object = next((body[k] for k in ("batches", "data", "items") if k in body), [])
        raw = listed if isinstance(listed, list) else []
        return parse_with(lambda _: tuple(from_json(Batch, b, version) for b in raw), response)

    return Operation(RequestSpec(method="GET", path="/batches", params=params), parse)


def _day(value: date | None) -> str | None:
    """The listing filters by calendar day (``yyyy-mm-dd``, UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return value.isoformat()


def next_poll_interval(previous: float) -> float:
    """Poll less often the longer a batch takes: each look spends the brand's shared budget."""
    return min(MAX_POLL_INTERVAL_SECONDS, previous * _POLL_BACKOFF)


class BatchWait:
    """The decisions of waiting for a batch, without the waiting (sans-I/O).

    A client looks at the batch, asks :meth:`pause_after` how long to sleep, and sleeps; this
    decides when the batch is done, when the wait has timed out and how the interval grows.

    Args:
        batch_id: The batch waited for, named in the timeout error.
        clock: Seconds on the clock the wait is timed by (the rate limiter's).
        timeout: Seconds the whole wait may last.
        poll_interval: Seconds before the second look; later looks come less often.
    """

    def __init__(
        self,
        batch_id: str,
        clock: Callable[[], float],
        *,
        timeout: float = DEFAULT_BATCH_WAIT_TIMEOUT_SECONDS,
        poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
    ) -> None:
        self._batch_id = batch_id
        self._clock = clock
        self._timeout = timeout
        self._deadline = clock() + timeout
        self._interval = poll_interval

    def pause_after(self, batch: Batch) -> float | None:
        """How long to wait before the next look, or None when ``batch`` is done.

        Raises:
            BatchWaitTimeoutError: The batch is not done and the time is up.
        """
        if batch.done:
            return None
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise BatchWaitTimeoutError(self._batch_id, batch.status, self._timeout)
        pause = min(self._interval, remaining)  # never sleep past the deadline
        self._interval = next_poll_interval(self._interval)
        return pause


def _parse_batch(response: httpx.Response, version: ApiVersion) -> Batch:
    return parse_with(lambda body: from_json(Batch, body, version), response)


def _list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    return value if isinstance(value, list) else []


def _checked_id(batch_id: str) -> str:
    if not batch_id or "/" in batch_id:
        raise InvalidRequestError(f"not a batch id: {batch_id!r}")
    return batch_id


class Batches:
    """Batches of contact requests: ``client.batches``."""

    def __init__(self, client: OmnisendClient) -> None:
        self._client = client

    def create(self, items: Sequence[BatchItemInput], *, origin: str | None = None) -> Batch:
        """Send contacts to be created or updated asynchronously.

        Args:
            items: 1 to 100 contacts: :class:`ContactInput` objects, or request bodies already in
                the API's JSON shape (sent as they are).
            origin: Omnisend's optional ``origin`` label for the batch.

        Raises:
            InvalidRequestError: Too many items, a contact without identifier, or over ~1 MB.
            OutcomeUnknownError: The answer was lost; the batch may exist. Look it up with
                :meth:`list` before sending the items again.
        """
        body = encode_batch(items, self._client.api_version, origin=origin)
        return self._client.execute(create_operation(body, self._client.api_version))

    def get(self, batch_id: str) -> Batch:
        """The batch's status and counts."""
        return self._client.execute(get_operation(batch_id, self._client.api_version))

    def items(self, batch_id: str) -> BatchItems:
        """Each item's request and answer; match them to your rows by email, not by position."""
        return self._client.execute(items_operation(batch_id, self._client.api_version))

    def list(self, **filters: Unpack[BatchListFilters]) -> tuple[Batch, ...]:
        """Recent contact batches, newest first (Omnisend keeps them 7 days).

        ``created_from`` and ``created_to`` filter by calendar day (UTC); a datetime counts as its
        day. See :class:`BatchListFilters` for every filter.
        """
        return self._client.execute(list_operation(self._client.api_version, **filters))

    def wait(self, batch_id: str, **options: Unpack[BatchWaitOptions]) -> Batch:
        """Poll until the batch is ``finished`` or ``stopped``, less often as time passes.

        ``timeout`` (600 s) bounds the whole wait; ``poll_interval`` (1 s) is the first pause.

        Raises:
            BatchWaitTimeoutError: Still pending or in progress after ``timeout`` seconds.
        """
        waiting = BatchWait(batch_id, self._client.rate_limiter.clock, **options)
        batch = self.get(batch_id)
        while (pause := waiting.pause_after(batch)) is not None:
            self._client.sleep(pause)
            batch = self.get(batch_id)
        return batch


class AsyncBatches:
    """Batches of contact requests: ``client.batches`` of :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        self._client = client

    async def create(self, items: Sequence[BatchItemInput], *, origin: str | None = None) -> Batch:
        """Like :meth:`Batches.create`."""
        body = encode_batch(items, self._client.api_version, origin=origin)
        return await self._client.execute(create_operation(body, self._client.api_version))

    async def get(self, batch_id: str) -> Batch:
        """Like :meth:`Batches.get`."""
        return await self._client.execute(get_operation(batch_id, self._client.api_version))

    async def items(self, batch_id: str) -> BatchItems:
        """Like :meth:`Batches.items`."""
        return await self._client.execute(items_operation(batch_id, self._client.api_version))

    async def list(self, **filters: Unpack[BatchListFilters]) -> tuple[Batch, ...]:
        """Like :meth:`Batches.list`."""
        return await self._client.execute(list_operation(self._client.api_version, **filters))

    async def wait(self, batch_id: str, **options: Unpack[BatchWaitOptions]) -> Batch:
        """Like :meth:`Batches.wait`."""
        waiting = BatchWait(batch_id, self._client.rate_limiter.clock, **options)
        batch = await self.get(batch_id)
        while (pause := waiting.pause_after(batch)) is not None:
            await self._client.sleep(pause)
            batch = await self.get(batch_id)
        return batch
