"""The Omnisend clients: pace, send, retry and translate errors, around the sans-I/O core.

:class:`OmnisendClient` and :class:`AsyncOmnisendClient` differ only in how they wait and send;
everything they say to Omnisend is built and read by :mod:`omnisend_sdk._http` and the resource
modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, Self, TypedDict, TypeVar, Unpack

import attrs
import httpx

from omnisend_sdk import _http
from omnisend_sdk._auth import ApiKey, OmnisendAuth, StoreAccess
from omnisend_sdk._batches import AsyncBatches, Batches
from omnisend_sdk._config import (
    checked_deadline,
    checked_max_response_bytes,
    checked_timeout,
    refuse_unverified_tls,
    settings_from_env,
)
from omnisend_sdk._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    LOGGER_NAME,
)
from omnisend_sdk._contacts import AsyncContacts, Contacts
from omnisend_sdk._deadline import ACTIVE_DEADLINE, Deadline, bind_sockets_to_deadlines
from omnisend_sdk._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    outcome_unknown_for,
    translate_transport_error,
)
from omnisend_sdk._ratelimit import RateLimiter, Reservation
from omnisend_sdk._retry import RetryPolicy
from omnisend_sdk._segments import AsyncSegments, Segments
from omnisend_sdk._tags import AsyncTags, Tags
from omnisend_sdk._version import __version__

T = TypeVar("T")
#: The HTTP client a client sends with: httpx's sync or async one.
_HttpClientT = TypeVar("_HttpClientT", httpx.Client, httpx.AsyncClient)
#: What one attempt gives: the answer, or (async) something to await for it.
_AnswerT = TypeVar("_AnswerT", httpx.Response, Awaitable[httpx.Response])

logger = logging.getLogger(LOGGER_NAME)

_USER_AGENT = f"omnisend-sdk-python/{__version__}"


class ClientOptions(TypedDict, total=False):
    """The settings both clients take besides the key; see :class:`OmnisendClient` for each."""

    base_url: str | None
    api_version: str
    timeout: float | httpx.Timeout
    deadline: float | None
    max_response_bytes: int
    retry: RetryPolicy
    rate_limiter: RateLimiter | None
    user_agent: str | None


@attrs.frozen
class ClientStats:
    """What a client has sent so far: a snapshot, safe to keep.

    Attributes:
        requests: Requests sent, retries included.
        retries: Requests sent again after a retryable failure.
        rate_limited: 429 answers received.
        throttled_seconds: Time the rate limiter held requests back: while several wait at
            once, the time counts once, so it never exceeds the time that passed.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    throttled_seconds: float = 0.0


