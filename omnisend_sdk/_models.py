"""Frozen value types for what the SDK sends to and reads from Omnisend.

Field names are Python's; only :mod:`omnisend_sdk._wire` knows the JSON spellings. Request types are
strict about what they hold; response types default every field, because Omnisend may omit or add
fields at any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeAlias

import attrs

IdentifierType: TypeAlias = Literal["email", "phone"]
Channel: TypeAlias = Literal["email", "sms"]
ChannelStatus: TypeAlias = Literal["subscribed", "nonSubscribed", "unsubscribed"]
Gender: TypeAlias = Literal["m", "f"]
BatchStatus: TypeAlias = Literal["pending", "inProgress", "finished", "stopped"]
SortField: TypeAlias = Literal["createdAt", "updatedAt"]
SortDirection: TypeAlias = Literal["asc", "desc"]
CustomPropertyValue: TypeAlias = str | int | float | bool | tuple[str, ...]
SegmentStatus: TypeAlias = Literal["ready", "building", "archived"]
SegmentSortField: TypeAlias = Literal["createdAt", "name"]
SegmentEntity: TypeAlias = Literal["contact", "event"]
SegmentJunction: TypeAlias = Literal["and", "or"]

#: Batch states after which Omnisend does no more work on a batch.
FINAL_BATCH_STATUSES: frozenset[BatchStatus] = frozenset({"finished", "stopped"})


@attrs.frozen
class ChannelState:
    """A channel's subscription status and when it changed.

    Omnisend ignores a status older than the one it stores, and takes a status without a time as
    "now": send ``subscribed`` only with the real time the person subscribed.
    """

    status: ChannelStatus
    status_changed_at: datetime | None = None


@attrs.frozen
class Consent:
    """Where and when a person gave consent to be contacted."""

    source: str | None = None
    created_at: datetime | None = None
    ip: str | None = None
    user_agent: str | None = None


@attrs.frozen
class Identifier:
    """An email address or E.164 phone number that identifies a contact.

    ``send_welcome_message`` defaults to ``None`` (not sent), which Omnisend reads as *true* in
    version 2026-03-15; the export engine always sets it explicitly.
    """

    type: IdentifierType
    id: str
    channels: Mapping[Channel, ChannelState] | None = None
    consent: Consent | None = None
    send_welcome_message: bool | None = None
    source: str | None = None


@attrs.frozen
class ContactInput:
    """The body of a contact create, upsert or update (Omnisend's ``ContactRequest``).

    Every field is optional; ``None`` fields are not sent, so an update changes only what is set.
    A new contact needs an email or phone identifier. ``tags`` *replaces* the contact's tags: to add
    a tag without losing others, use ``client.tags.add``.
    """

    identifiers: tuple[Identifier, ...] = ()
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    gender: Gender | None = None
    birthdate: date | None = None
    tags: tuple[str, ...] | None = None
    custom_properties: Mapping[str, CustomPropertyValue] | None = None
    created_at: datetime | None = None

    @classmethod
    def for_email(
        cls, email: str, *, send_welcome_message: bool = False, **fields: Any
    ) -> ContactInput:
        """Build a contact identified by one email address, welcome message off by default.

        Args:
            email: The address, sent as given (normalise it first: Omnisend compares case).
            send_welcome_message: Whether Omnisend's welcome workflow may mail this contact.
            **fields: Any other :class:`ContactInput` field.
        """
        identifier = Identifier(type="email", id=email, send_welcome_message=send_welcome_message)
        return cls(identifiers=(identifier,), **fields)

    @property
    def email(self) -> str | None:
        """The first email identifier, if any."""
        return next((i.id for i in self.identifiers if i.type == "email"), None)


@attrs.frozen
class ContactStatus:
    """A channel's status as Omnisend reports it on a contact."""

    channel: str
    status: str
    status_changed_at: datetime | None = None


@attrs.frozen
class ContactIdentifier:
    """An identifier as Omnisend reports it on a contact (channels kept as received)."""

    type: str
    id: str
    channels: Mapping[str, Any] | None = None


@attrs.frozen
class Contact:
    """A contact as Omnisend returns it. Unknown fields are ignored."""

    id: str
    email: str | None = None
    phone: tuple[str, ...] = ()
    status: str | None = None
    statuses: tuple[ContactStatus, ...] = ()
    identifiers: tuple[ContactIdentifier, ...] = ()
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    gender: str | None = None
    birthdate: str | None = None
    tags: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    custom_properties: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class UpsertResult:
    """What ``contacts.upsert`` did: the stored contact, and whether it was new (201) or updated."""

    contact: Contact
    created: bool


@attrs.frozen
class Batch:
    """An asynchronous batch of contact requests and its progress.

    ``finished_count`` includes the items that failed; ``errors_count`` counts those.
    """

    batch_id: str
    status: BatchStatus = "pending"
    method: str | None = None
    endpoint: str | None = None
    total_count: int = 0
    finished_count: int = 0
    errors_count: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def done(self) -> bool:
        """True once Omnisend will do no more work on the batch (finished or stopped)."""
        return self.status in FINAL_BATCH_STATUSES


@attrs.frozen
class BatchItem:
    """One item of a batch: the request sent and what the single call would have answered.

    Omnisend does not promise item order: match items to source rows by ``email``.
    """

    item_id: str | None = None
    request: Mapping[str, Any] = attrs.field(factory=dict)
    response_code: int | None = None
    response: Mapping[str, Any] | None = None
    status: str | None = None

    @property
    def email(self) -> str | None:
        """The email identifier of the item's request, if it had one."""
        identifiers = self.request.get("identifiers") or ()
        for identifier in identifiers:
            if isinstance(identifier, Mapping) and identifier.get("type") == "email":
                value = identifier.get("id")
                return value if isinstance(value, str) else None
        return None

    @property
    def ok(self) -> bool:
        """True when the item's own answer was a success (2xx)."""
        return self.response_code is not None and 200 <= self.response_code < 300


@attrs.frozen
class BatchItems:
    """A batch with the answers to each of its items, successes and errors apart."""

    batch: Batch
    responses: tuple[BatchItem, ...] = ()
    errors: tuple[BatchItem, ...] = ()


# --- segments ----------------------------------------------------------------------------------
#
# A segment's rule is a tuple of condition groups: the groups are OR-ed, the conditions of a group
# AND-ed, and a condition's filters joined by its ``junction``. The three rule types keep whatever
# fields the SDK does not model in ``extra`` (JSON names, as received), and send them back: a rule
# read with ``segments.get`` can be sent to ``segments.update`` without losing any of it. JSON
# arrays read into a rule become tuples, so a rule read back equals the one built.


@attrs.frozen
class SegmentFilter:
    """One test of a segment condition, e.g. ``SegmentFilter("tags", "anyOf", ("VIP",))``.

    Attributes:
        property: What is tested (``tags`` for a contact's tags).
        operator: How (``anyOf``, ``noneOf``...).
        value: What it is compared with, as JSON (arrays as tuples); ``None`` is not sent.
        extra: Fields the SDK does not model, by their JSON names.
    """

    property: str
    operator: str
    value: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class SegmentCondition:
    """Filters on contacts or their events, joined by ``junction``."""

    entity: SegmentEntity
    junction: SegmentJunction
    filters: tuple[SegmentFilter, ...]
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ConditionGroup:
    """Conditions a contact must all meet; a segment holds contacts meeting any of its groups."""

    conditions: tuple[SegmentCondition, ...]
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Segment:
    """A segment as Omnisend returns it. Unknown fields are ignored.

    Omnisend rebuilds a segment's membership after a change (``status == "building"``); while it
    does, the segment cannot be updated or deleted (:class:`~omnisend_sdk.SegmentBuildingError`).
    """

    segment_id: str
    name: str | None = None
    condition_groups: tuple[ConditionGroup, ...] = ()
    status: SegmentStatus | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived_at: datetime | None = None
    is_starred: bool = False


@attrs.frozen
class SegmentPage:
    """One page of ``segments.list``.

    Attributes:
        segments: The segments of this page.
        after: Pass as ``after`` to get the next page (opaque), if Omnisend gave one.
        before: Pass as ``before`` to get the previous page (opaque), if Omnisend gave one.
        has_more: Whether a next page exists.
    """

    segments: tuple[Segment, ...] = ()
    after: str | None = None
    before: str | None = None
    has_more: bool = False


@attrs.frozen
class SegmentStatistics:
    """``segments.statistics``: how many contacts a segment holds.

    Omnisend counts eventually: a tag change may take a while to show in ``contacts_count``.
    """

    contacts_count: int
