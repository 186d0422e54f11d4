"""Contacts: upsert by email, get, patch, list; the rules of "Rules that matter for exports".

``upsert`` is the single implementation of ``POST /contacts``: the batch processor calls it for
every item, so a batched contact is answered exactly as the single call would be.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import _segments
from ._countries import country_code
from ._paging import SortKey, cursor_page
from ._problems import ApiProblem, InvalidField, found, validation_problem
from ._rules import (
    CHANNEL_OF,
    MAX_CUSTOM_PROPERTIES,
    ContactQuery,
    require_valid,
    validate_contact,
)
from ._state import State, StoredContact, StoredIdentifier
from ._times import format_time, parse_rfc3339

_PROFILE_FIELDS = (
    "firstName",
    "lastName",
    "address",
    "city",
    "state",
    "postalCode",
    "country",
    "gender",
    "birthdate",
)
# The API stores the body's `createdAt` as this custom property.
EXTERNAL_CREATED = "externalCreated"


def upsert(state: State, body: Any, now: float) -> tuple[int, StoredContact]:
    """``POST /contacts``: create, or update the contact owning one of the body's email identifiers.

    Identifiers owned by another contact are silently dropped. When every identifier is owned by
    other contacts nothing is written: the emulator answers 200 with the owner of the first one,
    unchanged (what Omnisend answers in that case is unconfirmed).

    Returns:
        201 and the new contact, or 200 and the updated one. The caller renders it when it
        answers: a batch item keeps only the contact's id, and renders it when its items are read.

    Raises:
        ApiProblem: 400 when the body is invalid.
    """
    require_valid(validate_contact(body, creating=True))
    requested = _unique_identifiers(body["identifiers"])
    owned = [(item, state.owner(item["type"], item["id"])) for item in requested]
    target = next(
        (owner for item, owner in owned if owner is not None and item["type"] == "email"),
        None,
    )
    usable = [item for item, owner in owned if owner is None or owner is target]
    if target is None and not usable:
        first_owner = owned[0][1]
        assert first_owner is not None  # every identifier is owned, the first included
        return 200, first_owner
    _check_property_count(target, body)
    if target is None:
        target = _create(state, now)
        status = 201
    else:
        state.stats.contacts_updated += 1
        status = 200
    _apply(state, target, body, usable, now)
    return status, target


def patch(state: State, contact: StoredContact, body: Any, now: float) -> dict[str, Any]:
    """``PATCH /contacts/{id}`` and ``PATCH /contacts?email=``: change only the fields sent.

    Raises:
        ApiProblem: 400 when the body is invalid, 409 when an identifier belongs to another contact.
    """
    require_valid(validate_contact(body, creating=False))
    requested = _unique_identifiers(body.get("identifiers", []))
    for item in requested:
        owner = state.owner(item["type"], item["id"])
        if owner is not None and owner is not contact:
            raise ApiProblem(
                409,
                "conflict",
                f"{item['type']} identifier {item['id']!r} already belongs to another contact",
            )
    _check_property_count(contact, body)
    state.stats.contacts_updated += 1
    _apply(state, contact, body, requested, now)
    return render(state, contact)


def get_by_id(state: State, contact_id: str) -> StoredContact:
    """The contact with ``contact_id``.

    Raises:
        ApiProblem: 404 when there is none.
    """
    return found(state.contacts.get(contact_id), "contact")


def get_by_email(state: State, email: str) -> StoredContact:
    """The contact with email identifier ``email`` (exact, case-sensitive).

    Raises:
        ApiProblem: 404 when there is none.
    """
    return found(state.owner("email", email), "contact")


def render(state: State, contact: StoredContact) -> dict[str, Any]:
    """The ``ContactResponse`` of a contact."""
    emails = [item for item in contact.identifiers if item.type == "email"]
    phones = [item for item in contact.identifiers if item.type == "phone"]
    body: dict[str, Any] = {"id": contact.id}
    if emails:
        body["email"] = emails[0].id
        body["status"] = emails[0].status
    body["phone"] = [item.id for item in phones]
    # The most recent status per channel comes from the primary identifier of that channel.
    primaries = [group[0] for group in (emails, phones) if group]
    body["statuses"] = [
        {
            "channel": CHANNEL_OF[item.type],
            "status": item.status,
            "statusChangedAt": format_time(item.status_changed_at),
        }
        for item in sorted(primaries, key=lambda item: item.status_changed_at)
    ]
    body["optIns"] = list(contact.opt_ins)
    body["consents"] = sorted(contact.consents, key=lambda consent: consent["createdAt"])
    body["segments"] = _segments.segment_ids_of(state, contact)
    body["tags"] = list(contact.tags)
    body["identifiers"] = [
        {
            "type": item.type,
            "id": item.id,
            "channels": {
                CHANNEL_OF[item.type]: {
                    "status": item.status,
                    "statusChangedAt": format_time(item.status_changed_at),
                },
            },
        }
        for item in contact.identifiers
    ]
    body.update(contact.profile)
    body["customProperties"] = dict(contact.custom_properties)
    body["createdAt"] = format_time(contact.created_at)
    body["updatedAt"] = format_time(contact.updated_at)
    return body


def _unique_identifiers(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # The same identifier twice in one body is one identifier; the first mention wins.
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in items:
        key = (item["type"], item["id"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _check_property_count(contact: StoredContact | None, body: dict[str, Any]) -> None:
    if "customProperties" not in body and "createdAt" not in body:
        return  # nothing added: the stored properties were counted when they were written
    names = set(contact.custom_properties) if contact else set()
    names.update(body.get("customProperties", {}))
    if "createdAt" in body:
        names.add(EXTERNAL_CREATED)
    if len(names) > MAX_CUSTOM_PROPERTIES:
        raise validation_problem(
            [
                InvalidField(
                    "customProperties",
                    "too_many",
                    f"a contact can have at most {MAX_CUSTOM_PROPERTIES} custom properties",
                ),
            ],
        )


def _create(state: State, now: float) -> StoredContact:
    contact = StoredContact(id=state.new_id(), seq=state.next_seq(), created_at=now, updated_at=now)
    state.contacts[contact.id] = contact
    state.stats.contacts_created += 1
    return contact


def _apply(
    state: State,
    contact: StoredContact,
    body: dict[str, Any],
    identifiers: list[dict[str, Any]],
    now: float,
) -> None:
    for item in identifiers:
        _apply_identifier(state, contact, item, now)
    for name in _PROFILE_FIELDS:
        if name in body:
            contact.profile[name] = body[name]
    # countryCode wins over country; a country alone sets the code it names (or clears a stale one).
    if "countryCode" in body:
        contact.profile["countryCode"] = body["countryCode"]
    elif "country" in body:
        code = country_code(body["country"])
        if code is None:
            contact.profile.pop("countryCode", None)
        else:
            contact.profile["countryCode"] = code
    if "tags" in body:
        tags = tuple(dict.fromkeys(body["tags"]))
        if set(contact.tags) - set(tags):
            state.stats.tag_replacements += 1
        contact.tags = tags
    if "customProperties" in body:
        contact.custom_properties.update(body["customProperties"])
    if "createdAt" in body:
        contact.custom_properties[EXTERNAL_CREATED] = body["createdAt"]
    contact.updated_at = now


def _apply_identifier(
    state: State,
    contact: StoredContact,
    item: dict[str, Any],
    now: float,
) -> None:
    kind, value = item["type"], item["id"]
    channel = CHANNEL_OF[kind]
    requested = item["channels"].get(channel) if "channels" in item else None
    when = now
    if requested is not None and "statusChangedAt" in requested:
        parsed = parse_rfc3339(requested["statusChangedAt"])
        assert parsed is not None  # validated
        when = parsed
    stored = _find_identifier(contact, kind, value)
    if stored is None:
        stored = StoredIdentifier(
            type=kind,
            id=value,
            status=requested["status"] if requested else "nonSubscribed",
            status_changed_at=when if requested else now,
        )
        contact.identifiers += (stored,)
        state.claim(kind, value, contact)
        if stored.status == "subscribed":
            contact.opt_ins += ({"channel": channel, "optInAt": format_time(when)},)
        if state.settings.welcome_workflow and item.get("sendWelcomeMessage", True):
            state.stats.welcome_messages += 1
    elif requested is not None and when >= stored.status_changed_at:
        # A status older than the stored one is ignored; no time means "now", which always wins.
        new_status = requested["status"]
        if new_status != stored.status:
            state.stats.status_changes += 1
            if stored.status == "unsubscribed" and new_status == "subscribed":
                state.stats.resubscriptions += 1
            if new_status == "subscribed":
                contact.opt_ins += ({"channel": channel, "optInAt": format_time(when)},)
            stored.status = new_status
            stored.status_changed_at = when
    if "source" in item:
        stored.source = item["source"]
    if "consent" in item:
        consent = {"channel": channel, "createdAt": format_time(now)}
        consent.update(item["consent"])
        contact.consents += (consent,)


def _find_identifier(contact: StoredContact, kind: str, value: str) -> StoredIdentifier | None:
    for stored in contact.identifiers:
        if stored.id == value and stored.type == kind:
            return stored
    return None


def list_contacts(state: State, query: ContactQuery) -> dict[str, Any]:
    """``GET /contacts``: filter, sort and page with opaque cursors."""

    def key(contact: StoredContact) -> SortKey:
        stamp = contact.created_at if query.sort == "createdAt" else contact.updated_at
        return (stamp, contact.seq)

    page, paging = cursor_page(
        (contact for contact in state.contacts.values() if _matches(state, contact, query)),
        key,
        query,
    )
    return {"contacts": [render(state, contact) for contact in page], "paging": paging}


def _matches(state: State, contact: StoredContact, query: ContactQuery) -> bool:
    identifiers = {(item.type, item.id) for item in contact.identifiers}
    primary_status = next((i.status for i in contact.identifiers if i.type == "email"), None)
    return (
        (query.email is None or ("email", query.email) in identifiers)
        and (query.phone is None or ("phone", query.phone) in identifiers)
        and (query.status is None or primary_status == query.status)
        and (query.tag is None or query.tag in contact.tags)
        and (query.segment_id is None or _segments.contains(state, query.segment_id, contact))
        and (query.updated_at_from is None or contact.updated_at >= query.updated_at_from)
    )
