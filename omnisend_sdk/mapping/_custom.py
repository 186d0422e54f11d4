"""Custom property rules: names Omnisend accepts, and values it can store.

Omnisend stores flat values: strings, numbers, booleans and lists of strings. Values keep the type
the source gave them: text read from a CSV stays text (``"00123"`` must not become ``123``), while
numbers and booleans from JSON Lines or a DataFrame stay numbers and booleans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Final

from omnisend_sdk._constants import MAX_CUSTOM_PROPERTIES, MAX_CUSTOM_PROPERTY_NAME_LENGTH
from omnisend_sdk._errors import MappingError
from omnisend_sdk._models import CustomPropertyValue
from omnisend_sdk.mapping._text import to_text

_NAME: Final = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_CUSTOM_PROPERTY_NAME_LENGTH}}}")
#: Integers beyond this lose precision in JavaScript, where Omnisend's data is likely read: sent as
#: text instead.
_MAX_SAFE_INTEGER: Final = 2**53
#: Floats outside this magnitude range are written with an exponent, which the JSON encoders spell
#: differently (``1e+16`` and ``1e16``): sent as text, so every encoder writes the same bytes.
_MIN_PLAIN_FLOAT: Final = 1e-4
_MAX_PLAIN_FLOAT: Final = 1e16


def check_property_names(names: Iterable[str]) -> None:
    """Check custom property names against Omnisend's rules, once, when a mapping is made.

    Raises:
        MappingError: A name that is not 1 to 128 letters, digits or ``_``; a repeated name; or
            more than 200 properties.
    """
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise MappingError(
                f"custom property name {name!r} must be 1 to {MAX_CUSTOM_PROPERTY_NAME_LENGTH}"
                " letters, digits or _"
            )
        if name in seen:
            raise MappingError(f"custom property {name!r} is mapped twice")
        seen.add(name)
    if len(seen) > MAX_CUSTOM_PROPERTIES:
        raise MappingError(
            f"{len(seen)} custom properties mapped; Omnisend stores at most {MAX_CUSTOM_PROPERTIES}"
        )


def normalise_property_value(value: object) -> CustomPropertyValue | None:
    """A source value as Omnisend can store it, or ``None`` for no value.

    Strings are cleaned like every text field; booleans, safe integers and plainly written floats
    are kept; lists become tuples of non-empty strings; anything else becomes text.

    Raises:
        InvalidValueError: ``unreadable_value`` for objects that cannot be read as text.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        magnitude = abs(value)
        if magnitude == 0 or _MIN_PLAIN_FLOAT <= magnitude < _MAX_PLAIN_FLOAT:
            return value
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = tuple(text for item in value if (text := to_text(item)) is not None)
        return items or None
    if isinstance(value, date):
        return value.isoformat()
    return to_text(value)
