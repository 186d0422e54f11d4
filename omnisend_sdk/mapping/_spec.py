"""What binding, mapping and streaming read from a mapping, as a protocol.

:class:`~omnisend_sdk.mapping.ContactMapping` is the one implementation. The modules that do the
work take this protocol rather than the class, so that they need not import the module of the
value whose documented conveniences (``mapping.preview(row)``, ``mapping.map_rows(source)``) call
them: the mapping package's imports stay one-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, Protocol, TypeAlias

from omnisend_sdk.mapping._targets import FieldSource
from omnisend_sdk.mapping._text import LongTextPolicy

DuplicatePolicy: TypeAlias = Literal["first", "last"]
DUPLICATE_POLICIES: Final[tuple[DuplicatePolicy, ...]] = ("first", "last")


class MappingSpec(Protocol):
    """A mapping as binding, mapping and streaming read it.

    Read-only views of the :class:`~omnisend_sdk.mapping.ContactMapping` fields of the same names
    (see there for what each means); the fields that name a source (``SOURCE_FIELDS``) are also
    read by name.
    """

    @property
    def email(self) -> FieldSource: ...
    @property
    def custom_properties(self) -> Mapping[str, str]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def ignore_case(self) -> bool: ...
    @property
    def duplicates(self) -> DuplicatePolicy: ...
    @property
    def default_phone_country(self) -> str | None: ...
    @property
    def send_welcome_message(self) -> bool: ...
    @property
    def long_text(self) -> LongTextPolicy: ...
    @property
    def address_separator(self) -> str: ...
    @property
    def day_first(self) -> bool | None: ...
    def columns(self) -> list[tuple[str, str]]: ...
