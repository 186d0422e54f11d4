"""Sans-I/O request building and response reading, shared by the sync and async clients.

Nothing here sends or sleeps: an :class:`Operation` says what to send and how to read the answer;
the clients are thin shells that pace, send and retry it.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import attrs
import httpx

from omnisend_sdk import _json
from omnisend_sdk._errors import (
    APIStatusError,
    ProblemDetails,
    UnexpectedResponseError,
    error_class_for,
)
from omnisend_sdk._ratelimit import EndpointFamily

T = TypeVar("T")

QueryParams = Sequence[tuple[str, str]]


@attrs.frozen(kw_only=True)
class RequestSpec:
    """One request, independent of any HTTP library.

    Attributes:
        method: HTTP method.
        path: Path below the base URL, without query string.
        params: Query parameters, in order.
        body: The encoded JSON body, if any.
        family: The rate-limit family the request is paced in.
        idempotent: Whether sending it twice is harmless. A non-idempotent request whose answer is
            lost is never resent (its outcome is unknown).
    """

    method: str
    path: str
    params: QueryParams = ()
    body: bytes | None = None
    family: EndpointFamily = "default"
    idempotent: bool = True


@attrs.frozen
class Operation(Generic[T]):
    """A request and the function that reads its answer."""

    request: RequestSpec
    parse: Callable[[httpx.Response], T]


def json_body(value: Any) -> bytes:
    """Encode a request body."""
    return _json.dumps(value)


def to_httpx_request(
    spec: RequestSpec, *, base_url: str, timeout: httpx.Timeout, user_agent: str
) -> httpx.Request:
    """Build the httpx request for a spec. The timeout travels with the request, so it holds even
    on an ``httpx.Client`` the user configured differently."""
    headers = {"Accept": "application/json", "User-Agent": user_agent}
    if spec.body is not None:
        headers["Content-Type"] = "application/json"
    return httpx.Request(
        spec.method,
        base_url + spec.path,
        params=list(spec.params),
        content=spec.body,
        headers=headers,
        extensions={"timeout": timeout.as_dict()},
    )


def read_json(response: httpx.Response) -> Any:
    """The decoded body of a successful answer, or an error saying why it could not be read."""
    try:
        return _json.loads(response.content)
    except ValueError as err:
        raise UnexpectedResponseError(
            f"Omnisend answered {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')})"
        ) from err


def read_object(response: httpx.Response) -> Mapping[str, Any]:
    """The decoded body of a successful answer that must be a JSON object."""
    body = read_json(response)
    if not isinstance(body, Mapping):
        raise UnexpectedResponseError(
            f"Omnisend answered {response.status_code} with JSON {type(body).__name__}, "
            "expected an object"
        )
    return body


def parse_with(parse: Callable[[Mapping[str, Any]], T], response: httpx.Response) -> T:
    """Apply a model parser to an answer, turning any structuring failure into one SDK error."""
    body = read_object(response)
    try:
        return parse(body)
    except Exception as err:  # cattrs raises several types; all mean the same thing here
        raise UnexpectedResponseError(
            f"could not read Omnisend's {response.status_code} answer: {err}"
        ) from err


def status_error(
    response: httpx.Response, spec: RequestSpec, *, now: datetime | None = None
) -> APIStatusError | None:
    """The exception an error answer stands for, or None for a success.

    The body may be RFC 9457 problem JSON, v3's ``{error, fields}``, or a CDN's HTML page.
    """
    if response.status_code < 400:
        return None
    try:
        body = _json.loads(response.content) if response.content else None
    except ValueError:
        body = None  # an HTML page from the CDN: the status says enough
    problem = ProblemDetails.from_body(response.status_code, body)
    return error_class_for(response.status_code)(
        problem,
        method=spec.method,
        path=spec.path,
        retry_after=server_delay(response, problem, now=now),
    )


def server_delay(
    response: httpx.Response, problem: ProblemDetails, *, now: datetime | None = None
) -> float | None:
    """The wait (seconds) the server asked for, from the body or any of the headers it may use.

    The 429 body's ``retryAfter`` comes first, then ``Retry-After`` (seconds or an HTTP date),
    then v3's ``X-Rate-Limit-Reset`` (on a 429 only: on other answers it is routine metadata).
    """
    if problem.retry_after is not None:
        return problem.retry_after
    retry_after = _retry_after_header(response.headers.get("Retry-After"), now)
    if retry_after is not None:
        return retry_after
    if response.status_code == 429:
        return _non_negative(response.headers.get("X-Rate-Limit-Reset"))
    return None


def rate_limit_headers(response: httpx.Response) -> tuple[int | None, float | None]:
    """``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset``, where the server sends them."""
    remaining = _non_negative(response.headers.get("X-Rate-Limit-Remaining"))
    reset = _non_negative(response.headers.get("X-Rate-Limit-Reset"))
    return (int(remaining) if remaining is not None else None), reset


def _retry_after_header(value: str | None, now: datetime | None) -> float | None:
    if value is None:
        return None
    seconds = _non_negative(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _non_negative(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None
