"""How the emulator runs: async transport, threads, the loopback server, the CLI, the fixture."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import signal
import subprocess
import sys
import time

import httpx
import pytest

from omnisend_sdk.testing import (
    EMULATOR_API_KEY,
    Fault,
    FaultPlan,
    Latency,
    ManualClock,
    OmnisendEmulator,
    ScaledClock,
)
from tests.testing.helpers import contact


async def test_async_client_in_process() -> None:
    emulator = OmnisendEmulator(faults=FaultPlan(latency=Latency.fixed(0.001)))
    async with httpx.AsyncClient(
        transport=emulator.transport(),
        base_url=emulator.base_url,
        headers=emulator.headers(),
    ) as http:
        answers = await asyncio.gather(
            *(http.post("/contacts", json=contact(f"u{i}@example.com")) for i in range(20)),
        )
        assert {answer.status_code for answer in answers} == {201}
        emulator.inject(Fault.timeout())
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/contacts")
    assert len(emulator.contacts()) == 20


def test_concurrent_clients_over_loopback_keep_identifiers_unique() -> None:
    emulator = OmnisendEmulator(clock=ManualClock())
    with (
        emulator.serve() as url,
        httpx.Client(
            base_url=url,
            headers=emulator.headers(),
            verify=False,
            limits=httpx.Limits(max_connections=8),
        ) as http,
    ):

        def send(index: int) -> int:
            # Every email is sent by two threads at once: exactly one of them creates it.
            response = http.post("/contacts", json=contact(f"u{index // 2}@example.com"))
            return response.status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(send, range(100)))
    assert sorted(statuses) == [200] * 50 + [201] * 50
    assert len(emulator.contacts()) == 50


def test_serve_yields_an_api_base_url() -> None:
    emulator = OmnisendEmulator()
    with emulator.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/api")
        response = httpx.get(url + "/contacts", headers=emulator.headers(), params={"limit": 1})
        assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/contacts")


def test_serve_accepts_chunked_bodies() -> None:
    emulator = OmnisendEmulator()

    def chunks() -> object:
        yield b'{"identifiers": [{"type": "email", '
        yield b'"id": "a@example.com"}]}'

    with emulator.serve() as url:
        response = httpx.post(
            url + "/contacts",
            headers={**emulator.headers(), "content-type": "application/json"},
            content=chunks(),  # type: ignore[arg-type]
        )
    assert response.status_code == 201


def test_time_scale_speeds_up_batches() -> None:
    # 1000x: the batch's 1 s start delay and 1 s of processing take about 2 ms of real time.
    emulator = OmnisendEmulator(time_scale=1000)
    with httpx.Client(
        transport=emulator.transport(),
        base_url=emulator.base_url,
        headers=emulator.headers(),
    ) as http:
        body = {"method": "POST", "endpoint": "contacts", "items": [contact("a@example.com")] * 100}
        batch_id = http.post("/batches", json=body).json()["batchID"]
        for _ in range(2000):
            if http.get(f"/batches/{batch_id}").json()["status"] == "finished":
                break
            time.sleep(0.002)
        else:
            pytest.fail("the batch never finished")


def test_manual_clock() -> None:
    clock = ManualClock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    emulator = OmnisendEmulator(clock=clock)
    assert emulator.now == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    emulator.advance(90)
    assert emulator.now == dt.datetime(2030, 1, 1, 0, 1, 30, tzinfo=dt.UTC)
    assert clock.time_scale == 1.0
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="naive"):
        ManualClock(dt.datetime(2030, 1, 1))


def test_scaled_clock() -> None:
    real = [100.0]
    clock = ScaledClock(60, start=0.0, monotonic=lambda: real[0])
    assert clock.now() == 0.0
    real[0] = 101.5
    assert clock.now() == 90.0
    clock.advance(10)
    assert clock.now() == 100.0
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0)


def test_stats_are_snapshots() -> None:
    emulator = OmnisendEmulator()
    before = emulator.stats
    emulator.handle(
        httpx.Request("GET", emulator.base_url + "/contacts", headers=emulator.headers()),
    )
    assert before.requests == {}
    assert emulator.stats.requests == {"contacts": 1}
    record = emulator.requests[0]
    assert (record.method, record.path, record.status, record.family) == (
        "GET",
        "/contacts",
        200,
        "contacts",
    )


def test_headers_helper() -> None:
    assert OmnisendEmulator().headers() == {
        "Authorization": f"Omnisend-API-Key {EMULATOR_API_KEY}",
        "Omnisend-Version": "2026-03-15",
    }


def test_the_fixture_gives_a_fresh_emulator(omnisend_emulator: OmnisendEmulator) -> None:
    assert omnisend_emulator.contacts() == []
    omnisend_emulator.add_contact(contact("a@example.com"))


@pytest.mark.omnisend_emulator(clock=ManualClock(), welcome_workflow=False)
def test_the_fixture_takes_options_from_the_marker(omnisend_emulator: OmnisendEmulator) -> None:
    omnisend_emulator.add_contact(contact("a@example.com"))
    assert omnisend_emulator.stats.welcome_messages == 0
    assert omnisend_emulator.now.year == 2026


def test_command_line_server_stops_cleanly_on_sigint() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omnisend_sdk.testing",
            "serve",
            "--port",
            "0",
            "--time-scale",
            "60",
            "--api-key",
            "cli-key",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Omnisend-API-Key cli-key", "Omnisend-Version": "2026-03-15"}
        created = httpx.post(url + "/contacts", headers=headers, json=contact("a@example.com"))
        assert created.status_code == 201
        listed = httpx.get(url + "/contacts", headers=headers).json()
        assert [c["email"] for c in listed["contacts"]] == ["a@example.com"]
        assert (
            httpx.get(url + "/contacts", headers={**headers, "Authorization": "x"}).status_code
            == 401
        )
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors


def test_command_line_server_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "omnisend_sdk.testing", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        headers = {
            "Authorization": f"Omnisend-API-Key {EMULATOR_API_KEY}",
            "Omnisend-Version": "2026-03-15",
        }
        assert httpx.get(url + "/contacts", headers=headers).status_code == 200
        process.terminate()
        _, errors = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, errors
