"""JSON for the emulator: strict decoding of request bodies, compact encoding of answers."""

from __future__ import annotations

import json
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def decode(content: bytes) -> Any:
    """Decode a request body, refusing NaN and Infinity.

    Raises:
        ValueError: when ``content`` is not JSON.
    """
    return json.loads(content, parse_constant=_reject_constant)


encode_compact = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
"""Compact JSON text of a value. One encoder for every call: ``json.dumps`` with options builds a
new one per call. The circular check is off because the values are decoded JSON or plain dicts."""
