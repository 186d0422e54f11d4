"""The exceptions the SDK raises, all under one root.

::

    OmnisendError
    ├── ConfigurationError          bad settings: no key, plain-http base URL (ValueError)
    │   └── ExportStateError        the export's state file cannot be written: a full disk (export)
    ├── InvalidRequestError         refused before sending: too many items... (ValueError)
    ├── MappingError                a mapping that cannot work on this source (ValueError)
    │   ├── InvalidValueError       one value a per-row rule cannot accept (mapping)
    │   └── SourceError             a source that cannot be read (sources)
    ├── PrivacyAcknowledgementError an export through a connection nobody acknowledged
    │   └── UserNotAllowedError     a user outside the connection's allowed users
    ├── APIConnectionError          no answer from Omnisend (httpx transport errors, translated)
    │   └── APITimeoutError         a phase timed out, or the attempt overran its deadline
    ├── OutcomeUnknownError         a request not safe to repeat may or may not have taken effect
    ├── BatchWaitTimeoutError       a batch did not finish within the time allowed
    ├── UnexpectedResponseError     an answer the SDK cannot use: unreadable, over the size
    │                               cap, a redirect, or (verify) not Omnisend's
    ├── ExportLimitError            a segment over the profile cap, nothing sent (export)
    ├── ExportFailedError           report.raise_for_failures(): rows were lost (export)
    ├── ReportInconsistentError     counts that do not add up: an SDK bug (export)
    └── APIStatusError              Omnisend answered with an error status
        ├── BadRequestError         400 (problem details list the fields)
        ├── AuthenticationError     401 key missing or invalid
        ├── PermissionDeniedError   403 key lacks a permission, or is blocked
        ├── NotFoundError           404
        ├── ConflictError           409 identifier belongs to another contact
        │   └── SegmentBuildingError 409 on /segments/{id}: the segment is still building
        ├── GoneError               410 retired API version
        ├── RateLimitError          429 (``retry_after`` in seconds)
        └── ServerError             5xx

Ctrl-C during ``export_segment()`` raises ``ExportInterrupted``, a ``KeyboardInterrupt`` (so that
``except Exception`` does not swallow the user's stop) carrying the partial report.

``str()`` of an :class:`APIStatusError` gives the status, Omnisend's title and detail, and the trace
id (``instance``) to quote to Omnisend's support. No exception ever holds the API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import httpx


class OmnisendError(Exception):
    """The root of every exception the SDK raises on purpose."""


class ConfigurationError(OmnisendError, ValueError):
    """The client or export was configured in a way that cannot work."""


class InvalidRequestError(OmnisendError, ValueError):
    """A request Omnisend would refuse, caught before it was sent."""


class MappingError(OmnisendError, ValueError):
    """A mapping that cannot be applied to a source (for example, a missing email column)."""


class PrivacyAcknowledgementError(OmnisendError):
    """Personal data would leave the compliance boundary without an acknowledgement."""


class UserNotAllowedError(PrivacyAcknowledgementError):
    """The user running an export is not among the connection's ``allowed_users``."""


class APIConnectionError(OmnisendError):
    """Omnisend could not be reached, or the connection broke before an answer came.

    Attributes:
        method: The request's method.
        path: The request's path, without query string.
        host: The host (and port, when not the default) the request went to, if known.
    """

    def __init__(self, message: str, *, method: str, path: str, host: str | None = None) -> None:
        super().__init__(f"{message} ({method} {path})")
        self.method = method
        self.path = path
        self.host = host


class APITimeoutError(APIConnectionError):
    """The request timed out: one phase (connecting, sending, waiting) took longer than the
    timeout, or the whole exchange overran the request's deadline."""


class OutcomeUnknownError(OmnisendError):
    """A request that is not safe to repeat was sent, and what became of it is unknown.

    Its answer was lost (a read timeout, a dropped connection), or a gateway error (500, 502, 504)
    came back after the request may have reached Omnisend. ``POST /batches`` may have created the
    batch: look it up (``client.batches.list``) before sending the items again. The cause is
    chained as ``__cause__``.
    """

    def __init__(self, reason: str, *, method: str, path: str) -> None:
        super().__init__(f"{reason}; the request may have taken effect ({method} {path})")
        self.method = method
        self.path = path


