"""Helpers for the emulator tests: request bodies and problem checks."""

from __future__ import annotations

from typing import Any

import httpx


def contact(email: str | None = None, *, phone: str | None = None, **fields: Any) -> dict[str, Any]:
    """A contact body with an email and/or phone identifier plus any other fields."""
    identifiers = []
    if email is not None:
        identifiers.append({"type": "email", "id": email})
    if phone is not None:
        identifiers.append({"type": "phone", "id": phone})
    return {"identifiers": identifiers, **fields}


def subscribed(email: str, at: str | None = None, status: str = "subscribed") -> dict[str, Any]:
    """An email identifier with an email channel status (and optionally its time)."""
    channel: dict[str, Any] = {"status": status}
    if at is not None:
        channel["statusChangedAt"] = at
    return {"type": "email", "id": email, "channels": {"email": channel}}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem answer and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    assert body["instance"].startswith("urn:omnisend:request:")
    return body


def error_fields(response: httpx.Response) -> set[tuple[str, str]]:
    """The (field, code) pairs of a 400 validation problem."""
    body = assert_problem(response, 400)
    return {(error["field"], error["code"]) for error in body["errors"]}
