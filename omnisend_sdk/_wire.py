"""The JSON spellings of the models: one cattrs converter per API version, built in one place.

Python names become camelCase, ``None`` and empty defaults are left out of what is sent, unknown
response fields are ignored, and the few names that differ between API versions are renamed here
and nowhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from omnisend_sdk._constants import ApiVersion
from omnisend_sdk._models import (
    Batch,
    BatchItem,
    ChannelState,
    Contact,
    ContactInput,
    ContactStatus,
)

T = TypeVar("T")

#: Names that camelCase does not produce (Omnisend spells these ids in capitals).
_COMMON_RENAMES: dict[tuple[type, str], str] = {
    (Batch, "batch_id"): "batchID",
    (BatchItem, "item_id"): "itemID",
}

#: Names that v3 spells differently from 2026-03-15.
_V3_RENAMES: dict[tuple[type, str], str] = {
    (Contact, "id"): "contactID",
    (ChannelState, "status_changed_at"): "statusDate",
    (ContactStatus, "status_changed_at"): "statusDate",
}


def camel_case(name: str) -> str:
    """``status_changed_at`` -> ``statusChangedAt``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def format_datetime(value: datetime) -> str:
    """RFC 3339 with an explicit offset; a naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_datetime(value: object, _: object = None) -> datetime:
    """Parse Omnisend's RFC 3339 timestamps (``Z`` or an offset)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 timestamp, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def _parse_date(value: object, _: object = None) -> date:
    if not isinstance(value, str):
        raise TypeError(f"expected a YYYY-MM-DD date, got {type(value).__name__}")
    return date.fromisoformat(value)


@functools.cache
def converter(version: ApiVersion) -> cattrs.Converter:
    """The converter for one API version (built once, then shared)."""
    renames = dict(_COMMON_RENAMES)
    if version == "v3":
        renames.update(_V3_RENAMES)

    def json_name(cls: type, field: str) -> str:
        return renames.get((cls, field), camel_case(field))

    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_unstructure_hook(datetime, format_datetime)
    conv.register_structure_hook(datetime, parse_datetime)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(date, _parse_date)

    # Typed as Any: mypy cannot tell these **overrides from the generators' keyword flags.
    def renamed(cls: type) -> dict[str, Any]:
        return {f.name: override(rename=json_name(cls, f.name)) for f in attrs.fields(cls)}

    def unstructure_factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renamed(cls))

    def structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        return make_dict_structure_fn(cls, conv, **renamed(cls))

    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    return conv


def contact_to_json(contact: ContactInput, version: ApiVersion) -> dict[str, Any]:
    """The request body for one contact, as the given API version expects it.

    v3 has no per-identifier welcome flag: it reads a top-level ``sendWelcomeEmail`` instead.
    """
    body: dict[str, Any] = converter(version).unstructure(contact)
    if version == "v3":
        identifiers = body.get("identifiers", ())
        welcome = [i.pop("sendWelcomeMessage") for i in identifiers if "sendWelcomeMessage" in i]
        if welcome:
            body["sendWelcomeEmail"] = any(welcome)
    return body


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
