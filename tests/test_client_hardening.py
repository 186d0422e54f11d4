"""The client never hangs, never reads without bound, checks verify()'s answer and names the host.

Slow and endless answers come from a real loopback server run by a thread of the test, so the
client's own sockets, connection pool and stream reading are what is tested. The server drips at
its own pace until the client hangs up or the test stops it; the tests assert only that the
client stopped, with the cause it gives, never how fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncOmnisendClient,
    ConfigurationError,
    ContactInput,
    OmnisendClient,
    OutcomeUnknownError,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
)
from omnisend_sdk._constants import DEFAULT_MAX_RESPONSE_BYTES
from omnisend_sdk._deadline import _DeadlineBackend
from omnisend_sdk._errors import translate_transport_error
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator
from tests.conftest import API_KEY, BASE_URL

#: The deadline the clients get: short, so a test ends soon, yet ten drips long.
DEADLINE = 0.5
#: Seconds between two drips of the server: far under the clients' 5 s read timeout, so only the
#: deadline can stop a drip.
DRIP_EVERY = 0.05
#: A server gives up after this many drips (30 s): a client that ignores its deadline fails the
#: test with another error instead of hanging the suite.
MAX_DRIPS = 600
#: An endless body ends after this many bytes, for the same reason.
MAX_ENDLESS_BYTES = 256 * 1024 * 1024
#: How long a test waits for the server to see the client hang up: generous, as a loaded
#: machine may be slow, and it is only reached when the client failed to hang up.
HANG_UP_WAIT = 30.0

MODES = ["sync", "async"]


# --- a scripted loopback server -------------------------------------------------------------------


class Peer:
    """One connection the server accepted, as a script sees it."""

    def __init__(self, sock: socket.socket, server: ScriptedServer) -> None:
        self._sock = sock
        self._server = server
        self.sent = 0

    def send(self, data: bytes) -> bool:
        """Send, and say whether the client is still listening."""
        try:
            self._sock.sendall(data)
        except OSError:
            self._server.hung_up.set()
            return False
        self.sent += len(data)
        return True

    def drip(self, data: bytes = b"x") -> bool:
        """Send one byte at a time, each ``DRIP_EVERY`` apart, ``MAX_DRIPS`` at most."""
        for count in range(MAX_DRIPS):
            byte = data[count % len(data) : count % len(data) + 1]
            if not self.send(byte) or self._server.stopping.wait(DRIP_EVERY):
                return False
        return True

    def stream(self, chunk: bytes, *, chunked: bool) -> None:
        """Send ``chunk`` again and again, as fast as the client takes it."""
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
        while self.sent < MAX_ENDLESS_BYTES and not self._server.stopping.is_set():
            if not self.send(framed):
                return


Script = Callable[[Peer], object]


class ScriptedServer:
    """A loopback HTTP/1.1 server that reads each request, then answers it with a script."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(DRIP_EVERY)  # so that the accept loop sees the stop event
        self.port: int = self._listener.getsockname()[1]
        self.stopping = threading.Event()
        self.hung_up = threading.Event()
        self.requests: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="scripted-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._accepting.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._accepting.join()
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(sock,), name="scripted-peer")
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            sock.settimeout(HANG_UP_WAIT)  # no wait of the server outlasts a broken test
            try:
                self.requests.append(_read_request(sock))
            except OSError:
                return
            self._script(Peer(sock, self))
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the client closed before sending a request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def head(status: str = "200 OK", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- scripts --------------------------------------------------------------------------------------


def drip_body(peer: Peer) -> None:
    """Headers at once, then a body of a million bytes, one byte per drip."""
    if peer.send(head("200 OK", "Content-Length: 1000000")):
        peer.drip(b'{"id": "c1"' + b" " * 100)


def drip_headers(peer: Peer) -> None:
    """A status line, then a header whose value never ends, one byte per drip."""
    if peer.send(b"HTTP/1.1 200 OK\r\nX-Slow: "):
        peer.drip()


def endless_chunks(peer: Peer) -> None:
    """A chunked JSON body that never ends, as fast as the client reads."""
    if peer.send(head("200 OK", "Transfer-Encoding: chunked")):
        peer.stream(b'{"contacts": [' + b" " * 65_000, chunked=True)


def endless_slow_chunks(peer: Peer) -> None:
    """A chunked body that never ends, one small chunk per drip."""
    if peer.send(head("200 OK", "Transfer-Encoding: chunked")):
        peer.drip(b"1\r\n \r\n")


def endless_error_page(peer: Peer) -> None:
    """A 503 whose HTML page never ends: a broken gateway."""
    if peer.send(head("503 Service Unavailable", "Transfer-Encoding: chunked")):
        peer.stream(b"<html>" + b" " * 65_000, chunked=True)


def huge_declared_body(peer: Peer) -> None:
    """An answer that announces 200 MB, then trickles."""
    if peer.send(head("200 OK", f"Content-Length: {200 * 1024 * 1024}")):
        peer.drip()


def batch_created_with_a_huge_body(peer: Peer) -> None:
    """``POST /batches`` answered 201, with a body that never ends."""
    if peer.send(head("201 Created", "Transfer-Encoding: chunked")):
        peer.stream(b'{"batchID": "b1", "x": "' + b" " * 65_000, chunked=True)


# --- running a client of either kind --------------------------------------------------------------


def use_client(mode: str, call: Callable[[Any], Any], **options: Any) -> Any:
    """Build a sync or async client with ``options``, and return what ``call(client)`` gives."""
    settings: dict[str, Any] = {"retry": RetryPolicy.disabled(), "timeout": 5.0, **options}
    if mode == "sync":
        with OmnisendClient(API_KEY, **settings) as client:
            return call(client)

    async def main() -> Any:
        async with AsyncOmnisendClient(API_KEY, **settings) as client:
            result = call(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


def get_contact(client: Any) -> Any:
    return client.contacts.get("c1")


def create_batch(client: Any) -> Any:
    return client.batches.create([ContactInput.for_email("ann@example.com")])


# --- slow and endless answers ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "script", [drip_body, drip_headers, endless_slow_chunks], ids=["body", "headers", "chunks"]
)
def test_a_dripping_answer_ends_at_the_deadline(mode: str, script: Script) -> None:
    with ScriptedServer(script) as server:
        with pytest.raises(APITimeoutError) as caught:
            use_client(mode, get_contact, base_url=server.url, deadline=DEADLINE)
        assert server.hung_up.wait(HANG_UP_WAIT), "the client kept the connection open"

    message = str(caught.value)
    assert f"no complete answer from {server.host}" in message
    assert f"{DEADLINE:g} s deadline" in message
    assert message.endswith("(GET /contacts/c1)")
    assert caught.value.host == server.host
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


@pytest.mark.parametrize("mode", MODES)
def test_a_deadline_overrun_is_retried_like_any_timeout(mode: str) -> None:
    policy = RetryPolicy(max_attempts=2, backoff_base=0.0)
    with ScriptedServer(drip_headers) as server, pytest.raises(APITimeoutError, match="deadline"):
        use_client(mode, get_contact, base_url=server.url, deadline=DEADLINE, retry=policy)
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_lost_batch_answer_leaves_the_outcome_unknown(mode: str) -> None:
    with (
        ScriptedServer(drip_body) as server,
        pytest.raises(OutcomeUnknownError, match="deadline") as caught,
    ):
        use_client(mode, create_batch, base_url=server.url, deadline=DEADLINE)
    assert "may have taken effect (POST /batches)" in str(caught.value)
    assert len(server.requests) == 1  # never resent


@pytest.mark.parametrize("mode", MODES)
def test_an_endless_body_stops_at_the_size_cap(mode: str) -> None:
    with ScriptedServer(endless_chunks) as server:
        with pytest.raises(UnexpectedResponseError) as caught:
            use_client(mode, get_contact, base_url=server.url, max_response_bytes=1_000_000)
        assert server.hung_up.wait(HANG_UP_WAIT), "the client kept reading"

    assert str(caught.value) == (
        "the 200 answer to GET /contacts/c1 is over the 1,000,000-byte cap (max_response_bytes), "
        "so it was not read; no Omnisend answer is that large"
    )


def test_memory_stays_bounded_by_the_cap() -> None:
    # Without the cap the client would hold all 256 MB the server sends before it gives up.
    tracemalloc.start()
    try:
        with ScriptedServer(endless_chunks) as server, pytest.raises(UnexpectedResponseError):
            use_client("sync", get_contact, base_url=server.url, max_response_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_announcing_200_mb_is_refused_before_reading(mode: str) -> None:
    # With the default cap: the announced length alone decides, and the drip is never waited for.
    with (
        ScriptedServer(huge_declared_body) as server,
        pytest.raises(UnexpectedResponseError, match=f"{DEFAULT_MAX_RESPONSE_BYTES:,}-byte"),
    ):
        use_client(mode, get_contact, base_url=server.url, deadline=math.inf)


@pytest.mark.parametrize("mode", MODES)
def test_an_endless_error_page_keeps_its_status(mode: str) -> None:
    # Cut at the cap and read as far as it goes: a 503 stays a retryable ServerError.
    with ScriptedServer(endless_error_page) as server, pytest.raises(ServerError, match=r"^503 "):
        use_client(mode, get_contact, base_url=server.url, max_response_bytes=100_000)


@pytest.mark.parametrize("mode", MODES)
def test_a_created_batch_with_an_oversized_answer_is_looked_up_not_resent(mode: str) -> None:
    with (
        ScriptedServer(batch_created_with_a_huge_body) as server,
        pytest.raises(OutcomeUnknownError, match="answered 201") as caught,
    ):
        use_client(mode, create_batch, base_url=server.url, max_response_bytes=100_000)
    assert isinstance(caught.value.__cause__, UnexpectedResponseError)
    assert len(server.requests) == 1


def _forever(stop: threading.Event) -> Iterator[bytes]:
    while not stop.wait(DRIP_EVERY):
        yield b" "


def test_the_deadline_holds_between_chunks_with_a_users_http_client() -> None:
    stop = threading.Event()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=_forever(stop), request=request)
    )
    try:
        with (
            httpx.Client(transport=transport) as http,
            OmnisendClient(
                API_KEY, http_client=http, deadline=DEADLINE, retry=RetryPolicy.disabled()
            ) as client,
            pytest.raises(APITimeoutError, match="deadline"),
        ):
            client.contacts.get("c1")
    finally:
        stop.set()


