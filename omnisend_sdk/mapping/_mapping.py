"""ContactMapping: where each Omnisend contact field comes from, and how rows are treated.

A value: its fields, their checks, and its plain-data and file forms. Binding it to a source's
columns and mapping rows are :class:`~omnisend_sdk.mapping.RowMapper`'s job, streaming a source
:func:`~omnisend_sdk.mapping.map_rows`'; the documented conveniences here only hand over to them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from omnisend_sdk._constants import (
    DEFAULT_ADDRESS_SEPARATOR,
    DEFAULT_DUPLICATE_POLICY,
    DEFAULT_LONG_TEXT_POLICY,
    MAX_TAG_LENGTH,
    MAX_TAGS,
)
from omnisend_sdk._documents import read_document, write_document
from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping._columns import resolve_columns
from omnisend_sdk.mapping._custom import check_property_names
from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._phone import phone_country_supported
from omnisend_sdk.mapping._preview import preview
from omnisend_sdk.mapping._row import RowSource
from omnisend_sdk.mapping._spec import DUPLICATE_POLICIES, DuplicatePolicy
from omnisend_sdk.mapping._stream import map_rows
from omnisend_sdk.mapping._targets import (
    SOURCE_FIELDS,
    AddressSource,
    Constant,
    FieldSource,
    describe,
    is_field_source,
)
from omnisend_sdk.mapping._text import LONG_TEXT_POLICIES, LongTextPolicy, clean_text


def _check_source(instance: ContactMapping, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name != "email":
        return
    if attribute.name == "address" and isinstance(value, tuple):
        if value and all(isinstance(part, str) and part for part in value):
            return
        raise MappingError("address: a tuple of address columns must name at least one column")
    if value is None or not is_field_source(value) or value == "":
        raise MappingError(
            f"{attribute.name}: expected a column name, a Constant or a function of the row,"
            f" got {value!r}"
        )


def _check_tags(instance: ContactMapping, attribute: attrs.Attribute[Any], value: object) -> None:
    tags: tuple[object, ...] = value  # type: ignore[assignment]
    if len(tags) > MAX_TAGS:
        raise MappingError(f"{len(tags)} tags; Omnisend keeps at most {MAX_TAGS} per contact")
    for tag in tags:
        if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_LENGTH or clean_text(tag) != tag:
            raise MappingError(
                f"tag {tag!r} must be 1 to {MAX_TAG_LENGTH} characters without surrounding spaces"
                " or control characters"
            )
    if len(set(tags)) != len(tags):
        raise MappingError("tags repeat a tag")


def _check_custom(instance: ContactMapping, attribute: attrs.Attribute[Any], value: object) -> None:
    properties: Mapping[object, object] = value  # type: ignore[assignment]
    if not all(isinstance(column, str) and column for column in properties):
        raise MappingError("custom_properties: keys must be column names")
    check_property_names(properties.values())  # type: ignore[arg-type]


def _check_phone_country(
    instance: ContactMapping, attribute: attrs.Attribute[Any], value: str | None
) -> None:
    if value is not None and not phone_country_supported(value):
        raise MappingError(
            f"default_phone_country {value!r} is not a known ISO 3166-1 alpha-2 code"
        )


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(instance: ContactMapping, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise MappingError(f"{attribute.name} must be one of {choices}, got {value!r}")

    return check


def _check_bool(instance: ContactMapping, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise MappingError(f"{attribute.name} must be True or False, got {value!r}")


@attrs.frozen(kw_only=True)
class ContactMapping:
    """Where each Omnisend contact field comes from, and the policies applied to every row.

    Each field takes a column name, a :class:`Constant`, or a function of the row (a mapping of
    column name -> value); fields left ``None`` are not sent. Mappings made only of columns and
    constants can be saved and loaded (:meth:`save`, :meth:`load`).

    Example::

        mapping = ContactMapping(email="EmailAddress", first_name="FirstName",
                                 address=("Street", "Line2"), country="Country")
        mapping.validate_columns(["EmailAddress", "FirstName", "Street", "Line2", "Country"])
        print(mapping.preview({"EmailAddress": " Ann@Example.COM ", "Country": "UK"}))

    Attributes:
        email: The email address (required): trimmed, lower-cased, checked; a row without a
            valid one is rejected.
        first_name: First name. Like every text field: trimmed, control characters removed,
            left out when empty, held to ``MAX_TEXT_LENGTH`` by ``long_text``.
        last_name: Last name.
        address: Street address; a tuple of columns is joined with ``address_separator``,
            skipping empty parts.
        city: City.
        state: State or region.
        postal_code: Postal code. Text is sent as written. A number (a warehouse's INTEGER
            column) has lost any leading zeros: they are put back when the row's country has
            postal codes of one fixed number of digits (``2139`` in the US is sent as
            ``02139``, with a warning); otherwise it is left out with a warning.
        country: Country as a code or name; recognised ones are sent as the English name and
            ``countryCode``, others are left out with a warning.
        phone: Phone number, sent as a second identifier in E.164 when confirmed valid;
            national numbers are read with the row's own country.
        gender: Gender, sent as ``m`` or ``f``.
        birthdate: Birthdate in a common format, sent as ``YYYY-MM-DD``.
        custom_properties: Column name -> custom property name.
        tags: Tags for every contact. Careful: tags in the contact body *replace* the contact's
            tags in Omnisend.
        email_status: Email channel status (subscribed, unsubscribed, nonSubscribed).
        email_status_changed_at: When the status was given. ``subscribed`` and
            ``nonSubscribed`` are sent only with it; never with "now".
        consent_source: Where consent was collected (a form's name); sent with the status time.
        consent_ip: The IP address consent came from.
        consent_user_agent: The browser consent came from.
        ignore_case: Match column names case-insensitively (and ignoring surrounding spaces).
        duplicates: Which row of a repeated email is sent, ``"first"`` or ``"last"``.
        default_phone_country: ISO alpha-2 country for national phone numbers in rows that
            have no country of their own.
        send_welcome_message: Let Omnisend's welcome workflow mail new contacts (off by default).
        long_text: Text over its limit is ``"truncate"``-d, ``"drop"``-ped or ``"reject"``-s the
            row; the first two warn.
        address_separator: Joins the parts of a multi-column address.
        day_first: How to read ``nn/nn/yyyy`` birthdates: ``True`` day first, ``False`` month
            first, ``None`` refuse the ambiguous ones.
    """

    email: FieldSource = attrs.field(validator=_check_source)
    first_name: FieldSource | None = attrs.field(default=None, validator=_check_source)
    last_name: FieldSource | None = attrs.field(default=None, validator=_check_source)
    address: AddressSource | None = attrs.field(default=None, validator=_check_source)
    city: FieldSource | None = attrs.field(default=None, validator=_check_source)
    state: FieldSource | None = attrs.field(default=None, validator=_check_source)
    postal_code: FieldSource | None = attrs.field(default=None, validator=_check_source)
    country: FieldSource | None = attrs.field(default=None, validator=_check_source)
    phone: FieldSource | None = attrs.field(default=None, validator=_check_source)
    gender: FieldSource | None = attrs.field(default=None, validator=_check_source)
    birthdate: FieldSource | None = attrs.field(default=None, validator=_check_source)
    custom_properties: Mapping[str, str] = attrs.field(
        factory=dict, converter=dict, validator=_check_custom
    )
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_check_tags)
    email_status: FieldSource | None = attrs.field(default=None, validator=_check_source)
    email_status_changed_at: FieldSource | None = attrs.field(default=None, validator=_check_source)
    consent_source: FieldSource | None = attrs.field(default=None, validator=_check_source)
    consent_ip: FieldSource | None = attrs.field(default=None, validator=_check_source)
    consent_user_agent: FieldSource | None = attrs.field(default=None, validator=_check_source)
    ignore_case: bool = attrs.field(default=False, validator=_check_bool)
    duplicates: DuplicatePolicy = attrs.field(
        default=DEFAULT_DUPLICATE_POLICY, validator=_one_of(DUPLICATE_POLICIES)
    )
    default_phone_country: str | None = attrs.field(default=None, validator=_check_phone_country)
    send_welcome_message: bool = attrs.field(default=False, validator=_check_bool)
    long_text: LongTextPolicy = attrs.field(
        default=DEFAULT_LONG_TEXT_POLICY, validator=_one_of(LONG_TEXT_POLICIES)
    )
    address_separator: str = DEFAULT_ADDRESS_SEPARATOR
    day_first: bool | None = None

    def columns(self) -> list[tuple[str, str]]:
        """Every column the mapping reads, as (field, column) pairs, in field order."""
        found: list[tuple[str, str]] = []
        for field in SOURCE_FIELDS:
            source = getattr(self, field)
            if isinstance(source, str):
                found.append((field, source))
            elif isinstance(source, tuple):
                found.extend((field, column) for column in source)
        found.extend(
            (f"custom_properties[{name!r}]", column)
            for column, name in self.custom_properties.items()
        )
        return found

    def validate_columns(self, columns: Iterable[str]) -> None:
        """Check that a source has every column the mapping reads, before any row is read.

        Raises:
            MappingError: Naming each missing column and suggesting close matches
                (``"Email Address"`` for ``"EmailAddress"``).
        """
        resolve_columns(self.columns(), tuple(columns), ignore_case=self.ignore_case)

    def preview(self, row: Mapping[str, object], *, row_number: int = 1) -> MappedRow:
        """Map one row and show the contact it becomes, with its issues: for trying a mapping out.

        Example::

            >>> mapped = mapping.preview({"EmailAddress": "Ann@Example.com", "Country": "UK"})
            >>> mapped.contact.country_code, mapped.issues
            ('GB', ())

        Columns the row lacks are taken as empty, so a few columns are enough to try a rule out;
        :meth:`validate_columns` is the check for a source's header.
        """
        return preview(self, row, row_number=row_number)

    def map_rows(self, source: RowSource) -> Iterator[MappedRow]:
        """Map every row of a source, duplicates handled by ``duplicates``: see :func:`map_rows`."""
        return map_rows(self, source)

    def bind(self, columns: Iterable[str]) -> RowMapper:
        """Deprecated: use ``RowMapper.bind(mapping, columns)``; binding is the mapper's job."""
        warnings.warn(
            "ContactMapping.bind(columns) is deprecated; use RowMapper.bind(mapping, columns)",
            DeprecationWarning,
            stacklevel=2,
        )
        return RowMapper.bind(self, columns)

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data (what :meth:`save` writes); defaults are left out.

        Constants are written as ``{"constant": value}``, an address of several columns as a list.

        Raises:
            MappingError: When a field is a function, which cannot be saved.
        """
        data: dict[str, Any] = {}
        for field in attrs.fields(ContactMapping):
            value = getattr(self, field.name)
            if value == field.default or (field.name == "custom_properties" and not value):
                continue
            if isinstance(value, Constant):
                data[field.name] = {"constant": value.value}
            elif isinstance(value, tuple):
                data[field.name] = list(value)
            elif isinstance(value, dict):
                data[field.name] = dict(value)
            elif callable(value):
                raise MappingError(
                    f"{field.name} is a function ({describe(value)}), which cannot be saved:"
                    " map a column or a Constant instead"
                )
            else:
                data[field.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContactMapping:
        """The mapping described by plain data, as :meth:`to_dict` gives it.

        Raises:
            MappingError: Unknown keys or invalid values.
        """
        names = {field.name for field in attrs.fields(cls)}
        unknown = sorted(str(key) for key in data if key not in names)
        if unknown:
            raise MappingError(f"unknown mapping keys: {', '.join(unknown)}")
        if "email" not in data:
            raise MappingError("the mapping has no email")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Mapping) and key != "custom_properties":
                if set(value) != {"constant"}:
                    raise MappingError(f"{key}: a table must be {{constant = value}}")
                values[key] = Constant(value["constant"])
            elif isinstance(value, list):
                values[key] = tuple(value)
            else:
                values[key] = value
        try:
            return cls(**values)
        except TypeError as err:  # attrs' own check of keyword arguments
            raise MappingError(str(err)) from err

    def save(self, path: str | Path) -> None:
        """Write the mapping to a ``.toml`` or ``.json`` file.

        Raises:
            MappingError: When a field is a function, or the extension is neither.
        """
        write_document(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> ContactMapping:
        """Read a mapping from a ``.toml`` or ``.json`` file written by :meth:`save` or by hand.

        Raises:
            MappingError: A file that cannot be read as a mapping, naming the file.
        """
        path = Path(path)
        try:
            return cls.from_dict(read_document(path))
        except MappingError as err:
            raise MappingError(f"{path}: {err}") from err

    def describe(self) -> str:
        """A one-line-per-field summary of where each contact field comes from."""
        lines = [
            f"{field}: {describe(source)}"
            for field in SOURCE_FIELDS
            if (source := getattr(self, field)) is not None
        ]
        lines.extend(
            f"custom property {name}: column {column!r}"
            for column, name in self.custom_properties.items()
        )
        if self.tags:
            lines.append("tags: " + ", ".join(self.tags))
        return "\n".join(lines)