class _Counters:
    """Thread-safe counters behind :class:`ClientStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = ClientStats()
        self._held_until = -math.inf

    def held_back(self, start: float, until: float) -> None:
        """A request waits from ``start`` to ``until``: count the part no other wait covers."""
        with self._lock:
            # Bookings come in clock order, so the waits' union grows at its end only.
            added = max(0.0, until - max(start, self._held_until))
            self._held_until = max(self._held_until, until)
            self._stats = attrs.evolve(
                self._stats, throttled_seconds=self._stats.throttled_seconds + added
            )

    def add(self, **increments: float) -> None:
        with self._lock:
            current = attrs.asdict(self._stats)
            self._stats = ClientStats(**{k: current[k] + increments.get(k, 0) for k in current})

    def snapshot(self) -> ClientStats:
        with self._lock:
            return self._stats


class _Timing:
    """How long one exchange with Omnisend took, known once it is over."""

    __slots__ = ("elapsed",)

    def __init__(self) -> None:
        self.elapsed = 0.0


class _ClientCore(StoreAccess, Generic[_HttpClientT, _AnswerT]):
    """Configuration, the HTTP client and the I/O-free halves of sending, shared by both clients.

    Every setting is checked here, once for both clients; a client only adds how it waits
    (``_sleep``) and sends (``_attempt``), which is where sync and async differ.
    """

    def __init__(
        self,
        api_key: str | ApiKey,
        *,
        http_client: _HttpClientT | None,
        http_client_class: type[_HttpClientT],
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_SECONDS,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing the default is safe
        rate_limiter: RateLimiter | None = None,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(api_key, base_url=base_url, api_version=api_version)
        self._timeout = checked_timeout(timeout)
        self._deadline = checked_deadline(deadline, self._timeout)
        self._max_response_bytes = checked_max_response_bytes(max_response_bytes)
        self._host = _http.host_of(self._base_url)
        self._retry = retry
        self._limiter = rate_limiter if rate_limiter is not None else RateLimiter()
        self._user_agent = f"{user_agent} {_USER_AGENT}" if user_agent else _USER_AGENT
        self._auth = OmnisendAuth(self._api_key, self._api_version)
        self._counters = _Counters()
        if http_client is not None:
            refuse_unverified_tls(http_client)
        # A client the user passed in is theirs to close; one created here is closed with us.
        self._owns_http_client = http_client is None
        self._http: _HttpClientT = http_client or http_client_class(
            limits=httpx.Limits(max_connections=DEFAULT_MAX_CONNECTIONS)
        )
        self._send: Callable[[_http.RequestSpec], _AnswerT] = self._retry.decorate(
            self._attempt, on_retry=self._note_retry
        )

    @classmethod
    def from_env(cls, **options: Any) -> Self:
        """A client configured from ``OMNISEND_API_KEY`` (and optionally ``OMNISEND_BASE_URL``,
        ``OMNISEND_API_VERSION``); keyword options override or add to them."""
        return cls(**{**settings_from_env(), **options})

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter every request of this client is paced by."""
        return self._limiter

    @property
    def stats(self) -> ClientStats:
        """Requests, retries and 429s so far."""
        return self._counters.snapshot()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"api_version={self._api_version!r}, key={self._api_key.fingerprint})"
        )

    def _attempt(self, spec: _http.RequestSpec) -> _AnswerT:
        """Pace, send and check one attempt, the client's way (sync or async)."""
        raise NotImplementedError

    def _build(self, spec: _http.RequestSpec) -> httpx.Request:
        return _http.to_httpx_request(
            spec, base_url=self._base_url, timeout=self._timeout, user_agent=self._user_agent
        )

    def _pace(self, spec: _http.RequestSpec) -> Reservation:
        reservation = self._limiter.book(spec.family)
        if reservation.wait > 0:
            self._counters.held_back(reservation.at - reservation.wait, reservation.at)
        return reservation

    def _note_retry(self, error: BaseException) -> None:
        self._counters.add(retries=1)
        logger.warning("retrying after %s", _describe(error))

    @contextlib.contextmanager
    def _exchange(
        self, spec: _http.RequestSpec, reservation: Reservation, deadline: Deadline
    ) -> Iterator[_Timing]:
        """Around one send and read: time it, translate a transport failure, free the slot.

        Only the sending inside differs between the clients, so everything around it is here.
        """
        timing = _Timing()
        started = time.perf_counter()
        try:
            yield timing
        except httpx.TransportError as error:
            self._counters.add(requests=1)  # an attempt counts, answered or not
            raise self._translate(error, spec, deadline) from error
        finally:
            reservation.answered()
            timing.elapsed = time.perf_counter() - started

    def _translate(
        self, error: httpx.TransportError, spec: _http.RequestSpec, deadline: Deadline
    ) -> APIConnectionError | OutcomeUnknownError:
        # A timeout once the deadline has passed is the deadline's doing, whichever wait it ended.
        overran = isinstance(error, httpx.TimeoutException) and deadline.passed()
        return translate_transport_error(
            error,
            method=spec.method,
            path=spec.path,
            idempotent=spec.idempotent,
            host=self._host,
            deadline=deadline.seconds if overran else None,
        )

    def _check(
        self, spec: _http.RequestSpec, body: _http.CappedBody, elapsed: float
    ) -> httpx.Response:
        """Log the answer, feed the limiter, and raise for an error status, a redirect or a
        success answer cut at the size cap."""
        response = body.response()
        self._counters.add(requests=1)
        logger.debug("%s %s -> %s in %.3f s", spec.method, spec.path, response.status_code, elapsed)
        remaining, reset = _http.rate_limit_headers(response)
        self._limiter.note_headers(remaining, reset)
        error = _http.status_error(response, spec)
        if error is None:
            redirect = _http.redirect_error(response, spec, base_url=self._base_url)
            if redirect is not None:
                raise redirect
            if body.cut:
                self._refuse_too_large(spec, response.status_code)
            return response
        if isinstance(error, RateLimitError):
            self._counters.add(rate_limited=1)
            self._limiter.note_rate_limited(spec.family, error.retry_after)
        elif error.retry_after is not None:
            self._limiter.pause(error.retry_after)
        unknown = None if spec.idempotent else outcome_unknown_for(error)
        if unknown is not None:
            raise unknown from error
        raise error

    def _refuse_too_large(self, spec: _http.RequestSpec, status: int) -> None:
        error = _http.too_large_error(spec, status, self._max_response_bytes)
        if spec.idempotent:
            raise error
        # A request not safe to repeat did take effect, but what it made (a batch id) was not
        # read: the caller must look it up, exactly as after a lost answer.
        raise OutcomeUnknownError(
            f"Omnisend answered {status}, but the answer is over the "
            f"{self._max_response_bytes:,}-byte cap (max_response_bytes) and was not read",
            method=spec.method,
            path=spec.path,
        ) from error


