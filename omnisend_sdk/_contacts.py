"""``client.contacts``: upsert, read, find, list and update contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs
import httpx

from omnisend_sdk._constants import (
    DEFAULT_PAGE_SIZE,
    MAX_CUSTOM_PROPERTIES,
    MAX_PAGE_SIZE,
    MAX_TAGS,
    ApiVersion,
)
from omnisend_sdk._errors import InvalidRequestError
from omnisend_sdk._http import Operation, RequestSpec, json_body, parse_with, read_object
from omnisend_sdk._models import (
    ChannelStatus,
    Contact,
    ContactInput,
    SortDirection,
    SortField,
    UpsertResult,
)
from omnisend_sdk._wire import contact_to_json, format_datetime, from_json

if TYPE_CHECKING:
    from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient


# --- request rules -----------------------------------------------------------------------------


def check_contact(contact: ContactInput, *, new: bool = True) -> None:
    """Refuse a contact Omnisend would reject, before it is sent.

    Args:
        contact: The contact.
        new: Whether it may create a contact, which needs an email or phone identifier.
    """
    if new and not any(i.type in ("email", "phone") and i.id for i in contact.identifiers):
        raise InvalidRequestError("a contact needs an email or phone identifier")
    if contact.tags is not None and len(contact.tags) > MAX_TAGS:
        raise InvalidRequestError(f"a contact holds at most {MAX_TAGS} tags")
    if contact.custom_properties and len(contact.custom_properties) > MAX_CUSTOM_PROPERTIES:
        raise InvalidRequestError(f"a contact holds at most {MAX_CUSTOM_PROPERTIES} properties")


@attrs.frozen(kw_only=True)
class ContactFilters:
    """Filters of ``GET /contacts``, checked against the API's rules on creation.

    ``tag`` and ``status`` cannot be combined, and ``updated_since`` cannot be combined with any
    other filter.
    """

    email: str | None = None
    phone: str | None = None
    status: ChannelStatus | None = None
    tag: str | None = None
    segment_id: str | None = None
    updated_since: datetime | None = None
    sort: SortField | None = None
    direction: SortDirection | None = None
    page_size: int = DEFAULT_PAGE_SIZE

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if self.tag is not None and self.status is not None:
            raise InvalidRequestError("Omnisend cannot filter contacts by tag and status at once")
        others = (self.email, self.phone, self.status, self.tag, self.segment_id)
        if self.updated_since is not None and any(v is not None for v in others):
            raise InvalidRequestError("updated_since cannot be combined with other filters")

    def params(self) -> list[tuple[str, str]]:
        """The query parameters, in a stable order."""
        values: list[tuple[str, str | None]] = [
            ("limit", str(self.page_size)),
            ("email", self.email),
            ("phone", self.phone),
            ("status", self.status),
            ("tag", self.tag),
            ("segmentID", self.segment_id),
            ("updatedAtFrom", format_datetime(self.updated_since) if self.updated_since else None),
            ("sort", self.sort),
            ("direction", self.direction),
        ]
        return [(name, value) for name, value in values if value is not None]


@attrs.frozen
class ContactPage:
    """One page of a contact listing and where the next one starts."""

    contacts: tuple[Contact, ...]
    next_params: tuple[tuple[str, str], ...] | None


# --- operations (sans-I/O) ---------------------------------------------------------------------


def upsert_operation(contact: ContactInput, version: ApiVersion) -> Operation[UpsertResult]:
    """``POST /contacts``: create the contact, or update the one with its email."""
    check_contact(contact)
    spec = RequestSpec(
        method="POST", path="/contacts", body=json_body(contact_to_json(contact, version))
    )

    def parse(response: httpx.Response) -> UpsertResult:
        stored = parse_with(lambda body: from_json(Contact, body, version), response)
        return UpsertResult(contact=stored, created=response.status_code == 201)

    return Operation(spec, parse)


def get_operation(contact_id: str, version: ApiVersion) -> Operation[Contact]:
    """``GET /contacts/{id}``."""
    spec = RequestSpec(method="GET", path=f"/contacts/{_segment(contact_id)}")
    return Operation(spec, _contact_parser(version))


def update_operation(
    id_or_email: str, changes: ContactInput, version: ApiVersion
) -> Operation[Contact]:
    """``PATCH /contacts/{id}`` or, for an address, ``PATCH /contacts?email=``."""
    check_contact(changes, new=False)
    body = json_body(contact_to_json(changes, version))
    if "@" in id_or_email:
        spec = RequestSpec(
            method="PATCH", path="/contacts", params=(("email", id_or_email),), body=body
        )
    else:
        spec = RequestSpec(method="PATCH", path=f"/contacts/{_segment(id_or_email)}", body=body)
    return Operation(spec, _contact_parser(version))


def list_operation(
    params: tuple[tuple[str, str], ...], version: ApiVersion
) -> Operation[ContactPage]:
    """One page of ``GET /contacts``."""

    def parse(response: httpx.Response) -> ContactPage:
        body = read_object(response)
        raw = body.get("contacts") or []
        contacts = parse_with(
            lambda _: tuple(from_json(Contact, item, version) for item in raw), response
        )
        return ContactPage(contacts, _next_params(body.get("paging"), params))

    return Operation(RequestSpec(method="GET", path="/contacts", params=params), parse)


def _contact_parser(version: ApiVersion) -> Any:
    return lambda response: parse_with(lambda body: from_json(Contact, body, version), response)


def _segment(value: str) -> str:
    if not value:
        raise InvalidRequestError("an id must not be empty")
    return quote(value, safe="")


def _next_params(
    paging: object, params: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...] | None:
    """Where the next page starts: 2026-03-15's opaque ``after`` cursor, or v3's ``next`` URL."""
    if not isinstance(paging, Mapping):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    if paging.get("hasMore") and isinstance(after, str) and after:
        return (*((k, v) for k, v in params if k not in ("after", "before")), ("after", after))
    next_url = paging.get("next")
    if isinstance(next_url, str) and next_url:
        return tuple(httpx.URL(next_url).params.multi_items())
    return None


# --- resources ---------------------------------------------------------------------------------


class Contacts:
    """Contacts of the store: ``client.contacts``."""

    def __init__(self, client: OmnisendClient) -> None:
        self._client = client

    def upsert(self, contact: ContactInput) -> UpsertResult:
        """Create a contact, or update the one that has its email.

        Returns:
            The stored contact, and ``created`` (True for 201, False for 200).
        """
        return self._client.execute(upsert_operation(contact, self._client.api_version))

    def get(self, contact_id: str) -> Contact:
        """The contact with this id; ``NotFoundError`` if there is none."""
        return self._client.execute(get_operation(contact_id, self._client.api_version))

    def find_by_email(self, email: str) -> Contact | None:
        """The contact with this exact email identifier, or None."""
        return next(iter(self.iter(email=email, page_size=1)), None)

    def update(self, id_or_email: str, changes: ContactInput) -> Contact:
        """Change only the fields set in ``changes`` of the contact with this id or email."""
        return self._client.execute(
            update_operation(id_or_email, changes, self._client.api_version)
        )

    def iter(self, **filters: Any) -> Iterator[Contact]:
        """Every contact matching the filters, fetching pages lazily as you iterate.

        Args:
            **filters: Any field of :class:`ContactFilters` (email, phone, status, tag, segment_id,
                updated_since, sort, direction, page_size). Forbidden combinations raise
                :class:`InvalidRequestError` here, before anything is sent.
        """
        first = tuple(ContactFilters(**filters).params())
        return self._pages(first)

    def _pages(self, params: tuple[tuple[str, str], ...] | None) -> Iterator[Contact]:
        while params is not None:
            page = self._client.execute(list_operation(params, self._client.api_version))
            yield from page.contacts
            params = page.next_params


class AsyncContacts:
    """Contacts of the store: ``client.contacts`` of :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        self._client = client

    async def upsert(self, contact: ContactInput) -> UpsertResult:
        """Like :meth:`Contacts.upsert`."""
        return await self._client.execute(upsert_operation(contact, self._client.api_version))

    async def get(self, contact_id: str) -> Contact:
        """Like :meth:`Contacts.get`."""
        return await self._client.execute(get_operation(contact_id, self._client.api_version))

    async def find_by_email(self, email: str) -> Contact | None:
        """Like :meth:`Contacts.find_by_email`."""
        async for contact in self.iter(email=email, page_size=1):
            return contact
        return None

    async def update(self, id_or_email: str, changes: ContactInput) -> Contact:
        """Like :meth:`Contacts.update`."""
        operation = update_operation(id_or_email, changes, self._client.api_version)
        return await self._client.execute(operation)

    def iter(self, **filters: Any) -> AsyncIterator[Contact]:
        """Like :meth:`Contacts.iter`, as an async iterator."""
        first = tuple(ContactFilters(**filters).params())
        return self._pages(first)

    async def _pages(self, params: tuple[tuple[str, str], ...] | None) -> AsyncIterator[Contact]:
        while params is not None:
            page = await self._client.execute(list_operation(params, self._client.api_version))
            for contact in page.contacts:
                yield contact
            params = page.next_params