class BatchWaitTimeoutError(OmnisendError):
    """A batch was still being processed when ``batches.wait`` ran out of time."""

    def __init__(self, batch_id: str, status: str, timeout: float) -> None:
        super().__init__(f"batch {batch_id} still {status} after {timeout:g} s")
        self.batch_id = batch_id
        self.status = status


class UnexpectedResponseError(OmnisendError):
    """An answer the SDK could not use: a success body it could not read, a body over the size
    cap, a redirect (the SDK follows none), or, from ``verify()``, an answer that is not
    Omnisend's."""


@attrs.frozen
class FieldError:
    """One invalid field of a request, as Omnisend describes it."""

    field: str | None
    message: str
    code: str | None = None


@attrs.frozen
class ProblemDetails:
    """An RFC 9457 problem (version 2026-03-15), or v3's ``{error, fields}`` read into one."""

    status: int
    title: str | None = None
    detail: str | None = None
    type: str | None = None
    instance: str | None = None
    errors: tuple[FieldError, ...] = ()
    retry_after: float | None = None

    @classmethod
    def from_body(cls, status: int, body: object) -> ProblemDetails:
        """Read whatever error body Omnisend sent; anything unreadable leaves fields empty."""
        if not isinstance(body, Mapping):
            return cls(status=status)
        if "error" in body and "title" not in body:
            return cls._from_v3(status, body)
        return cls(
            status=status,
            title=_text(body.get("title")),
            detail=_text(body.get("detail")),
            type=_text(body.get("type")),
            instance=_text(body.get("instance")),
            errors=tuple(_field_errors(body.get("errors"))),
            retry_after=_seconds(body.get("retryAfter")),
        )

    @classmethod
    def _from_v3(cls, status: int, body: Mapping[str, Any]) -> ProblemDetails:
        fields = body.get("fields")
        errors: list[FieldError] = []
        if isinstance(fields, Mapping):
            for where, messages in fields.items():
                listed = messages if isinstance(messages, list) else [messages]
                errors.extend(FieldError(field=str(where), message=str(m)) for m in listed)
        return cls(status=status, detail=_text(body.get("error")), errors=tuple(errors))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _field_errors(value: object) -> list[FieldError]:
    if not isinstance(value, list):
        return []
    errors = []
    for item in value:
        if isinstance(item, Mapping):
            field = item.get("field") or item.get("pointer") or item.get("name")
            message = item.get("message") or item.get("detail") or ""
            errors.append(
                FieldError(
                    field=str(field) if field is not None else None,
                    message=str(message),
                    code=_text(item.get("code")),
                )
            )
    return errors


class APIStatusError(OmnisendError):
    """Omnisend answered with an error status.

    Attributes:
        status_code: The HTTP status.
        problem: Omnisend's problem details (empty fields when the body was not JSON).
        method: The request's method.
        path: The request's path, without query string (queries may carry emails).
        retry_after: Seconds Omnisend asked to wait before trying again (the 429 body's
            ``retryAfter``, a ``Retry-After`` or ``X-Rate-Limit-Reset`` header), if it said.
    """

    default_title: ClassVar[str] = "Omnisend error"

    def __init__(
        self,
        problem: ProblemDetails,
        *,
        method: str,
        path: str,
        retry_after: float | None = None,
    ) -> None:
        self.problem = problem
        self.status_code = problem.status
        self.method = method
        self.path = path
        self.retry_after = retry_after if retry_after is not None else problem.retry_after
        super().__init__(self._describe())

    @property
    def request_id(self) -> str | None:
        """Omnisend's trace id for this answer (the problem's ``instance``)."""
        return self.problem.instance

    def _describe(self) -> str:
        problem = self.problem
        text = f"{problem.status} {problem.title or self.default_title}"
        if problem.detail:
            text += f": {problem.detail}"
        text += f" ({self.method} {self.path})"
        if problem.errors:
            text += "; " + "; ".join(
                f"{e.field}: {e.message}" if e.field else e.message for e in problem.errors
            )
        if problem.instance:
            text += f" [trace {problem.instance}]"
        return text


class BadRequestError(APIStatusError):
    """400: Omnisend refused the request's content."""

    default_title = "Bad request"


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""

    default_title = "API key missing or invalid"


class PermissionDeniedError(APIStatusError):
    """403: the key lacks a permission (contacts read/write) or has been blocked."""

    default_title = "API key not allowed"


class NotFoundError(APIStatusError):
    """404: no such contact or batch."""

    default_title = "Not found"