async def test_the_deadline_holds_with_a_users_async_http_client() -> None:
    async def never_answers(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()  # cancelled by the deadline, or the test fails by hanging
        raise AssertionError("unreachable")

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(never_answers)) as http,
        AsyncOmnisendClient(
            API_KEY, http_client=http, deadline=DEADLINE, retry=RetryPolicy.disabled()
        ) as client,
    ):
        with pytest.raises(APITimeoutError, match="deadline"):
            await client.contacts.get("c1")


def test_the_clients_own_pool_ends_socket_waits_by_the_deadline() -> None:
    # What bounds a sync client waiting for headers; a later httpx that moved it must fail here.
    with OmnisendClient(API_KEY) as client:
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, _DeadlineBackend)
    own = httpx.Client()
    with OmnisendClient(API_KEY, http_client=own):
        assert not isinstance(own._transport._pool._network_backend, _DeadlineBackend)  # type: ignore[attr-defined]
    own.close()


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "deadline"),
    [
        ({}, 30.0),
        ({"timeout": 4}, 12.0),
        ({"timeout": httpx.Timeout(2.0, read=20.0)}, 60.0),
        ({"timeout": httpx.Timeout(None)}, None),
        ({"deadline": 7}, 7.0),
        ({"deadline": math.inf}, None),
    ],
)
def test_the_deadline_defaults_to_three_timeouts(options: dict[str, Any], deadline: Any) -> None:
    with OmnisendClient(API_KEY, **options) as client:
        assert client._deadline == deadline


