"""Fault injection: scripted and seeded; 429, 5xx (JSON and HTML), timeouts, resets, latency."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from omnisend_sdk.testing import Fault, FaultPlan, Latency, OmnisendEmulator
from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact

BATCH = {"method": "POST", "endpoint": "contacts", "items": [contact("a@example.com")]}


def test_forced_429(api: Api) -> None:
    api.emulator.inject(Fault.rate_limit(retry_after=7))
    body = assert_problem(api.http.get("/contacts"), 429)
    assert body["retryAfter"] == 7
    assert api.http.get("/contacts").status_code == 200  # only once
    assert (api.emulator.stats.rate_limited, api.emulator.stats.faults_injected) == (1, 1)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_with_problem_body(api: Api, status: int) -> None:
    api.emulator.inject(Fault.server_error(status))
    assert_problem(api.http.post("/contacts", json=contact("a@example.com")), status)
    assert api.emulator.contacts() == []  # failed before processing


def test_server_error_with_cdn_html_body(api: Api) -> None:
    api.emulator.inject(Fault.server_error(502, html=True))
    response = api.http.get("/contacts")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<html>" in response.text


def test_scripted_faults_match_method_and_path(api: Api) -> None:
    api.emulator.inject(Fault.server_error(503), method="POST", path="/batches", times=2)
    assert api.http.get("/contacts").status_code == 200
    assert api.http.get("/batches", params={"endpoint": "contacts"}).status_code == 200
    assert api.http.post("/batches", json=BATCH).status_code == 503
    assert api.http.post("/batches", json=BATCH).status_code == 503
    assert api.http.post("/batches", json=BATCH).status_code == 201


def test_scripted_faults_fire_in_order(api: Api) -> None:
    api.emulator.inject(Fault.server_error(500))
    api.emulator.inject(Fault.rate_limit())
    assert [api.http.get("/contacts").status_code for _ in range(3)] == [500, 429, 200]


def test_glob_paths(api: Api) -> None:
    api.emulator.inject(Fault.server_error(500), path="/batches/*/items")
    assert api.http.get("/batches/x").status_code == 404
    assert api.http.get("/batches/x/items").status_code == 500


def test_read_timeout_before_processing(connect: Connect) -> None:
    api = connect()
    api.emulator.inject(Fault.timeout(), path="/contacts")
    with pytest.raises(httpx.ReadTimeout):
        api.http.post("/contacts", json=contact("a@example.com"), timeout=0.5)
    assert api.emulator.contacts() == []
    record = api.emulator.requests[-1]
    assert (record.fault, record.status, record.answered) == ("timeout", None, False)


def test_lost_answer_of_post_batches_creates_the_batch(connect: Connect) -> None:
    api = connect()
    api.emulator.inject(Fault.lost_answer(), method="POST", path="/batches")
    with pytest.raises(httpx.ReadTimeout):
        api.http.post("/batches", json=BATCH, timeout=0.5)
    listed = api.http.get("/batches", params={"endpoint": "contacts"}).json()["batches"]
    assert len(listed) == 1  # the client must look it up rather than resend blindly
    record = api.emulator.requests[-2]
    assert (record.fault, record.status, record.answered) == ("timeout", 201, False)


@pytest.mark.parametrize("after_processing", [False, True])
def test_connection_reset(api: Api, after_processing: bool) -> None:
    api.emulator.inject(Fault.reset(after_processing=after_processing))
    with pytest.raises(httpx.TransportError) as caught:
        api.http.post("/contacts", json=contact("a@example.com"))
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert len(api.emulator.contacts()) == (1 if after_processing else 0)
    assert api.http.get("/contacts").status_code == 200  # the next request works


def test_latency_is_reported_by_the_core() -> None:
    emulator = OmnisendEmulator(faults=FaultPlan(latency=Latency.fixed(0.25)))
    request = httpx.Request("GET", emulator.base_url + "/contacts", headers=emulator.headers())
    exchange = emulator.exchange(request)
    assert exchange.latency == 0.25
    assert exchange.response is not None
    assert exchange.response.status_code == 200


def test_latency_is_applied_by_the_transports(connect: Connect) -> None:
    api = connect(faults=FaultPlan(latency=Latency.uniform(0.001, 0.002)))
    assert api.http.get("/contacts").status_code == 200


@pytest.mark.parametrize(
    "latency",
    [
        Latency.fixed(0.1),
        Latency.uniform(0.1, 0.2),
        Latency.exponential(0.1),
        Latency.lognormal(0.1, 0.5),
    ],
)
def test_latency_distributions_are_non_negative_and_seeded(latency: Latency) -> None:
    def draws() -> list[float]:
        emulator = OmnisendEmulator(faults=FaultPlan(seed=3, latency=latency))
        request = httpx.Request("GET", emulator.base_url + "/contacts", headers=emulator.headers())
        return [emulator.exchange(request).latency for _ in range(20)]

    first = draws()
    assert first == draws()
    assert all(value >= 0 for value in first)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Latency.fixed(-0.1), "fixed latency needs parameters of 0 or more"),
        (lambda: Latency.exponential(-1), "exponential latency needs parameters of 0 or more"),
        (lambda: Latency.uniform(0.2, 0.1), "uniform latency from 0.2 to 0.1: low > high"),
        (lambda: Latency.lognormal(0.1, -0.5), "lognormal latency needs parameters of 0 or more"),
    ],
)
def test_a_latency_that_cannot_be_drawn_is_refused(
    build: Callable[[], Latency], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def outcomes(plan: FaultPlan, count: int = 300) -> list[str]:
    emulator = OmnisendEmulator(faults=plan)
    request = httpx.Request("GET", emulator.base_url + "/contacts", headers=emulator.headers())
    results = []
    for _ in range(count):
        exchange = emulator.exchange(request)
        if exchange.failure is not None:
            results.append(exchange.failure + ("-after" if exchange.after_processing else ""))
        else:
            assert exchange.response is not None
            kind = exchange.response.headers["content-type"]
            results.append(f"{exchange.response.status_code} {kind}")
    return results


def test_seeded_plan_is_reproducible_and_mixes_every_fault() -> None:
    plan = FaultPlan(
        seed=11,
        rate_limit=0.1,
        server_error=0.2,
        timeout=0.1,
        lost_answer=0.1,
        reset=0.1,
    )
    first = outcomes(plan)
    assert first == outcomes(plan)
    assert first != outcomes(FaultPlan(seed=12, rate_limit=0.1, server_error=0.2, timeout=0.1))
    kinds = set(first)
    assert {"timeout", "timeout-after", "reset", "429 application/problem+json"} <= kinds
    assert "200 application/json" in kinds
    assert any(kind.endswith("text/html") for kind in kinds)
    assert any(kind.startswith("5") and kind.endswith("problem+json") for kind in kinds)


def test_plan_paths_limit_random_faults() -> None:
    assert set(outcomes(FaultPlan(server_error=1.0, paths=("/batches*",)), 20)) == {
        "200 application/json",
    }


def test_inject_validates_times(api: Api) -> None:
    with pytest.raises(ValueError, match="times"):
        api.emulator.inject(Fault.rate_limit(), times=0)


def test_handle_raises_the_httpx_exception() -> None:
    emulator = OmnisendEmulator()
    emulator.inject(Fault.timeout())
    request = httpx.Request("GET", emulator.base_url + "/contacts", headers=emulator.headers())
    with pytest.raises(httpx.ReadTimeout):
        emulator.handle(request)
    assert emulator.handle(request).status_code == 200
