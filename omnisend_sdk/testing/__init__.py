"""A stateful Omnisend emulator for testing pipelines offline.

It speaks API version 2026-03-15 over an in-process httpx transport or a loopback HTTP server,
enforces Omnisend's rules (validation, identifiers, statuses, rate limits, asynchronous batches and
tags, segments built from tag rules), injects faults on demand, and lets tests inspect what
Omnisend would have done. See ``docs/testing.md``.

It validates requests with its own rules, written from the API document, and imports nothing from
the rest of ``omnisend_sdk``: it must catch the client's mistakes, not repeat them.

``ApiKey`` and ``FieldError`` are deprecated names of :class:`ScopedKey` and :class:`InvalidField`:
the client has classes of those names that are something else.
"""

import warnings
from typing import Any

from ._app import Exchange, RequestRecord
from ._auth import (
    CONTACTS_READ,
    CONTACTS_WRITE,
    EMULATOR_API_KEY,
    FULL_ACCESS,
    READ_ONLY,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    WRITE_ONLY,
    ScopedKey,
)
from ._clock import Clock, ManualClock, ScaledClock
from ._emulator import OmnisendEmulator
from ._faults import Fault, FaultPlan, Latency
from ._problems import ApiProblem, InvalidField
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
    "SEGMENTS_READ",
    "SEGMENTS_WRITE",
    "WRITE_ONLY",
    "ApiProblem",
    "BatchProcessing",
    "Clock",
    "EmulatorStats",
    "EmulatorTransport",
    "Exchange",
    "Fault",
    "FaultPlan",
    "InvalidField",
    "Latency",
    "ManualClock",
    "OmnisendEmulator",
    "RateLimits",
    "RequestRecord",
    "ScaledClock",
    "ScopedKey",
]

# Old names, kept importable for a while: they were the same as the client's own ApiKey (a key
# wrapper) and FieldError (an error detail it parses), which are different classes.
_DEPRECATED_NAMES = {"ApiKey": "ScopedKey", "FieldError": "InvalidField"}


def __getattr__(name: str) -> Any:
    """Resolve a deprecated name to its new class, with a ``DeprecationWarning``."""
    new_name = _DEPRECATED_NAMES.get(name)
    if new_name is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    warnings.warn(
        f"{__name__}.{name} is deprecated; use {__name__}.{new_name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new_name]
