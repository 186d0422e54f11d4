"""A stateful Omnisend emulator for testing pipelines offline.

It speaks API version 2026-03-15 over an in-process httpx transport or a loopback HTTP server,
enforces Omnisend's rules (validation, identifiers, statuses, rate limits, asynchronous batches and
tags), injects faults on demand, and lets tests inspect what Omnisend would have done. See
``docs/testing.md``.

It validates requests with its own rules, written from the API document, and imports nothing from
the rest of ``omnisend_sdk``: it must catch the client's mistakes, not repeat them.
"""

from ._app import Exchange, RequestRecord
from ._auth import (
    CONTACTS_READ,
    CONTACTS_WRITE,
    EMULATOR_API_KEY,
    FULL_ACCESS,
    READ_ONLY,
    WRITE_ONLY,
    ApiKey,
)
from ._clock import Clock, ManualClock, ScaledClock
from ._emulator import OmnisendEmulator
from ._faults import Fault, FaultPlan, Latency
from ._problems import ApiProblem, FieldError
from ._ratelimit import RateLimits
from ._settings import API_VERSION, BatchProcessing
from ._state import EmulatorStats
from ._transport import EmulatorTransport

__all__ = [
    "API_VERSION",
    "CONTACTS_READ",
    "CONTACTS_WRITE",
    "EMULATOR_API_KEY",
    "FULL_ACCESS",
    "READ_ONLY",
    "WRITE_ONLY",
    "ApiKey",
    "ApiProblem",
    "BatchProcessing",
    "Clock",
    "EmulatorStats",
    "EmulatorTransport",
    "Exchange",
    "Fault",
    "FaultPlan",
    "FieldError",
    "Latency",
    "ManualClock",
    "OmnisendEmulator",
    "RateLimits",
    "RequestRecord",
    "ScaledClock",
]
