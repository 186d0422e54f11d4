"""The JSON spellings of the models, for every API version, and the two ways to write them.

Python names become camelCase, ``None`` and empty defaults are left out of what is sent, unknown
response fields are ignored, and the few names that differ between API versions are renamed here
and nowhere else. Two writers take their names from :func:`json_name`:

- the cattrs converter (:func:`converter`, :func:`contact_to_json`, :func:`from_json`), for every
  model, both ways;
- the fast contact encoders (:data:`CONTACT_ENCODERS`), which write the body of a contact the row
  mapper made straight from its parts, about four times faster than unstructuring a
  :class:`~omnisend_sdk.ContactInput`, to the same bytes (the tests hold the two together).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Final, TypeAlias, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from omnisend_sdk import _models as models
from omnisend_sdk._constants import DEFAULT_API_VERSION, ApiVersion

T = TypeVar("T")

#: Names that camelCase does not produce (Omnisend spells these ids in capitals).
_COMMON_RENAMES: Final[Mapping[tuple[type, str], str]] = {
    (models.Batch, "batch_id"): "batchID",
    (models.BatchItem, "item_id"): "itemID",
    (models.Segment, "segment_id"): "segmentID",
}

#: Models that keep the fields the SDK does not know in their ``extra`` attribute and write them
#: back: a segment's rule survives a round trip through ``get`` and ``update`` whole.
_OPEN_MODELS: Final[frozenset[type]] = frozenset(
    {models.ConditionGroup, models.SegmentCondition, models.SegmentFilter}
)
_EXTRA: Final = "extra"

#: Names that v3 spells differently from 2026-03-15.
_V3_RENAMES: Final[Mapping[tuple[type, str], str]] = {
    (models.Contact, "id"): "contactID",
    (models.ChannelState, "status_changed_at"): "statusDate",
    (models.ContactStatus, "status_changed_at"): "statusDate",
}

#: Versions that read the welcome flag once per contact, under this name, instead of on each
#: identifier: v3 has no per-identifier ``sendWelcomeMessage``.
_CONTACT_WELCOME: Final[Mapping[str, str]] = {"v3": "sendWelcomeEmail"}


def camel_case(name: str) -> str:
    """``status_changed_at`` -> ``statusChangedAt``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@functools.cache
def json_name(cls: type, field: str, version: ApiVersion) -> str:
    """The JSON name of a model's field in an API version."""
    renamed = _V3_RENAMES.get((cls, field)) if version == "v3" else None
    return renamed or _COMMON_RENAMES.get((cls, field)) or camel_case(field)


#: :class:`~omnisend_sdk.ContactInput`'s body fields (all but the identifiers) -> JSON names,
#: which no API version renames (a test holds every version to them). The row mapper keys a
#: contact's fields by these, so that the fast encoder copies them into any version's body as is.
CONTACT_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        field.name: json_name(models.ContactInput, field.name, DEFAULT_API_VERSION)
        for field in attrs.fields(models.ContactInput)
        if field.name != "identifiers"
    }
)
_CONTACT_FIELD_NAMES: Final = {name: field for field, name in CONTACT_FIELDS.items()}


def format_datetime(value: datetime) -> str:
    """RFC 3339 with an explicit offset; a naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


#: A date as sent: ``YYYY-MM-DD``.
format_date: Final[Callable[[date], str]] = date.isoformat


def parse_datetime(value: object, _: object = None) -> datetime:
    """Parse Omnisend's RFC 3339 timestamps (``Z`` or an offset)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 timestamp, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def parse_date(value: object, _: object = None) -> date:
    """Parse a ``YYYY-MM-DD`` date."""
    if not isinstance(value, str):
        raise TypeError(f"expected a YYYY-MM-DD date, got {type(value).__name__}")
    return date.fromisoformat(value)


@functools.cache
def converter(version: ApiVersion) -> cattrs.Converter:
    """The converter for one API version (built once, then shared)."""
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_unstructure_hook(datetime, format_datetime)
    conv.register_structure_hook(datetime, parse_datetime)
    conv.register_unstructure_hook(date, format_date)
    conv.register_structure_hook(date, parse_date)

    def unstructure_factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        return make_dict_unstructure_fn(
            cls, conv, _cattrs_omit_if_default=True, **_renamed(cls, version)
        )

    def structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        return make_dict_structure_fn(cls, conv, **_renamed(cls, version))

    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    # Registered later, so they win over the factories above for the open models.
    conv.register_unstructure_hook_factory(
        _OPEN_MODELS.__contains__, lambda cls: _open_unstructure(cls, conv, version)
    )
    conv.register_structure_hook_factory(
        _OPEN_MODELS.__contains__, lambda cls: _open_structure(cls, conv, version)
    )
    return conv


