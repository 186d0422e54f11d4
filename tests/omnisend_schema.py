"""Request schemas of Omnisend's API (2026-03-15), written from ../shared/omnisend-api.md.

Independent of the SDK's own checks on purpose: a test that reused them could not catch them
being wrong. Each checker returns a list of problems; an empty list means the body is valid.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
_CONTACT_FIELDS = {
    "identifiers",
    "firstName",
    "lastName",
    "address",
    "city",
    "state",
    "postalCode",
    "country",
    "countryCode",
    "gender",
    "birthdate",
    "tags",
    "customProperties",
    "createdAt",
}
_STRING_FIELDS = ("firstName", "lastName", "address", "city", "state", "postalCode", "country")
_STATUSES = {"subscribed", "nonSubscribed", "unsubscribed"}


def _is_rfc3339(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def contact_request_problems(body: Any, *, new: bool = True) -> list[str]:
    """What is wrong with a ``ContactRequest`` body."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    problems = [f"unknown field {k}" for k in body if k not in _CONTACT_FIELDS]
    problems += [f"{k} is null" for k, v in body.items() if v is None]
    identifiers = body.get("identifiers", [])
    if not isinstance(identifiers, list):
        return [*problems, "identifiers is not an array"]
    if new and not any(
        isinstance(i, dict) and i.get("type") in ("email", "phone") for i in identifiers
    ):
        problems.append("no email or phone identifier")
    for n, identifier in enumerate(identifiers):
        problems += [f"identifiers[{n}]: {p}" for p in _identifier_problems(identifier)]
    for name in _STRING_FIELDS:
        if name in body and not isinstance(body[name], str):
            problems.append(f"{name} is not a string")
    if "countryCode" in body and not re.fullmatch(r"[A-Z]{2}", str(body["countryCode"])):
        problems.append("countryCode is not ISO 3166-1 alpha-2")
    if "gender" in body and body["gender"] not in ("m", "f"):
        problems.append("gender is not m or f")
    if "birthdate" in body:
        try:
            date.fromisoformat(str(body["birthdate"]))
        except ValueError:
            problems.append("birthdate is not YYYY-MM-DD")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 100 or not all(isinstance(t, str) for t in tags):
        problems.append("tags must be at most 100 strings")
    problems += _custom_property_problems(body.get("customProperties", {}))
    if "createdAt" in body and not _is_rfc3339(body["createdAt"]):
        problems.append("createdAt is not RFC 3339")
    return problems


def _identifier_problems(identifier: Any) -> list[str]:
    if not isinstance(identifier, dict):
        return ["not an object"]
    allowed = {"type", "id", "channels", "consent", "sendWelcomeMessage", "source"}
    problems = [f"unknown field {k}" for k in identifier if k not in allowed]
    kind, value = identifier.get("type"), identifier.get("id")
    if kind not in ("email", "phone"):
        problems.append("type must be email or phone")
    if not isinstance(value, str) or not value:
        problems.append("id is required")
    elif kind == "phone" and not _E164.match(value):
        problems.append("phone id is not E.164")
    elif kind == "email" and value != value.strip().lower():
        problems.append("email id is not normalised (trimmed, lower case)")
    if "sendWelcomeMessage" in identifier and not isinstance(
        identifier["sendWelcomeMessage"], bool
    ):
        problems.append("sendWelcomeMessage is not a boolean")
    channels = identifier.get("channels", {})
    if not isinstance(channels, dict):
        return [*problems, "channels is not an object"]
    for channel, state in channels.items():
        if channel not in ("email", "sms"):
            problems.append(f"unknown channel {channel}")
        if not isinstance(state, dict) or state.get("status") not in _STATUSES:
            problems.append(f"channels.{channel}.status is missing or invalid")
            continue
        if "statusChangedAt" in state and not _is_rfc3339(state["statusChangedAt"]):
            problems.append(f"channels.{channel}.statusChangedAt is not ISO 8601")
        if state["status"] == "subscribed" and "statusChangedAt" not in state:
            problems.append(f"channels.{channel}: subscribed without a time re-subscribes people")
    consent = identifier.get("consent")
    if consent is not None:
        if not isinstance(consent, dict):
            problems.append("consent is not an object")
        elif "createdAt" in consent and not _is_rfc3339(consent["createdAt"]):
            problems.append("consent.createdAt is not RFC 3339")
    return problems


def _custom_property_problems(properties: Any) -> list[str]:
    if not isinstance(properties, dict):
        return ["customProperties is not an object"]
    problems = []
    if len(properties) > 200:
        problems.append("more than 200 custom properties")
    for name, value in properties.items():
        if not _PROPERTY_NAME.match(name):
            problems.append(f"custom property name {name!r} is invalid")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                problems.append(f"custom property {name} array holds non-strings")
        elif not isinstance(value, str | int | float | bool):
            problems.append(f"custom property {name} has an invalid type")
    return problems


def batch_request_problems(body: Any) -> list[str]:
    """What is wrong with a ``POST /batches`` body for contacts."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    problems = [
        f"unknown field {k}" for k in body if k not in ("method", "endpoint", "items", "origin")
    ]
    if body.get("method") != "POST" or body.get("endpoint") != "contacts":
        problems.append("method must be POST and endpoint contacts")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        return [*problems, "items must hold 1 to 100 contacts"]
    for n, item in enumerate(items):
        problems += [f"items[{n}]: {p}" for p in contact_request_problems(item)]
    return problems


def tags_request_problems(body: Any) -> list[str]:
    """What is wrong with a ``/contacts/tags`` body."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    selectors = ("contactIDs", "emails", "phones", "segmentID")
    problems = [f"unknown field {k}" for k in body if k not in ("tags", *selectors)]
    tags = body.get("tags")
    if not isinstance(tags, list) or not 1 <= len(tags) <= 100:
        problems.append("tags must hold 1 to 100 strings")
    if not any(k in body for k in selectors):
        problems.append("no selector")
    for name in ("contactIDs", "emails", "phones"):
        if name in body and (not isinstance(body[name], list) or not 1 <= len(body[name]) <= 250):
            problems.append(f"{name} must hold 1 to 250 values")
    return problems


# From ../shared/omnisend-api.md, section Segments: independent of the SDK's own checks.
def segment_request_problems(body: Any) -> list[str]:
    """What is wrong with a ``POST /segments`` or ``PUT /segments/{id}`` body."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    problems = [f"unknown field {k}" for k in body if k not in ("name", "conditionGroups")]
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        problems.append("name must be 1 to 256 characters")
    groups = body.get("conditionGroups")
    if not isinstance(groups, list) or not groups:
        return [*problems, "conditionGroups must be a non-empty array"]
    for g, group in enumerate(groups):
        conditions = group.get("conditions") if isinstance(group, dict) else None
        if not isinstance(conditions, list) or not conditions:
            problems.append(f"conditionGroups[{g}].conditions must be a non-empty array")
            continue
        for c, condition in enumerate(conditions):
            where = f"conditionGroups[{g}].conditions[{c}]"
            if not isinstance(condition, dict):
                problems.append(f"{where} is not an object")
                continue
            if condition.get("entity") not in ("contact", "event"):
                problems.append(f"{where}.entity must be contact or event")
            if condition.get("junction") not in ("and", "or"):
                problems.append(f"{where}.junction must be and or or")
            filters = condition.get("filters")
            if not isinstance(filters, list) or not filters:
                problems.append(f"{where}.filters must be a non-empty array")
            elif not all(isinstance(f, dict) for f in filters):
                problems.append(f"{where}.filters must hold objects")
    return problems
