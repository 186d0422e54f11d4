"""Request validation, written from the API document and nothing else.

These rules deliberately share no code with the client's own validation: an emulator that reused
the client's rules would agree with the client's mistakes instead of catching them. Every function
here is pure: it takes decoded JSON (or query parameters) and returns field errors or parsed values.

Where Omnisend's limits are unconfirmed, the emulator chooses the strict reading (unknown fields,
nulls and naive timestamps are rejected) because the SDK promises to be strict in what it sends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from ._problems import ApiProblem, InvalidField, validation_problem
from ._times import parse_date, parse_rfc3339

# Limits from the API document.
MAX_TAGS_PER_CONTACT = 100
MAX_TAGS_PER_REQUEST = 100
MAX_SELECTOR_ITEMS = 250
MAX_CUSTOM_PROPERTIES = 200
MAX_PROPERTY_NAME_LENGTH = 128
MAX_BATCH_ITEMS = 100
MAX_LIST_LIMIT = 250
DEFAULT_LIST_LIMIT = 100
MAX_SEGMENT_LIST_LIMIT = 50
DEFAULT_SEGMENT_LIST_LIMIT = 10
MAX_SEGMENT_NAME_LENGTH = 256
# Omnisend's own plugin caps tag text at 128 characters; the API's cap is unconfirmed.
MAX_TAG_LENGTH = 128
# RFC 5321 caps a forward path at 256 octets including the angle brackets.
MAX_EMAIL_LENGTH = 254

STATUSES = ("subscribed", "nonSubscribed", "unsubscribed")
IDENTIFIER_TYPES = ("email", "phone")
# The channel each identifier type carries: an email has the email channel, a phone the sms one.
CHANNEL_OF = {"email": "email", "phone": "sms"}

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
)
# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_PROPERTY_NAME = re.compile(rf"^[A-Za-z0-9_]{{1,{MAX_PROPERTY_NAME_LENGTH}}}$")

_PROFILE_STRINGS = ("firstName", "lastName", "address", "city", "state", "postalCode", "country")
_CONTACT_FIELDS = frozenset(
    {
        *_PROFILE_STRINGS,
        "identifiers",
        "countryCode",
        "gender",
        "birthdate",
        "tags",
        "customProperties",
        "createdAt",
    },
)
_IDENTIFIER_FIELDS = frozenset(
    {"type", "id", "channels", "consent", "sendWelcomeMessage", "source"}
)
_CHANNEL_FIELDS = frozenset({"status", "statusChangedAt"})
_CONSENT_FIELDS = frozenset({"source", "createdAt", "ip", "userAgent"})
_SELECTORS = ("contactIDs", "emails", "phones", "segmentID")
_TAGS_FIELDS = frozenset({"tags", *_SELECTORS})
_BATCH_FIELDS = frozenset({"method", "endpoint", "items", "origin"})
# What a batch may carry, in its body and in the listing's filter; the emulator runs contacts only.
BATCH_ENDPOINTS = ("products", "contacts", "events", "categories")
_SEGMENT_FIELDS = frozenset({"name", "conditionGroups"})
_GROUP_FIELDS = frozenset({"conditions"})
_CONDITION_FIELDS = frozenset({"entity", "junction", "filters"})
_FILTER_FIELDS = frozenset({"operator", "property", "value"})
SEGMENT_ENTITIES = ("contact", "event")
JUNCTIONS = ("and", "or")
# The only segment rules the emulator evaluates: a contact's tags, with these operators. Other
# rules are valid on Omnisend but answered with a "not emulated" 400, never silently misjudged.
TAG_PROPERTY = "tags"
TAG_OPERATORS = ("anyOf", "noneOf")


def is_email(text: str) -> bool:
    """Whether ``text`` is a syntactically valid email address (no surrounding spaces)."""
    return len(text) <= MAX_EMAIL_LENGTH and _EMAIL.match(text) is not None


def is_e164(text: str) -> bool:
    """Whether ``text`` is a phone number in E.164 form."""
    return _E164.match(text) is not None


class _Errors:
    """Collects field errors with dot-separated paths, as Omnisend's ``errors[].field`` has them."""

    def __init__(self) -> None:
        self.items: list[InvalidField] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.items.append(InvalidField(path, code, message))

    def mapping(self, value: object, path: str, allowed: frozenset[str]) -> dict[str, Any] | None:
        """Check that ``value`` is an object with only ``allowed`` members; return it or None."""
        if not isinstance(value, dict):
            self.add(path or "body", "invalid_type", "must be an object")
            return None
        if not allowed.issuperset(value):  # cheaper than the difference, which is mostly empty
            for name in sorted(value.keys() - allowed):
                self.add(_join(path, name), "unknown_field", f"unknown field {name!r}")
        return value

    def objects(
        self,
        parent: dict[str, Any],
        parent_path: str,
        name: str,
        allowed: frozenset[str],
    ) -> list[tuple[str, dict[str, Any]]]:
        """Check that ``parent[name]`` is a non-empty array of objects with only ``allowed``
        members; return the valid objects with their paths (none when it is missing: the caller
        reports it as required)."""
        if name not in parent:
            return []
        value, path = parent[name], _join(parent_path, name)
        if not isinstance(value, list):
            self.add(path, "invalid_type", "must be an array")
            return []
        if not value:
            self.add(path, "too_few", "must have at least 1 item(s)")
        members = []
        for index, item in enumerate(value):
            member = self.mapping(item, _join(path, index), allowed)
            if member is not None:
                members.append((_join(path, index), member))
        return members

    def required(self, value: dict[str, Any], path: str, names: Sequence[str]) -> None:
        for name in names:
            if name not in value:
                self.add(_join(path, name), "required", f"{name} is required")

    def string(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.add(path, "invalid_type", "must be a string")
            return None
        return value

    def strings(self, body: dict[str, Any], names: Sequence[str]) -> None:
        """Check that each of the top-level members ``names`` present in ``body`` is a string.

        One call for them all: a contact in a batch has most of its profile fields, and a call
        per field was a good part of validating it.
        """
        for name in names:
            if name in body and not isinstance(body[name], str):
                self.string(body[name], name)

    def enum(self, value: object, path: str, allowed: Sequence[str]) -> str | None:
        text = self.string(value, path)
        if text is not None and text not in allowed:
            self.add(path, "invalid_value", f"must be one of: {', '.join(allowed)}")
            return None
        return text

    def timestamp(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and parse_rfc3339(text) is None:
            self.add(path, "invalid_format", "must be an RFC 3339 timestamp with a time zone")

    def string_list(
        self,
        value: object,
        path: str,
        *,
        min_items: int = 0,
        max_items: int,
    ) -> list[str] | None:
        if not isinstance(value, list):
            self.add(path, "invalid_type", "must be an array")
            return None
        if len(value) < min_items:
            self.add(path, "too_few", f"must have at least {min_items} item(s)")
        if len(value) > max_items:
            self.add(path, "too_many", f"must have at most {max_items} items")
        strings: list[str] = []
        for index, item in enumerate(value):
            text = self.string(item, _join(path, index))
            if text is not None:
                strings.append(text)
        return strings

    def tags(self, value: object, path: str, *, min_items: int, max_items: int) -> None:
        for index, tag in enumerate(
            self.string_list(value, path, min_items=min_items, max_items=max_items) or (),
        ):
            if not tag.strip() or len(tag) > MAX_TAG_LENGTH:
                self.add(
                    _join(path, index),
                    "invalid_value",
                    f"must be 1 to {MAX_TAG_LENGTH} characters and not blank",
                )

    def email(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and not is_email(text):
            self.add(path, "invalid_format", "must be a valid email address")

    def phone(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and not is_e164(text):
            self.add(path, "invalid_format", "must be an E.164 phone number, e.g. +1234567890")


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def validate_contact(body: object, *, creating: bool) -> list[InvalidField]:
    """Check a ``ContactRequest`` body.

    Args:
        body: the decoded JSON body.
        creating: True for ``POST /contacts`` (and batch items), where an email or phone identifier
            is required; False for ``PATCH``, where every field is optional.

    Returns:
        The field errors, empty when the body is valid.
    """
    errors = _Errors()
    contact = errors.mapping(body, "", _CONTACT_FIELDS)
    if contact is None:
        return errors.items
    errors.strings(contact, _PROFILE_STRINGS)
    if "countryCode" in contact:
        code = errors.string(contact["countryCode"], "countryCode")
        if code is not None and not _COUNTRY_CODE.match(code):
            errors.add("countryCode", "invalid_format", "must be an ISO 3166-1 alpha-2 code")
    if "gender" in contact:
        errors.enum(contact["gender"], "gender", ("m", "f"))
    if "birthdate" in contact:
        text = errors.string(contact["birthdate"], "birthdate")
        if text is not None and parse_date(text) is None:
            errors.add("birthdate", "invalid_format", "must be a date in YYYY-MM-DD format")
    if "createdAt" in contact:
        errors.timestamp(contact["createdAt"], "createdAt")
    if "tags" in contact:
        errors.tags(contact["tags"], "tags", min_items=0, max_items=MAX_TAGS_PER_CONTACT)
    if "customProperties" in contact:
        _check_custom_properties(errors, contact["customProperties"])
    identifiers = contact.get("identifiers")
    if "identifiers" in contact:
        _check_identifiers(errors, identifiers)
    if creating and not identifiers:
        errors.add("identifiers", "required", "an email or phone identifier is required")
    return errors.items


def _check_identifiers(errors: _Errors, value: object) -> None:
    if not isinstance(value, list):
        errors.add("identifiers", "invalid_type", "must be an array")
        return
    for index, item in enumerate(value):
        path = f"identifiers.{index}"
        identifier = errors.mapping(item, path, _IDENTIFIER_FIELDS)
        if identifier is None:
            continue
        kind = None
        if "type" not in identifier:
            errors.add(f"{path}.type", "required", "type is required")
        else:
            kind = errors.enum(identifier["type"], f"{path}.type", IDENTIFIER_TYPES)
        if "id" not in identifier:
            errors.add(f"{path}.id", "required", "id is required")
        elif kind == "email":
            errors.email(identifier["id"], f"{path}.id")
        elif kind == "phone":
            errors.phone(identifier["id"], f"{path}.id")
        else:
            errors.string(identifier["id"], f"{path}.id")
        if "channels" in identifier:
            _check_channels(errors, identifier["channels"], f"{path}.channels", kind)
        if "consent" in identifier:
            consent = errors.mapping(identifier["consent"], f"{path}.consent", _CONSENT_FIELDS)
            for name, member in (consent or {}).items():
                if name == "createdAt":
                    errors.timestamp(member, f"{path}.consent.createdAt")
                elif name in _CONSENT_FIELDS:
                    errors.string(member, f"{path}.consent.{name}")
        if "sendWelcomeMessage" in identifier and not isinstance(
            identifier["sendWelcomeMessage"],
            bool,
        ):
            errors.add(f"{path}.sendWelcomeMessage", "invalid_type", "must be a boolean")
        if "source" in identifier:
            errors.string(identifier["source"], f"{path}.source")


def _check_channels(errors: _Errors, value: object, path: str, kind: str | None) -> None:
    channels = errors.mapping(value, path, frozenset(CHANNEL_OF.values()))
    for name, member in (channels or {}).items():
        if name not in CHANNEL_OF.values():
            continue  # already reported as an unknown field
        channel_path = _join(path, name)
        if kind is not None and CHANNEL_OF[kind] != name:
            errors.add(
                channel_path,
                "invalid_value",
                f"a {kind} identifier carries only the {CHANNEL_OF[kind]} channel",
            )
        channel = errors.mapping(member, channel_path, _CHANNEL_FIELDS)
        if channel is None:
            continue
        if "status" not in channel:
            errors.add(_join(channel_path, "status"), "required", "status is required")
        else:
            errors.enum(channel["status"], _join(channel_path, "status"), STATUSES)
        if "statusChangedAt" in channel:
            errors.timestamp(channel["statusChangedAt"], _join(channel_path, "statusChangedAt"))


def _check_custom_properties(errors: _Errors, value: object) -> None:
    if not isinstance(value, dict):
        errors.add("customProperties", "invalid_type", "must be an object")
        return
    if len(value) > MAX_CUSTOM_PROPERTIES:
        errors.add(
            "customProperties",
            "too_many",
            f"must have at most {MAX_CUSTOM_PROPERTIES} properties",
        )
    for name, member in value.items():
        path = _join("customProperties", name)
        if not _PROPERTY_NAME.match(name):
            errors.add(
                path,
                "invalid_format",
                f"names are letters, digits and _, 1 to {MAX_PROPERTY_NAME_LENGTH} characters",
            )
        if not is_property_value(member):
            errors.add(path, "invalid_type", "must be a string, number, boolean or string array")


def is_property_value(value: object) -> bool:
    """Whether ``value`` is an allowed custom property value (no nulls, no nesting)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str | int | bool):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def validate_tags_request(body: object) -> list[InvalidField]:
    """Check an ``AddTagsRequest``/``RemoveTagsRequest`` body."""
    errors = _Errors()
    request = errors.mapping(body, "", _TAGS_FIELDS)
    if request is None:
        return errors.items
    if "tags" not in request:
        errors.add("tags", "required", "tags is required")
    else:
        errors.tags(request["tags"], "tags", min_items=1, max_items=MAX_TAGS_PER_REQUEST)
    for name, check in (("emails", errors.email), ("phones", errors.phone), ("contactIDs", None)):
        if name not in request:
            continue
        for index, item in enumerate(
            errors.string_list(request[name], name, max_items=MAX_SELECTOR_ITEMS) or (),
        ):
            if check is not None:
                check(item, _join(name, index))
    if "segmentID" in request:
        errors.string(request["segmentID"], "segmentID")
    if not any(request.get(name) for name in _SELECTORS):
        errors.add(
            "contactIDs",
            "required",
            "at least one of contactIDs, emails, phones or segmentID is required",
        )
    return errors.items


def validate_batch_request(body: object) -> list[InvalidField]:
    """Check a ``CreateBatchRequest`` body; the items themselves are checked when processed."""
    errors = _Errors()
    request = errors.mapping(body, "", _BATCH_FIELDS)
    if request is None:
        return errors.items
    errors.required(request, "", ("method", "endpoint", "items"))
    if "method" in request:
        method = errors.enum(request["method"], "method", ("POST", "PUT"))
        if method == "PUT":
            errors.add("method", "unsupported", "the emulator supports POST batches only")
    if "endpoint" in request:
        endpoint = errors.enum(request["endpoint"], "endpoint", BATCH_ENDPOINTS)
        if endpoint not in (None, "contacts"):
            errors.add("endpoint", "unsupported", "the emulator emulates contacts only")
    if "items" in request:
        items = request["items"]
        if not isinstance(items, list):
            errors.add("items", "invalid_type", "must be an array")
        elif not 1 <= len(items) <= MAX_BATCH_ITEMS:
            errors.add("items", "too_many" if items else "too_few", "must have 1 to 100 items")
    if "origin" in request:
        errors.string(request["origin"], "origin")
    return errors.items


@attrs.frozen
class TagFilter:
    """A segment filter on a contact's tags: ``anyOf`` or ``noneOf`` the listed tags."""

    operator: Literal["anyOf", "noneOf"]
    tags: tuple[str, ...]


@attrs.frozen
class TagCondition:
    """A contact condition whose filters are combined by ``junction``."""

    junction: Literal["and", "or"]
    filters: tuple[TagFilter, ...]


@attrs.frozen
class SegmentDefinition:
    """The parsed body of ``POST /segments`` and ``PUT /segments/{id}``.

    Attributes:
        name: the segment's name.
        condition_groups: groups of conditions; the groups are OR-ed, a group's conditions AND-ed.
    """

    name: str
    condition_groups: tuple[tuple[TagCondition, ...], ...]


def parse_segment_request(body: object) -> SegmentDefinition:
    """Check a segment body and parse its rules.

    Raises:
        ApiProblem: 400 ``validation-failed`` when the body is malformed; 400 ``not-emulated``
            when it is valid but has a rule other than a contact tag rule (``entity`` contact,
            ``property`` tags, ``operator`` anyOf or noneOf), naming each such field.
    """
    errors, unemulated = _Errors(), _Errors()
    request = errors.mapping(body, "", _SEGMENT_FIELDS)
    if request is None:
        raise validation_problem(errors.items)
    errors.required(request, "", ("name", "conditionGroups"))
    name = errors.string(request["name"], "name") if "name" in request else None
    if name is not None and not (name.strip() and len(name) <= MAX_SEGMENT_NAME_LENGTH):
        errors.add(
            "name",
            "invalid_value",
            f"must be 1 to {MAX_SEGMENT_NAME_LENGTH} characters and not blank",
        )
    groups: list[tuple[TagCondition, ...]] = []
    for group_path, group in errors.objects(request, "", "conditionGroups", _GROUP_FIELDS):
        errors.required(group, group_path, ("conditions",))
        conditions = [
            _parse_condition(errors, unemulated, path, condition)
            for path, condition in errors.objects(
                group, group_path, "conditions", _CONDITION_FIELDS
            )
        ]
        groups.append(tuple(c for c in conditions if c is not None))
    if errors.items:
        raise validation_problem(errors.items)
    if unemulated.items:
        fields = ", ".join(error.field for error in unemulated.items)
        raise ApiProblem(
            400,
            "not-emulated",
            f"not emulated: {fields}; the emulator evaluates only contact rules on "
            f"{TAG_PROPERTY!r} with {' or '.join(TAG_OPERATORS)}",
            errors=tuple(unemulated.items),
        )
    assert name is not None  # no errors: the name is a valid string
    return SegmentDefinition(name, tuple(groups))


def _parse_condition(
    errors: _Errors,
    unemulated: _Errors,
    path: str,
    condition: dict[str, Any],
) -> TagCondition | None:
    """One condition: malformed parts go to ``errors``, valid rules the emulator cannot evaluate
    to ``unemulated``. Returns the condition when it is a valid, emulated tag rule."""
    errors.required(condition, path, ("entity", "junction", "filters"))
    entity = junction = None
    if "entity" in condition:
        entity = errors.enum(condition["entity"], _join(path, "entity"), SEGMENT_ENTITIES)
    if entity == "event":
        unemulated.add(_join(path, "entity"), "unsupported", "event rules are not emulated")
    if "junction" in condition:
        junction = errors.enum(condition["junction"], _join(path, "junction"), JUNCTIONS)
    filters = []
    for filter_path, item in errors.objects(condition, path, "filters", _FILTER_FIELDS):
        errors.required(item, filter_path, ("operator", "property", "value"))
        operator = prop = None
        if "operator" in item:
            operator = errors.string(item["operator"], _join(filter_path, "operator"))
        if "property" in item:
            prop = errors.string(item["property"], _join(filter_path, "property"))
        if prop not in (None, TAG_PROPERTY):
            unemulated.add(
                _join(filter_path, "property"),
                "unsupported",
                f"property {prop!r} is not emulated; only {TAG_PROPERTY!r} is",
            )
        if operator is not None and operator not in TAG_OPERATORS:
            unemulated.add(
                _join(filter_path, "operator"),
                "unsupported",
                f"operator {operator!r} is not emulated; only {', '.join(TAG_OPERATORS)} are",
            )
        elif prop == TAG_PROPERTY and "value" in item:
            # The API does not say how many tags a rule may list; the tags API's 100 is the strict
            # reading.
            value = item["value"]
            errors.tags(
                value,
                _join(filter_path, "value"),
                min_items=1,
                max_items=MAX_TAGS_PER_REQUEST,
            )
            if operator is not None and isinstance(value, list):
                filters.append(
                    TagFilter("anyOf" if operator == "anyOf" else "noneOf", tuple(value)),
                )
    if entity != "contact" or junction is None:
        return None
    return TagCondition("and" if junction == "and" else "or", tuple(filters))


Direction = Literal["asc", "desc"]


@attrs.frozen(kw_only=True)
class PageQuery:
    """What a cursor-paged listing's query asks for: the sort, its direction, and the page."""

    limit: int
    sort: str
    direction: Direction = "desc"
    after: str | None = None
    before: str | None = None


@attrs.frozen(kw_only=True)
class ContactQuery(PageQuery):
    """The parsed query of ``GET /contacts``."""

    limit: int = DEFAULT_LIST_LIMIT
    sort: Literal["createdAt", "updatedAt"] = "createdAt"
    email: str | None = None
    phone: str | None = None
    status: str | None = None
    segment_id: str | None = None
    tag: str | None = None
    updated_at_from: float | None = None


_CONTACT_FILTERS = ("email", "phone", "status", "segmentID", "tag")


def parse_contact_query(params: Mapping[str, str]) -> ContactQuery:
    """Parse and check the query of ``GET /contacts``.

    Raises:
        ApiProblem: 400 for unknown parameters, bad values or forbidden filter combinations.
    """
    errors = _Errors()
    allowed = {"limit", "after", "before", "sort", "direction", "updatedAtFrom", *_CONTACT_FILTERS}
    _unknown_params(errors, params, allowed)
    page = _cursor_page(errors, params, ("createdAt", "updatedAt"))
    status = params.get("status")
    if status is not None:
        errors.enum(status, "status", STATUSES)
    if "tag" in params and "status" in params:
        errors.add("tag", "conflict", "tag and status cannot be combined")
    updated_from = None
    if "updatedAtFrom" in params:
        updated_from = parse_rfc3339(params["updatedAtFrom"])
        if updated_from is None:
            errors.add("updatedAtFrom", "invalid_format", "must be an RFC 3339 timestamp")
        if any(name in params for name in _CONTACT_FILTERS):
            errors.add(
                "updatedAtFrom",
                "conflict",
                "updatedAtFrom cannot be combined with email, phone, status, segmentID or tag",
            )
    if errors.items:
        raise validation_problem(errors.items, "Invalid query parameters")
    return ContactQuery(
        **page,
        email=params.get("email"),
        phone=params.get("phone"),
        status=status,
        segment_id=params.get("segmentID"),
        tag=params.get("tag"),
        updated_at_from=updated_from,
    )


@attrs.frozen(kw_only=True)
class SegmentQuery(PageQuery):
    """The parsed query of ``GET /segments``."""

    limit: int = DEFAULT_SEGMENT_LIST_LIMIT
    sort: Literal["createdAt", "name"] = "createdAt"


def parse_segment_query(params: Mapping[str, str]) -> SegmentQuery:
    """Parse and check the query of ``GET /segments``.

    The API document does not give the default order; the emulator takes ``GET /contacts``'s,
    newest first.

    Raises:
        ApiProblem: 400 for unknown parameters or bad values.
    """
    errors = _Errors()
    _unknown_params(errors, params, {"limit", "after", "before", "sort", "direction"})
    page = _cursor_page(
        errors,
        params,
        ("createdAt", "name"),
        default=DEFAULT_SEGMENT_LIST_LIMIT,
        maximum=MAX_SEGMENT_LIST_LIMIT,
    )
    if errors.items:
        raise validation_problem(errors.items, "Invalid query parameters")
    return SegmentQuery(**page)


def _cursor_page(
    errors: _Errors,
    params: Mapping[str, str],
    sorts: tuple[str, ...],
    *,
    default: int = DEFAULT_LIST_LIMIT,
    maximum: int = MAX_LIST_LIMIT,
) -> dict[str, Any]:
    """The :class:`PageQuery` fields of a listing paged by cursors, checked: the ``limit``, the
    ``sort`` (default: the first of ``sorts``), the ``direction`` (default ``desc``) and the
    cursors, where ``after`` and ``before`` exclude each other."""
    limit = _limit_param(errors, params, default=default, maximum=maximum)
    sort = errors.enum(params.get("sort", sorts[0]), "sort", sorts)
    direction = errors.enum(params.get("direction", "desc"), "direction", ("asc", "desc"))
    if "after" in params and "before" in params:
        errors.add("before", "conflict", "after and before cannot be combined")
    return {
        "limit": limit,
        "sort": sort or sorts[0],  # a bad value is an error already: the query is not built
        "direction": direction or "desc",
        "after": params.get("after"),
        "before": params.get("before"),
    }


@attrs.frozen
class BatchQuery:
    """The parsed query of ``GET /batches``."""

    endpoint: str
    status: str | None
    date_from: float | None
    date_to: float | None
    offset: int
    limit: int


BATCH_STATUSES = ("pending", "inProgress", "finished", "stopped")
_DAY = 86400.0


def parse_batch_query(params: Mapping[str, str]) -> BatchQuery:
    """Parse and check the query of ``GET /batches``.

    ``dateFrom``/``dateTo`` are calendar dates (``yyyy-mm-dd``) in UTC; ``dateTo`` includes its
    whole day. ``endpoint`` is required.

    Raises:
        ApiProblem: 400 for unknown parameters or bad values.
    """
    errors = _Errors()
    _unknown_params(
        errors,
        params,
        {"endpoint", "status", "dateFrom", "dateTo", "offset", "limit"},
    )
    endpoint = None
    if "endpoint" not in params:
        errors.add("endpoint", "required", "endpoint is required")
    else:
        endpoint = errors.enum(params["endpoint"], "endpoint", BATCH_ENDPOINTS)
    status = params.get("status")
    if status is not None:
        errors.enum(status, "status", BATCH_STATUSES)
    bounds: dict[str, float | None] = {}
    for name in ("dateFrom", "dateTo"):
        bounds[name] = None
        if name in params:
            day = parse_date(params[name])
            if day is None:
                errors.add(name, "invalid_format", "must be a date in yyyy-mm-dd format")
            else:
                start = parse_rfc3339(f"{day.isoformat()}T00:00:00Z")
                assert start is not None  # a valid date always makes a valid timestamp
                bounds[name] = start + (_DAY if name == "dateTo" else 0.0)
    offset = _int_param(errors, params=params, name="offset", default=0, minimum=0, maximum=None)
    limit = _limit_param(errors, params)
    if errors.items:
        raise validation_problem(errors.items, "Invalid query parameters")
    assert endpoint is not None
    return BatchQuery(endpoint, status, bounds["dateFrom"], bounds["dateTo"], offset, limit)


def require_no_params(params: Mapping[str, str]) -> None:
    """Check that a request without query parameters has none.

    Raises:
        ApiProblem: 400 naming every unexpected parameter.
    """
    errors = _Errors()
    _unknown_params(errors, params, set())
    if errors.items:
        raise validation_problem(errors.items, "Invalid query parameters")


def parse_email_param(params: Mapping[str, str]) -> str:
    """The ``email`` parameter of ``PATCH /contacts``, the only one it takes.

    Raises:
        ApiProblem: 400 when it is missing or other parameters are present.
    """
    errors = _Errors()
    _unknown_params(errors, params, {"email"})
    if "email" not in params:
        errors.add("email", "required", "PATCH /contacts needs the email parameter")
    if errors.items:
        raise validation_problem(errors.items, "Invalid query parameters")
    return params["email"]


def _unknown_params(errors: _Errors, params: Mapping[str, str], allowed: set[str]) -> None:
    # Rejecting unknown parameters catches misspelt paging parameters, which would otherwise loop on
    # the first page forever.
    for name in sorted(set(params) - allowed):
        errors.add(name, "unknown_parameter", f"unknown query parameter {name!r}")


def _limit_param(
    errors: _Errors,
    params: Mapping[str, str],
    *,
    default: int = DEFAULT_LIST_LIMIT,
    maximum: int = MAX_LIST_LIMIT,
) -> int:
    """The ``limit`` of a listing: contacts and batches share one range, segments have their own."""
    return _int_param(
        errors,
        params=params,
        name="limit",
        default=default,
        minimum=1,
        maximum=maximum,
    )


def _int_param(
    errors: _Errors,
    *,
    params: Mapping[str, str],
    name: str,
    default: int,
    minimum: int,
    maximum: int | None,
) -> int:
    if name not in params:
        return default
    text = params[name]
    if not re.fullmatch(r"-?\d+", text):
        errors.add(name, "invalid_type", "must be an integer")
        return default
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" to {maximum}" if maximum is not None else " or more"
        errors.add(name, "out_of_range", f"must be {minimum}{upper}")
        return default
    return value


def require_valid(errors: list[InvalidField]) -> None:
    """Raise the 400 validation problem when ``errors`` is not empty."""
    if errors:
        raise validation_problem(errors)