def _renamed(cls: type, version: ApiVersion) -> dict[str, Any]:
    # Typed as Any: mypy cannot tell these **overrides from the generators' keyword flags.
    return {f.name: override(rename=json_name(cls, f.name, version)) for f in attrs.fields(cls)}


def _open_unstructure(
    cls: type, conv: cattrs.Converter, version: ApiVersion
) -> Callable[[Any], dict[str, Any]]:
    overrides = _renamed(cls, version) | {_EXTRA: override(omit=True)}
    known: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
        cls, conv, _cattrs_omit_if_default=True, **overrides
    )

    def unstructure(value: Any) -> dict[str, Any]:
        extra = {key: _thawed(item) for key, item in getattr(value, _EXTRA).items()}
        return extra | known(value)  # a modelled field wins over an extra one

    return unstructure


def _open_structure(
    cls: type, conv: cattrs.Converter, version: ApiVersion
) -> Callable[[Any, Any], Any]:
    overrides = _renamed(cls, version) | {_EXTRA: override(omit=True)}
    known_fn: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, **overrides)
    known = {json_name(cls, f.name, version) for f in attrs.fields(cls) if f.name != _EXTRA}

    def structure(data: Mapping[str, Any], _: Any) -> Any:
        frozen = {key: _frozen(item) for key, item in data.items()}
        value = known_fn(frozen, cls)
        extra = {key: item for key, item in frozen.items() if key not in known}
        return attrs.evolve(value, **{_EXTRA: extra}) if extra else value

    return structure


