"""Fixtures for the emulator tests: every API test runs in-process and over loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx
import pytest

from omnisend_sdk.testing import ManualClock, OmnisendEmulator


@attrs.frozen
class Api:
    """An emulator and a plain httpx client speaking to it."""

    emulator: OmnisendEmulator
    http: httpx.Client
    clock: ManualClock


Connect = Callable[..., Api]


@pytest.fixture(params=["in-process", "loopback"])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """Build an emulator (manual clock, fixed seed, any options) and a client for it."""
    with contextlib.ExitStack() as stack:

        def make(**options: Any) -> Api:
            clock = ManualClock()
            emulator = OmnisendEmulator(clock=clock, seed=7, **options)
            if request.param == "in-process":
                http = httpx.Client(
                    transport=emulator.transport(),
                    base_url=emulator.base_url,
                    headers=emulator.headers(),
                )
            else:
                url = stack.enter_context(emulator.serve())
                # verify=False: plain HTTP needs no certificates; loading them costs 20 ms a test.
                http = httpx.Client(
                    base_url=url,
                    headers=emulator.headers(),
                    timeout=5.0,
                    verify=False,
                )
            stack.enter_context(http)
            return Api(emulator, http, clock)

        yield make


@pytest.fixture
def api(connect: Connect) -> Api:
    """The default emulator, in both modes."""
    return connect()