@pytest.mark.parametrize(
    "options",
    [
        {"deadline": 0},
        {"deadline": -1},
        {"deadline": math.nan},
        {"deadline": True},
        {"max_response_bytes": 0},
        {"max_response_bytes": 1.5},
        {"max_response_bytes": True},
    ],
)
def test_nonsense_limits_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        OmnisendClient(API_KEY, **options)
    with pytest.raises(ConfigurationError):
        AsyncOmnisendClient(API_KEY, **options)


# --- verify() checks that the answer is Omnisend's ------------------------------------------------


VERIFY_URL = f"{BASE_URL}/contacts?limit=1"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"html": "<html><form>Sign in</form></html>"}, "text/html, not JSON"),
        ({"text": "OK"}, "text/plain, not JSON"),
        ({"content": b'{"contacts": []}'}, "no content type, not JSON"),
        (
            {"content": b"<html>", "headers": {"Content-Type": "application/json"}},
            "a body that is not JSON",
        ),
        ({"json": {"status": "ok"}}, "JSON of another shape"),
        ({"json": {"contacts": "none"}}, "JSON of another shape"),
        ({"json": {"contacts": [1, 2]}}, "JSON of another shape"),
        ({"json": {"contacts": [], "paging": "next"}}, "JSON of another shape"),
        ({"json": [{"contacts": []}]}, "JSON list, not an object with a contacts list"),
    ],
)
def test_verify_refuses_an_answer_that_is_not_omnisends(
    api: Any, httpx_mock: HTTPXMock, answer: dict[str, Any], says: str
) -> None:
    httpx_mock.add_response(url=VERIFY_URL, **answer)

    with pytest.raises(UnexpectedResponseError) as caught:
        api.verify()

    message = str(caught.value)
    assert message.startswith(f"{BASE_URL} does not look like Omnisend's API: GET /contacts")
    assert says in message
    assert API_KEY not in message


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("https://login.example.com/sso?next=%2Fapi&token=abc", "https://login.example.com/sso"),
        ("/login", "https://api.omnisend.com/login"),
    ],
)
def test_verify_refuses_a_redirect_without_following_it(
    api: Any, httpx_mock: HTTPXMock, location: str, named: str
) -> None:
    httpx_mock.add_response(url=VERIFY_URL, status_code=302, headers={"Location": location})

    with pytest.raises(UnexpectedResponseError) as caught:
        api.verify()

    message = str(caught.value)
    assert f"302 redirect to {named};" in message
    assert message.startswith(BASE_URL)
    assert "token" not in message  # a query may hold anything
    assert API_KEY not in message
    assert len(httpx_mock.get_requests()) == 1