def _frozen(value: Any) -> Any:
    # JSON arrays become tuples, so a rule read back equals the same rule built with tuples.
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, Mapping):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _thawed(value: Any) -> Any:
    # The inverse of _frozen, so that a body holds JSON's own types.
    if isinstance(value, tuple | list):
        return [_thawed(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    return value


def contact_to_json(contact: models.ContactInput, version: ApiVersion) -> dict[str, Any]:
    """The request body for one contact, as the given API version expects it."""
    body: dict[str, Any] = converter(version).unstructure(contact)
    contact_welcome = _CONTACT_WELCOME.get(version)
    if contact_welcome is not None:
        flag = json_name(models.Identifier, "send_welcome_message", version)
        identifiers = body.get(json_name(models.ContactInput, "identifiers", version), ())
        welcome = [i.pop(flag) for i in identifiers if flag in i]
        if welcome:
            body[contact_welcome] = any(welcome)
    return body


def segment_to_json(
    name: str, condition_groups: Sequence[models.ConditionGroup], version: ApiVersion
) -> dict[str, Any]:
    """The body of ``POST /segments`` and ``PUT /segments/{id}``: the name and the whole rule."""
    groups = converter(version).unstructure(
        tuple(condition_groups), tuple[models.ConditionGroup, ...]
    )
    return {
        json_name(models.Segment, "name", version): name,
        json_name(models.Segment, "condition_groups", version): list(groups),
    }


@attrs.frozen
class _Cursors:
    after: str | None = None
    before: str | None = None


@attrs.frozen
class _Paging:
    cursors: _Cursors = _Cursors()
    has_more: bool = False


@attrs.frozen
class _SegmentListing:
    """The envelope of ``GET /segments``: ``{segments, paging: {cursors, hasMore, limit}}``."""

    segments: tuple[models.Segment, ...] = ()
    paging: _Paging = _Paging()


def segment_page_from_json(data: Mapping[str, Any], version: ApiVersion) -> models.SegmentPage:
    """One page of ``GET /segments``."""
    listing = from_json(_SegmentListing, data, version)
    cursors = listing.paging.cursors
    return models.SegmentPage(
        segments=listing.segments,
        after=cursors.after or None,  # an empty cursor leads nowhere
        before=cursors.before or None,
        has_more=listing.paging.has_more,
    )


def from_json(cls: type[T], data: Mapping[str, Any], version: ApiVersion) -> T:
    """Structure a response object; unknown fields and ``null`` values are ignored."""
    return converter(version).structure(_without_nulls(data), cls)


def _without_nulls(value: Any) -> Any:
    # Omnisend may send null for a field it has no value for; dropping it lets the model's
    # default stand instead of failing to structure None into, say, a tuple.
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


#: How a contact identified by an email is reached: (send_welcome_message, the email channel's
#: state, consent, a phone number in E.164).
ContactIdentity: TypeAlias = tuple[
    bool, models.ChannelState | None, models.Consent | None, str | None
]
#: Writes the body of a contact from ``(email, fields, identity)``, where ``fields`` holds the
#: body's other fields as JSON already (keys from :data:`CONTACT_FIELDS`).
ContactEncoder: TypeAlias = Callable[[str, Mapping[str, Any], ContactIdentity], dict[str, Any]]


class _Encoders(dict[ApiVersion, ContactEncoder]):
    """Each API version's fast contact encoder, built on first use."""

    def __missing__(self, version: ApiVersion) -> ContactEncoder:
        encoder = self[version] = _build_encoder(version)
        return encoder


#: The fast contact encoder of each API version: ``CONTACT_ENCODERS[version](email, fields,
#: identity)`` gives what :func:`contact_to_json` gives for the same contact, key order included,
#: so the encoded bytes are equal too. The body is new; ``fields`` and the values in it are
#: shared with the caller. A dict, because it is looked up once a row: a function cached with
#: ``functools.cache`` measured about 100 ns more a row (some 2% of mapping and encoding one).
CONTACT_ENCODERS: Final[Mapping[ApiVersion, ContactEncoder]] = _Encoders()


def _build_encoder(version: ApiVersion) -> ContactEncoder:
    identifiers_key = json_name(models.ContactInput, "identifiers", version)
    type_key, id_key, channels_key, consent_key, welcome_key = (
        json_name(models.Identifier, field, version)
        for field in ("type", "id", "channels", "consent", "send_welcome_message")
    )
    status_key, changed_key = (
        json_name(models.ChannelState, field, version) for field in ("status", "status_changed_at")
    )
    source_key, created_key, ip_key, agent_key = (
        json_name(models.Consent, field, version)
        for field in ("source", "created_at", "ip", "user_agent")
    )
    contact_welcome = _CONTACT_WELCOME.get(version)

    def channel_json(channel: models.ChannelState) -> dict[str, Any]:
        body: dict[str, Any] = {status_key: channel.status}
        if channel.status_changed_at is not None:
            body[changed_key] = format_datetime(channel.status_changed_at)
        return body

    def consent_json(consent: models.Consent) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if consent.source is not None:
            body[source_key] = consent.source
        if consent.created_at is not None:
            body[created_key] = format_datetime(consent.created_at)
        if consent.ip is not None:
            body[ip_key] = consent.ip
        if consent.user_agent is not None:
            body[agent_key] = consent.user_agent
        return body

    def encode(email: str, fields: Mapping[str, Any], identity: ContactIdentity) -> dict[str, Any]:
        welcome, channel, consent, phone = identity
        identifier: dict[str, Any] = {type_key: "email", id_key: email}
        if channel is not None:
            identifier[channels_key] = {"email": channel_json(channel)}
        if consent is not None:
            identifier[consent_key] = consent_json(consent)
        if contact_welcome is None:
            identifier[welcome_key] = welcome
        identifiers = [identifier]
        if phone is not None:
            second: dict[str, Any] = {type_key: "phone", id_key: phone}
            if contact_welcome is None:
                second[welcome_key] = welcome
            identifiers.append(second)
        body: dict[str, Any] = {identifiers_key: identifiers}
        body.update(fields)
        if contact_welcome is not None:
            body[contact_welcome] = welcome
        return body

    return encode


def contact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """:class:`~omnisend_sdk.ContactInput` keyword arguments from a contact's body fields.

    The inverse of the fields' JSON: names back to Python's, the birthdate back to a date, lists
    back to tuples.
    """
    values: dict[str, Any] = {}
    for key, value in fields.items():
        field = _CONTACT_FIELD_NAMES[key]
        if field == "birthdate":
            values[field] = parse_date(value)
        elif field == "tags":
            values[field] = tuple(value)
        elif field == "custom_properties":
            values[field] = {
                name: tuple(item) if isinstance(item, list) else item
                for name, item in value.items()
            }
        else:
            values[field] = value
    return values
