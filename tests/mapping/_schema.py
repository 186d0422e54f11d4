"""The request schema check for mapped contacts: the shared ContactRequest check, plus the mapper's
own promises (normalised email, no empty strings, limits, E.164 phones)."""

from __future__ import annotations

import re
from typing import Any

from omnisend_sdk._constants import MAX_CUSTOM_PROPERTY_VALUE_LENGTH, MAX_TEXT_LENGTH
from tests.omnisend_schema import contact_request_problems

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TEXT = ("firstName", "lastName", "address", "city", "state", "postalCode", "country")


def mapped_contact_problems(body: dict[str, Any]) -> list[str]:
    """Everything wrong with a mapped contact's 2026-03-15 body."""
    problems = contact_request_problems(body)
    email = body["identifiers"][0]
    if email["type"] != "email" or email["id"] != email["id"].strip().lower():
        problems.append("first identifier is not a normalised email")
    if not isinstance(email.get("sendWelcomeMessage"), bool):
        problems.append("welcome message not set explicitly")
    problems += [
        f"{i['id']!r} is not E.164" for i in body["identifiers"][1:] if not _E164.fullmatch(i["id"])
    ]
    for name in _TEXT:
        value = body.get(name)
        if value is not None and (
            not value or len(value) > MAX_TEXT_LENGTH or value != value.strip()
        ):
            problems.append(f"{name} is empty, too long or untrimmed")
    for name, value in body.get("customProperties", {}).items():
        if value in ("", [], None):
            problems.append(f"custom property {name} is empty")
        if isinstance(value, str) and len(value) > MAX_CUSTOM_PROPERTY_VALUE_LENGTH:
            problems.append(f"custom property {name} is too long")
    channel = email.get("channels", {}).get("email")
    if channel and channel["status"] != "unsubscribed" and "statusChangedAt" not in channel:
        problems.append("a status other than unsubscribed sent without a time")
    return problems