def test_any_call_refuses_a_redirect(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE_URL}/contacts/c1", status_code=301)
    with pytest.raises(UnexpectedResponseError, match="301 redirect with no Location"):
        api.contacts.get("c1")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"contacts": [], "paging": {"cursors": {"after": None}, "hasMore": False}}, None),
        ({"contacts": [{"id": "c1"}]}, "application/json; charset=utf-8"),
        ({"contacts": [], "paging": {"next": None, "previous": None}, "extra": 1}, None),
    ],
    ids=["2026-03-15", "charset", "v3"],
)
def test_verify_accepts_omnisends_answers(
    api: Any, httpx_mock: HTTPXMock, body: dict[str, Any], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    httpx_mock.add_response(url=VERIFY_URL, json=body, headers=headers)
    api.verify()


def _emulator() -> OmnisendEmulator:
    emulator = OmnisendEmulator()
    emulator.add_contact({"identifiers": [{"type": "email", "id": "ann@example.com"}]})
    return emulator


def test_verify_accepts_the_emulators_answer() -> None:
    emulator = _emulator()
    with (
        httpx.Client(transport=emulator.transport()) as http,
        OmnisendClient(EMULATOR_API_KEY, http_client=http) as client,
    ):
        client.verify()


async def test_async_verify_accepts_the_emulators_answer() -> None:
    emulator = _emulator()
    async with (
        httpx.AsyncClient(transport=emulator.transport()) as http,
        AsyncOmnisendClient(EMULATOR_API_KEY, http_client=http) as client,
    ):
        await client.verify()


def test_verify_accepts_the_emulator_over_loopback() -> None:
    emulator = _emulator()
    with emulator.serve() as url, OmnisendClient(EMULATOR_API_KEY, base_url=url) as client:
        client.verify()


# --- connection errors name the host --------------------------------------------------------------


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("mode", MODES)
def test_an_unreachable_host_is_named(mode: str) -> None:
    port = _free_port()  # closed again: nothing listens there

    with pytest.raises(APIConnectionError) as caught:
        use_client(mode, lambda client: client.verify(), base_url=f"http://127.0.0.1:{port}/api")

    message = str(caught.value)
    assert message.startswith(f"could not reach 127.0.0.1:{port}: ")
    assert "(ConnectError) (GET /contacts)" in message
    assert caught.value.host == f"127.0.0.1:{port}"
    assert API_KEY not in message


def test_the_default_host_is_named(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(
        httpx.ConnectError("[Errno -2] Name or service not known"), is_reusable=True
    )
    with pytest.raises(APIConnectionError) as caught:
        api.verify()
    assert str(caught.value) == (
        "could not reach api.omnisend.com: [Errno -2] Name or service not known (ConnectError) "
        "(GET /contacts)"
    )


def test_a_transport_error_quoting_the_request_is_not_quoted(
    api: Any, httpx_mock: HTTPXMock
) -> None:
    # h11 quotes a header value it refuses: that value would be the key.
    httpx_mock.add_exception(
        httpx.LocalProtocolError(f"Illegal header value b'Omnisend-API-Key {API_KEY}\\n'"),
        is_reusable=True,
    )
    with pytest.raises(APIConnectionError) as caught:
        api.verify()
    assert str(caught.value) == (
        "could not send to api.omnisend.com (LocalProtocolError) (GET /contacts)"
    )


@pytest.mark.parametrize(
    ("error", "idempotent", "deadline", "raised", "message"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            True,
            None,
            APIConnectionError,
            "could not reach h.example: [Errno 111] Connection refused (ConnectError) (GET /x)",
        ),
        (
            httpx.ConnectTimeout("timed out"),
            False,
            None,
            APITimeoutError,
            "could not reach h.example: connecting timed out (ConnectTimeout) (GET /x)",
        ),
        (
            httpx.ReadTimeout("timed out"),
            True,
            None,
            APITimeoutError,
            "timed out waiting for h.example (ReadTimeout) (GET /x)",
        ),
        (
            httpx.ReadTimeout("timed out"),
            False,
            None,
            OutcomeUnknownError,
            "sent, then timed out waiting for h.example (ReadTimeout); the request may have "
            "taken effect (GET /x)",
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            True,
            None,
            APIConnectionError,
            "the connection to h.example broke: Server disconnected without sending a response. "
            "(RemoteProtocolError) (GET /x)",
        ),
        (
            httpx.ReadTimeout("deadline"),
            True,
            2.5,
            APITimeoutError,
            "no complete answer from h.example within the request's 2.5 s deadline "
            "(ReadTimeout) (GET /x)",
        ),
        (
            httpx.ConnectTimeout("deadline"),
            False,
            2.5,
            APITimeoutError,
            "could not connect to h.example within the request's 2.5 s deadline "
            "(ConnectTimeout) (GET /x)",
        ),
        (
            httpx.ReadTimeout("deadline"),
            False,
            2.5,
            OutcomeUnknownError,
            "sent, then no complete answer from h.example within the request's 2.5 s deadline "
            "(ReadTimeout); the request may have taken effect (GET /x)",
        ),
    ],
)
def test_transport_errors_are_translated(
    error: httpx.TransportError,
    idempotent: bool,
    deadline: float | None,
    raised: type[Exception],
    message: str,
) -> None:
    translated = translate_transport_error(
        error, method="GET", path="/x", idempotent=idempotent, host="h.example", deadline=deadline
    )
    assert type(translated) is raised
    assert str(translated) == message
