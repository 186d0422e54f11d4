"""The sans-I/O core: one ``httpx.Request`` in, one :class:`Exchange` out.

The pipeline is the order an API gateway would apply: route, authenticate, check the version,
check the method, rate-limit, authorise, decode the body, handle. Injected faults come first (they
happen on the way to the API) or last (the API did the work, the answer is lost).

Everything runs under one lock: the loopback server is threaded and clients send concurrently, and
one lock over a dict-based store is both simple and fast enough for a million contacts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from . import _batches, _contacts, _json, _segments, _tags
from ._auth import (
    CONTACTS_READ,
    CONTACTS_WRITE,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    authenticate,
    authorize,
)
from ._clock import Clock
from ._faults import Failure, Fault, FaultInjector
from ._problems import PROBLEM_CONTENT_TYPE, ApiProblem, InvalidField, validation_problem
from ._ratelimit import Admission, SlidingWindowLimiter, real_seconds
from ._rules import (
    parse_batch_query,
    parse_contact_query,
    parse_email_param,
    parse_segment_query,
    require_no_params,
)
from ._settings import API_VERSION
from ._state import State

# The API path is recognised at the end of the URL path, so any prefix works as a base URL:
# "http://127.0.0.1:PORT", ".../api", or Omnisend's own "https://api.omnisend.com/api".
_PATH = re.compile(
    r"/(?P<resource>contacts|batches|segments)"
    r"(?:/(?P<id>[^/]+)(?:/(?P<sub>items|statistics))?)?/?$",
)
# A resource's sub-path: /batches/{id}/items, /segments/{id}/statistics.
_SUB_PATHS = {"batches": "items", "segments": "statistics"}
# Omnisend limits POST and PUT of /segments (15 a minute) apart from its GET and DELETE (100).
_SEGMENT_WRITES = frozenset({"POST", "PUT"})

_CDN_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@attrs.frozen
class Route:
    """Where a request goes.

    Attributes:
        name: the route: ``contacts``, ``contact``, ``tags``, ``batches``, ``batch``,
            ``batch_items``, ``segments``, ``segment`` or ``segment_statistics``.
        family: the rate-limit family: ``contacts``, ``tags``, ``batches``, ``segments`` or
            ``segment_writes``.
        api_path: the path without the base URL's prefix, e.g. ``/batches/123/items``.
        resource_id: the contact, batch or segment id in the path, if any.
    """

    name: str
    family: str
    api_path: str
    resource_id: str | None


def resolve(method: str, path: str) -> Route | None:
    """The route of a request to URL path ``path``, or None when the emulator does not serve it.

    The method matters only for the rate-limit family of ``/segments``.
    """
    match = _PATH.search(path)
    if match is None:
        return None
    resource, resource_id, sub = match.group("resource", "id", "sub")
    api_path = match.group().rstrip("/")
    if sub is not None and sub != _SUB_PATHS.get(resource):
        return None
    if resource == "contacts":
        if resource_id is None:
            return Route("contacts", "contacts", api_path, None)
        if resource_id == "tags":
            return Route("tags", "tags", api_path, None)
        return Route("contact", "contacts", api_path, resource_id)
    if resource == "segments":
        family = "segment_writes" if method in _SEGMENT_WRITES else "segments"
        if resource_id is None:
            return Route("segments", family, api_path, None)
        name = "segment_statistics" if sub else "segment"
        return Route(name, family, api_path, resource_id)
    if resource_id is None:
        return Route("batches", "batches", api_path, None)
    return Route("batch_items" if sub else "batch", "batches", api_path, resource_id)


@attrs.frozen
class RequestRecord:
    """One entry of the request log.

    Attributes:
        at: emulator time of arrival (epoch seconds).
        method: the HTTP method.
        path: the API path (prefix removed), e.g. ``/contacts``.
        query: the raw query string.
        family: the rate-limit family, ``other`` for unknown paths.
        status: the status answered (or, for a lost answer, the status that was lost); None when the
            request failed before processing.
        answered: whether the client received the answer.
        fault: the kind of injected fault, if any.
    """

    at: float
    method: str
    path: str
    query: str
    family: str
    status: int | None
    answered: bool
    fault: str | None


@attrs.frozen
class Exchange:
    """The outcome of one request, for a transport or server to deliver.

    Attributes:
        response: the answer, None when the client receives none.
        failure: ``timeout`` or ``reset`` when the client receives no answer.
        latency: real seconds to wait before delivering the outcome.
        after_processing: whether the request was processed before the failure.
    """

    response: httpx.Response | None
    failure: Failure | None = None
    latency: float = 0.0
    after_processing: bool = False

    def deliver(self, request: httpx.Request) -> httpx.Response:
        """The response, or the httpx exception an in-process client sees instead of it."""
        if self.failure == "timeout":
            raise httpx.ReadTimeout("emulator: injected read timeout", request=request)
        if self.failure == "reset":
            if self.after_processing:
                raise httpx.RemoteProtocolError(
                    "emulator: server disconnected without sending a response",
                    request=request,
                )
            raise httpx.ConnectError("emulator: injected connection reset", request=request)
        assert self.response is not None
        return self.response


@attrs.frozen
class _Call:
    """What a handler gets: the parsed request and the moment it is handled."""

    request: httpx.Request
    route: Route
    params: dict[str, str]
    now: float

    def body(self) -> Any:
        return _decode_json(self.request)


Handler = Callable[[State, _Call], tuple[int, Any]]


def _list_contacts(state: State, call: _Call) -> tuple[int, Any]:
    return 200, _contacts.list_contacts(state, parse_contact_query(call.params))


def _upsert_contact(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    status, contact = _contacts.upsert(state, call.body(), call.now)
    return status, _contacts.render(state, contact)


def _patch_by_email(state: State, call: _Call) -> tuple[int, Any]:
    email = parse_email_param(call.params)
    body = call.body()
    contact = _contacts.get_by_email(state, email)
    return 200, _contacts.patch(state, contact, body, call.now)


def _get_contact(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _contacts.render(state, _contacts.get_by_id(state, call.route.resource_id))


def _patch_contact(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    body = call.body()
    contact = _contacts.get_by_id(state, call.route.resource_id)
    return 200, _contacts.patch(state, contact, body, call.now)


def _add_tags(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    _tags.accept(state, call.body(), call.now, add=True)
    return 202, None


def _remove_tags(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    _tags.accept(state, call.body(), call.now, add=False)
    return 202, None


def _list_batches(state: State, call: _Call) -> tuple[int, Any]:
    query = parse_batch_query(call.params)
    return 200, _batches.list_batches(state, query, call.now, call.request.url)


def _create_batch(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    return 201, _batches.create(state, call.body(), call.request.content, call.now)


def _get_batch(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _batches.render(_batches.find(state, call.route.resource_id, call.now))


def _get_batch_items(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _batches.render_items(state, _batches.find(state, call.route.resource_id, call.now))


def _list_segments(state: State, call: _Call) -> tuple[int, Any]:
    return 200, _segments.list_segments(state, parse_segment_query(call.params))


def _create_segment(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    # 201 as every other create of this API version (contacts, batches); the document gives none.
    return 201, _segments.create(state, call.body(), call.now)


def _get_segment(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _segments.render(_segments.find(state, call.route.resource_id))


def _update_segment(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _segments.update(state, call.route.resource_id, call.body(), call.now)


def _delete_segment(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    _segments.delete(state, call.route.resource_id)
    return 204, None


def _get_segment_statistics(state: State, call: _Call) -> tuple[int, Any]:
    require_no_params(call.params)
    assert call.route.resource_id is not None
    return 200, _segments.statistics(state, call.route.resource_id)


# (route, method) -> (scope, handler)
_HANDLERS: dict[tuple[str, str], tuple[str, Handler]] = {
    ("contacts", "GET"): (CONTACTS_READ, _list_contacts),
    ("contacts", "POST"): (CONTACTS_WRITE, _upsert_contact),
    ("contacts", "PATCH"): (CONTACTS_WRITE, _patch_by_email),
    ("contact", "GET"): (CONTACTS_READ, _get_contact),
    ("contact", "PATCH"): (CONTACTS_WRITE, _patch_contact),
    ("tags", "POST"): (CONTACTS_WRITE, _add_tags),
    ("tags", "DELETE"): (CONTACTS_WRITE, _remove_tags),
    ("batches", "GET"): (CONTACTS_READ, _list_batches),
    ("batches", "POST"): (CONTACTS_WRITE, _create_batch),
    ("batch", "GET"): (CONTACTS_READ, _get_batch),
    ("batch_items", "GET"): (CONTACTS_READ, _get_batch_items),
    ("segments", "GET"): (SEGMENTS_READ, _list_segments),
    ("segments", "POST"): (SEGMENTS_WRITE, _create_segment),
    ("segment", "GET"): (SEGMENTS_READ, _get_segment),
    ("segment", "PUT"): (SEGMENTS_WRITE, _update_segment),
    ("segment", "DELETE"): (SEGMENTS_WRITE, _delete_segment),
    ("segment_statistics", "GET"): (SEGMENTS_READ, _get_segment_statistics),
}


def _decode_json(request: httpx.Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if not request.content:
        raise validation_problem([InvalidField("body", "required", "a JSON body is required")])
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiProblem(415, "unsupported-media-type", "send the body as application/json")
    try:
        return _json.decode(request.content)
    except ValueError as err:
        raise ApiProblem(400, "malformed-json", f"the body is not valid JSON: {err}") from err


def _query_params(url: httpx.URL) -> dict[str, str]:
    params = {}
    for name in url.params:
        values = url.params.get_list(name)
        if len(values) > 1:
            raise validation_problem(
                [InvalidField(name, "invalid_value", "given more than once")],
                "Invalid query parameters",
            )
        params[name] = values[0]
    return params


def json_response(
    status: int,
    body: Any,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An answer with a JSON body (or no body when ``body`` is None)."""
    all_headers = dict(headers or {})
    if body is None:
        return httpx.Response(status, headers=all_headers)
    all_headers["content-type"] = content_type
    return httpx.Response(
        status,
        headers=all_headers,
        content=_json.encode_compact(body).encode(),
    )


