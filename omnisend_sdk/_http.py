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


# --- answers within bounds ------------------------------------------------------------------------

#: Headers that describe the body as it came over the wire; a collected body is already decoded.
_WIRE_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class CappedBody:
    """An answer's body, collected chunk by chunk up to a cap, so memory stays bounded.

    The client streams every answer through one of these instead of reading it whole: an endless
    or huge body stops at the cap. A success answer cut at the cap is refused (a cut body cannot
    be read); an error answer is kept as far as it goes, because its status says what matters and
    a CDN's oversized 5xx page must stay a retryable ``ServerError``.

    Attributes:
        cut: Whether the body went past the cap (or announced a length past it), so that what
            was kept is not the whole answer.
    """

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self._response = response
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = _non_negative(response.headers.get("Content-Length"))
        # An answer that announces its size over the cap is refused before a byte is read.
        self.cut = declared is not None and declared > limit

    @property
    def wanted(self) -> bool:
        """Whether more of the body should be read."""
        return not self.cut

    def feed(self, chunk: bytes) -> bool:
        """Keep a chunk of the (decoded) body; False once the cap is reached: stop reading."""
        room = self._limit - self._size
        if len(chunk) > room:
            self._chunks.append(chunk[:room])
            self._size = self._limit
            self.cut = True
            return False
        self._chunks.append(chunk)
        self._size += len(chunk)
        return True

    def response(self) -> httpx.Response:
        """The answer with the body kept in memory, as the parsers read it."""
        original = self._response
        headers = [
            (name, value)
            for name, value in original.headers.multi_items()
            if name.lower() not in _WIRE_FRAMING
        ]
        return httpx.Response(
            original.status_code,
            headers=headers,
            content=b"".join(self._chunks),
            request=original.request,
            extensions=original.extensions,
        )


def too_large_error(spec: RequestSpec, status: int, limit: int) -> UnexpectedResponseError:
    """The error for a success answer over the size cap."""
    return UnexpectedResponseError(
        f"the {status} answer to {spec.method} {spec.path} is over the {limit:,}-byte cap "
        "(max_response_bytes), so it was not read; no Omnisend answer is that large"
    )


def public_url(url: str | httpx.URL) -> str:
    """A URL as it may be shown: scheme, host, port and path, never credentials or a query."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}{parsed.path}"


def host_of(url: str) -> str:
    """The host (and port, when not the scheme's default) a base URL points at."""
    return httpx.URL(url).netloc.decode("ascii")


def redirect_error(
    response: httpx.Response, spec: RequestSpec, *, base_url: str
) -> UnexpectedResponseError | None:
    """The error a redirect stands for, or None for any other answer.

    Omnisend's API sends no redirects: one comes from something else at the base URL (a login
    page, a proxy, http redirected to https). The SDK never follows it, since that would send the
    key to wherever it points.
    """
    if not 300 <= response.status_code < 400:
        return None
    location = response.headers.get("Location")
    target = f"to {public_url(response.url.join(location))}" if location else "with no Location"
    return UnexpectedResponseError(
        f"{public_url(base_url)} answered {spec.method} {spec.path} with a {response.status_code} "
        f"redirect {target}; Omnisend's API sends none and the SDK follows none: check the base "
        "URL"
    )


#: What Omnisend answers ``GET /contacts`` with, in either version: a list of contacts, and
#: paging (cursors in 2026-03-15, next/previous URLs in v3).
_CONTACT_LIST_SHAPE = "an object with a contacts list"


def verify_operation(base_url: str) -> Operation[None]:
    """``GET /contacts?limit=1``, the cheapest request that needs a working key with contacts
    permission, and a strict reading of its answer: Omnisend's JSON contact list, or an error.

    A success from anything else (a login page, a proxy, a mistyped host that answers every path)
    would otherwise pass for a working key.
    """
    spec = RequestSpec(method="GET", path="/contacts", params=(("limit", "1"),))

    def parse(response: httpx.Response) -> None:
        problem = _not_a_contact_list(response)
        if problem is not None:
            raise UnexpectedResponseError(
                f"{public_url(base_url)} does not look like Omnisend's API: {spec.method} "
                f"{spec.path} answered {response.status_code} with {problem}; check the base URL"
            )

    return Operation(spec, parse)


def _not_a_contact_list(response: httpx.Response) -> str | None:
    """What is wrong with an answer to ``GET /contacts``, or None when it is Omnisend's."""
    content_type = response.headers.get("Content-Type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return f"{media_type or 'no content type'}, not JSON"
    try:
        body = _json.loads(response.content)
    except ValueError:
        return "a body that is not JSON"
    if not isinstance(body, Mapping):
        return f"JSON {type(body).__name__}, not {_CONTACT_LIST_SHAPE}"
    contacts = body.get("contacts")
    paging = body.get("paging")
    if (
        not isinstance(contacts, list)
        or not all(isinstance(c, Mapping) for c in contacts)
        or (paging is not None and not isinstance(paging, Mapping))
    ):
        # Not quoted: an unknown server's JSON could hold anything, even an echoed header.
        return f"JSON of another shape, not {_CONTACT_LIST_SHAPE}"
    return None


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