class ConflictError(APIStatusError):
    """409: an identifier already belongs to another contact, or a segment is still building."""

    default_title = "Conflict"


class SegmentBuildingError(ConflictError):
    """409 on a segment: Omnisend is still building it, so it cannot be updated or deleted yet.

    Not retried by the client (how long building takes is unconfirmed): wait until
    ``segments.get(id).status`` is no longer ``"building"``, then try again.
    """

    default_title = "Segment is still building"


class GoneError(APIStatusError):
    """410: the requested API version has been retired."""

    default_title = "API version retired"


class RateLimitError(APIStatusError):
    """429: the brand's rate limit was exceeded; ``retry_after`` says for how long, if known."""

    default_title = "Rate limit exceeded"


class ServerError(APIStatusError):
    """5xx: Omnisend (or its CDN) failed; safe to retry later."""

    default_title = "Omnisend server error"


_STATUS_ERRORS: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIStatusError]:
    """The exception class that stands for an error status."""
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, APIStatusError)


#: Gateway answers that may come after the origin already did the work.
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


def outcome_unknown_for(error: APIStatusError) -> OutcomeUnknownError | None:
    """For a request not safe to repeat: the error to raise instead of a possibly ambiguous 5xx.

    503 and 429 say the request was not processed, so they stay retryable.
    """
    if error.status_code not in _AMBIGUOUS_STATUSES:
        return None
    return OutcomeUnknownError(
        f"Omnisend answered {error.status_code}", method=error.method, path=error.path
    )


#: Transport errors raised once the request may have reached the server.
_AFTER_SENDING = (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError)
#: Transport errors whose text comes from the socket layer or the server's bytes (an errno, a TLS
#: failure, "Server disconnected"), never from the request's headers, so it is safe to show. h11's
#: errors about the request itself (``LocalProtocolError``) may quote a header value: the key.
_SAFE_DETAIL = (
    httpx.ConnectError,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
#: Longest detail quoted from a transport error, in characters: enough for an errno or a TLS
#: verification failure, not a page of text.
_MAX_DETAIL = 200


def translate_transport_error(
    error: httpx.TransportError,
    *,
    method: str,
    path: str,
    idempotent: bool,
    host: str | None = None,
    deadline: float | None = None,
) -> APIConnectionError | OutcomeUnknownError:
    """Turn an httpx transport error into the SDK's own, without the request's URL or headers.

    A read timeout (or a dropped connection after sending) on a request that is not idempotent
    leaves its outcome unknown: the caller must reconcile instead of resending blindly.

    Args:
        error: What httpx raised.
        method: The request's method.
        path: The request's path, without query string (queries may carry emails).
        idempotent: Whether sending the request again is harmless.
        host: The host the request went to, named in the message: "could not reach" a host
            says more than "connection failed", and tells a typo in ``base_url`` at once.
        deadline: The attempt's deadline in seconds, when it is what ended the attempt.
    """
    kind = type(error).__name__
    where = host or "Omnisend"
    detail = _detail(error)
    if deadline is not None:
        connecting = isinstance(error, httpx.ConnectTimeout)
        phase = "could not connect to" if connecting else "no complete answer from"
        reason = f"{phase} {where} within the request's {deadline:g} s deadline ({kind})"
    elif isinstance(error, httpx.ConnectTimeout | httpx.ConnectError):
        reason = f"could not reach {where}: {detail or 'connecting timed out'} ({kind})"
    elif isinstance(error, httpx.TimeoutException):
        reason = f"timed out waiting for {where} ({kind})"
    elif isinstance(error, _AFTER_SENDING):
        reason = f"the connection to {where} broke{f': {detail}' if detail else ''} ({kind})"
    else:
        reason = f"could not send to {where}{f': {detail}' if detail else ''} ({kind})"
    sent = isinstance(error, _AFTER_SENDING)
    if sent and not idempotent:
        return OutcomeUnknownError(f"sent, then {reason}", method=method, path=path)
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(reason, method=method, path=path, host=host)
    return APIConnectionError(reason, method=method, path=path, host=host)


def _detail(error: httpx.TransportError) -> str:
    # Only from errors whose text cannot hold a request header (see _SAFE_DETAIL), so never the key.
    if not isinstance(error, _SAFE_DETAIL):
        return ""
    return " ".join(str(error).split())[:_MAX_DETAIL]