class Application:
    """The emulated API: state, clock, limiter and fault injector behind one lock."""

    def __init__(self, state: State, clock: Clock, faults: FaultInjector) -> None:
        """Assemble the application.

        Args:
            state: the store (its settings shape every answer).
            clock: the emulator clock.
            faults: the fault injector.
        """
        self.state = state
        self.clock = clock
        self.faults = faults
        self.lock = threading.RLock()
        self.log: list[RequestRecord] = []
        self._limiter = SlidingWindowLimiter(state.settings.rate_limits)

    def now(self) -> float:
        """The emulator time, after running every piece of deferred work due by then."""
        with self.lock:
            now = self.clock.now()
            self.state.work.run_due(now)
            return now

    def exchange(self, request: httpx.Request) -> Exchange:
        """Process one request. Its body must already be read (``request.read()``)."""
        with self.lock:
            now = self.now()
            route = resolve(request.method, request.url.path)
            api_path = route.api_path if route else request.url.path
            family = route.family if route else "other"
            requests = self.state.stats.requests
            requests[family] = requests.get(family, 0) + 1
            fault, latency = self.faults.draw(request.method, api_path)
            if fault is not None:
                self.state.stats.faults_injected += 1
            if fault is not None and fault.failure is not None and not fault.after_processing:
                self._record(
                    now=now,
                    request=request,
                    api_path=api_path,
                    family=family,
                    status=None,
                    fault=fault,
                )
                return Exchange(None, fault.failure, latency)
            if fault is not None and fault.failure is None:
                response = self._fault_response(fault)
            else:
                response = self._respond(request, route, now)
            self._record(
                now=now,
                request=request,
                api_path=api_path,
                family=family,
                status=response.status_code,
                fault=fault,
            )
            if fault is not None and fault.failure is not None:
                return Exchange(None, fault.failure, latency, after_processing=True)
            return Exchange(response, None, latency)

    def _record(
        self,
        *,
        now: float,
        request: httpx.Request,
        api_path: str,
        family: str,
        status: int | None,
        fault: Fault | None,
    ) -> None:
        answered = status is not None and (fault is None or fault.failure is None)
        self.log.append(
            RequestRecord(
                at=now,
                method=request.method,
                path=api_path,
                query=request.url.query.decode(),
                family=family,
                status=status,
                answered=answered,
                fault=fault.kind if fault else None,
            ),
        )

    def _respond(self, request: httpx.Request, route: Route | None, now: float) -> httpx.Response:
        settings = self.state.settings
        admission: Admission | None = None
        try:
            if route is None:
                raise ApiProblem(404, "not-found", f"no endpoint at {request.url.path}")
            key = authenticate(request.headers, settings.api_keys)
            self._check_version(request.headers.get("omnisend-version"))
            entry = _HANDLERS.get((route.name, request.method))
            if entry is None:
                allowed = sorted(method for name, method in _HANDLERS if name == route.name)
                raise ApiProblem(
                    405,
                    "method-not-allowed",
                    f"{request.method} is not allowed here; use {', '.join(allowed)}",
                )
            admission = self._limiter.admit(route.family, now)
            if not admission.allowed:
                raise self._rate_limited(admission.reset)
            scope, handler = entry
            authorize(key, scope)
            if len(request.content) > settings.max_body_bytes:
                raise ApiProblem(
                    413,
                    "content-too-large",
                    f"the body is larger than {settings.max_body_bytes} bytes",
                )
            call = _Call(request, route, _query_params(request.url), now)
            status, body = handler(self.state, call)
            response = json_response(status, body)
        except ApiProblem as problem:
            response = self._problem_response(problem)
        if admission is not None and settings.rate_limits.headers:
            scale = self.clock.time_scale
            response.headers["X-Rate-Limit-Limit"] = str(admission.limit)
            response.headers["X-Rate-Limit-Remaining"] = str(admission.remaining)
            response.headers["X-Rate-Limit-Reset"] = str(real_seconds(admission.reset, scale))
        return response

    def _check_version(self, version: str | None) -> None:
        if version is None:
            raise ApiProblem(400, "missing-version", "the Omnisend-Version header is required")
        if version in self.state.settings.retired_versions:
            raise ApiProblem(410, "version-retired", f"API version {version} has been retired")
        if version != API_VERSION:
            raise ApiProblem(
                400,
                "unsupported-version",
                f"unknown API version {version!r}; the emulator speaks {API_VERSION}",
            )

    def _rate_limited(self, wait: float) -> ApiProblem:
        self.state.stats.rate_limited += 1
        retry_after = real_seconds(wait, self.clock.time_scale)
        return ApiProblem(
            429,
            "rate-limit-exceeded",
            "Too many requests, retry later",
            extra={"retryAfter": retry_after},
        )

    def _problem_response(self, problem: ApiProblem) -> httpx.Response:
        headers = {}
        if problem.status == 429 and self.state.settings.rate_limits.retry_after_header:
            headers["Retry-After"] = str(problem.extra["retryAfter"])
        return json_response(
            problem.status,
            problem.to_json(),
            content_type=PROBLEM_CONTENT_TYPE,
            headers=headers,
        )

    def _fault_response(self, fault: Fault) -> httpx.Response:
        if fault.kind == "rate_limit":
            return self._problem_response(self._rate_limited(fault.retry_after))
        reason = httpx.codes.get_reason_phrase(fault.status) or "Error"
        if fault.html:
            page = _CDN_PAGE.format(status=fault.status, reason=reason)
            return httpx.Response(
                fault.status,
                headers={"content-type": "text/html"},
                content=page.encode(),
            )
        problem = ApiProblem(fault.status, "internal-error", f"{reason} (injected by the emulator)")
        return self._problem_response(problem)