def _describe(error: BaseException) -> str:
    # The SDK's errors carry no key and no query strings, so their text is safe to log.
    return f"{type(error).__name__}: {error}"


def _add_verify_hint(error: APIStatusError) -> None:
    if isinstance(error, AuthenticationError):
        error.add_note("The API key is missing, mistyped or revoked: create a new one in Omnisend.")
    elif isinstance(error, PermissionDeniedError):
        error.add_note(
            "The key works but may not read contacts: give it the contacts read and write "
            "permissions (Store settings > API keys), or it was blocked after many errors."
        )


class OmnisendClient(_ClientCore[httpx.Client, httpx.Response]):
    """A synchronous Omnisend client, safe to share between threads.

    Args:
        api_key: An Omnisend API key with contacts read and write permissions (and segments
            read and write for ``client.segments``).
        http_client: Your own ``httpx.Client`` (any transport); it is left open on ``close()``.
        sleep: How the client waits; inject a fake for tests in simulated time.

    Keyword Args:
        base_url (str | None): Where the API lives; defaults to Omnisend's URL for
            ``api_version``. Must be https, except a loopback address (an emulator).
        api_version (str): ``"2026-03-15"`` (default) or ``"v3"``.
        timeout (float | httpx.Timeout): Seconds per phase of a request (connecting, sending,
            each wait for data; Omnisend recommends 10), or an ``httpx.Timeout``.
        deadline (float | None): Seconds one attempt may take in all, from connecting to the
            last byte of the answer; past it the attempt fails with ``APITimeoutError`` and is
            retried like any timeout. Defaults to three times the longest phase of ``timeout``
            (30 s); ``math.inf`` turns it off. With your own ``http_client`` it is checked
            between chunks of the answer only, so a server slow to send the headers is bounded
            by ``timeout`` alone.
        max_response_bytes (int): The largest answer read (16 MiB); a success answer past it
            raises ``UnexpectedResponseError`` without being read whole.
        retry (RetryPolicy): When and how long to retry; ``RetryPolicy.disabled()`` sends each
            request once.
        rate_limiter (RateLimiter | None): Paces requests to the brand's limits; share one
            between clients of the same store.
        user_agent (str | None): Prepended to the SDK's User-Agent, to name your integration.
    """

    def __init__(
        self,
        api_key: str | ApiKey,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            api_key, http_client=http_client, http_client_class=httpx.Client, **options
        )
        if self._owns_http_client and not bind_sockets_to_deadlines(self._http):
            logger.debug("httpx's pools are not where expected: deadlines hold between chunks only")
        self._sleep = sleep
        self.contacts = Contacts(self)
        self.tags = Tags(self)
        self.batches = Batches(self)
        self.segments = Segments(self)

    def execute(self, operation: _http.Operation[T]) -> T:
        """Send an operation (paced and retried) and read its answer."""
        return operation.parse(self._send(operation.request))

    def sleep(self, seconds: float) -> None:
        """Wait with the client's (possibly injected) sleep."""
        self._sleep(seconds)

    def verify(self) -> None:
        """Prove the key works and may read contacts, with one cheap request.

        The answer must be Omnisend's: a JSON contact list. A login page, a redirect or any
        other JSON at the base URL is refused, as is an unreachable host.

        Raises:
            AuthenticationError: The key is missing or invalid (401).
            PermissionDeniedError: The key lacks contacts permission or is blocked (403).
            UnexpectedResponseError: The base URL does not look like Omnisend's API.
            APIConnectionError: The host could not be reached (retries spent).
        """
        try:
            self.execute(_http.verify_operation(self._base_url))
        except APIStatusError as error:
            _add_verify_hint(error)
            raise

    def _attempt(self, spec: _http.RequestSpec) -> httpx.Response:
        reservation = self._pace(spec)
        if reservation.wait > 0:
            self._sleep(reservation.wait)
        request = self._build(spec)
        deadline = Deadline(self._deadline)
        with self._exchange(spec, reservation, deadline) as timing:
            # The sockets of the client's own pool read the deadline from here (headers too).
            token = ACTIVE_DEADLINE.set(deadline)
            try:
                body = self._receive(request, deadline)
            finally:
                ACTIVE_DEADLINE.reset(token)
        return self._check(spec, body, timing.elapsed)

    def _receive(self, request: httpx.Request, deadline: Deadline) -> _http.CappedBody:
        response = self._http.send(request, auth=self._auth, stream=True)
        try:
            body = _http.CappedBody(response, self._max_response_bytes)
            if body.wanted:
                for chunk in response.iter_bytes():
                    deadline.check(request)  # a user's http_client has no bound sockets
                    if not body.feed(chunk):
                        break
        finally:
            response.close()  # an unread rest is dropped with its connection
        return body

    def close(self) -> None:
        """Close the HTTP connection pool, if this client created it."""
        if self._owns_http_client:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncOmnisendClient(_ClientCore[httpx.AsyncClient, Awaitable[httpx.Response]]):
    """An asyncio Omnisend client with the same surface as :class:`OmnisendClient`.

    Arguments are those of :class:`OmnisendClient`; ``http_client`` is an ``httpx.AsyncClient``
    and ``sleep`` a coroutine function.
    """

    def __init__(
        self,
        api_key: str | ApiKey,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            api_key, http_client=http_client, http_client_class=httpx.AsyncClient, **options
        )
        self._sleep = sleep
        self.contacts = AsyncContacts(self)
        self.tags = AsyncTags(self)
        self.batches = AsyncBatches(self)
        self.segments = AsyncSegments(self)

    async def execute(self, operation: _http.Operation[T]) -> T:
        """Send an operation (paced and retried) and read its answer."""
        return operation.parse(await self._send(operation.request))

    async def sleep(self, seconds: float) -> None:
        """Wait with the client's (possibly injected) sleep."""
        await self._sleep(seconds)

    async def verify(self) -> None:
        """Like :meth:`OmnisendClient.verify`."""
        try:
            await self.execute(_http.verify_operation(self._base_url))
        except APIStatusError as error:
            _add_verify_hint(error)
            raise

    async def _attempt(self, spec: _http.RequestSpec) -> httpx.Response:
        reservation = self._pace(spec)
        if reservation.wait > 0:
            await self._sleep(reservation.wait)
        request = self._build(spec)
        deadline = Deadline(self._deadline)
        with self._exchange(spec, reservation, deadline) as timing:
            # Cancelling the task's exchange at the deadline ends any wait, headers included,
            # whatever the http_client.
            scope = asyncio.timeout(deadline.remaining())
            try:
                async with scope:
                    body = await self._receive(request)
            except TimeoutError as error:
                if not scope.expired():
                    raise
                # Where the exchange stood is unknown, so it counts as sent: a request not safe
                # to repeat is then reported with an unknown outcome, never resent blindly.
                raise httpx.ReadTimeout("the request's deadline passed", request=request) from error
        return self._check(spec, body, timing.elapsed)

    async def _receive(self, request: httpx.Request) -> _http.CappedBody:
        response = await self._http.send(request, auth=self._auth, stream=True)
        try:
            body = _http.CappedBody(response, self._max_response_bytes)
            if body.wanted:
                async for chunk in response.aiter_bytes():
                    if not body.feed(chunk):
                        break
        finally:
            await response.aclose()  # an unread rest is dropped with its connection
        return body

    async def aclose(self) -> None:
        """Close the HTTP connection pool, if this client created it."""
        if self._owns_http_client:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
