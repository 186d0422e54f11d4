"""Where a contact field's value comes from: a column, a :class:`Constant`, or a row function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

import attrs

#: Mapping fields that name one source each, in the order Omnisend's contact lists them.
SOURCE_FIELDS: Final = (
    "email",
    "first_name",
    "last_name",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "gender",
    "birthdate",
    "email_status",
    "email_status_changed_at",
    "consent_source",
    "consent_ip",
    "consent_user_agent",
)


@attrs.frozen
class Constant:
    """The same value for every row, e.g. ``country=Constant("LT")``."""

    value: str | int | float | bool


#: A function of the row (column name -> value) that returns the field's value.
RowFunction: TypeAlias = Callable[[Mapping[str, object]], object]
#: A field's source: a column name, a constant, or a function of the row.
FieldSource: TypeAlias = str | Constant | RowFunction
#: The address may also join several columns, in order ("Street", "Line2").
AddressSource: TypeAlias = FieldSource | tuple[str, ...]


def is_field_source(value: object) -> bool:
    """Whether ``value`` can stand as a field's source."""
    return isinstance(value, str | Constant) or callable(value)


def describe(source: object) -> str:
    """A short description of a source for error messages."""
    if isinstance(source, str):
        return f"column {source!r}"
    if isinstance(source, Constant):
        return f"constant {source.value!r}"
    if isinstance(source, tuple):
        return "columns " + ", ".join(repr(c) for c in source)
    return f"function {getattr(source, '__name__', type(source).__name__)}"
