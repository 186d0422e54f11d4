"""Custom property rules: names Omnisend accepts, and values it can store.

Omnisend stores flat values: strings, numbers, booleans and lists of strings. Values keep the type
the source gave them: text read from a CSV stays text (``"00123"`` must not become ``123``), while
numbers and booleans from JSON Lines or a DataFrame stay numbers and booleans. What Omnisend cannot
store (NaN, infinities, nested objects) is not sent, and the row gets a warning: sending it as
text would put a Python repr or ``"nan"`` in someone's profile.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Final

from omnisend_sdk._constants import MAX_CUSTOM_PROPERTIES, MAX_CUSTOM_PROPERTY_NAME_LENGTH
from omnisend_sdk._errors import MappingError
from omnisend_sdk._models import CustomPropertyValue
from omnisend_sdk.mapping._issues import InvalidValueError
from omnisend_sdk.mapping._text import MISSING_VALUE_TEXTS, missing_value_error, to_text

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
    are kept; lists become tuples of non-empty strings (sets sorted, so that every run sends the
    same list); other scalars become text. A value Omnisend cannot store is refused rather than
    sent as something else: never a Python repr, never a silently missing value.

    Raises:
        InvalidValueError: ``missing_value_text`` for text that stands for a missing value
            (``NULL``, ``nan``: see ``MISSING_VALUE_TEXTS``); ``invalid_number`` for NaN and
            infinities; ``nested_value`` for an
            object (a nested dict, as JSON Lines gives) or a list holding objects or lists;
            ``unreadable_value`` for objects that cannot be read as text.
    """
    if type(value) is str:  # the common case first: CSV gives only strings
        text = to_text(value)
        if text in MISSING_VALUE_TEXTS:
            raise missing_value_error(text)
        return text
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return _plain_float(value)
    if isinstance(value, list | tuple | set | frozenset):
        return _string_array(value)
    if isinstance(value, date):
        return value.isoformat()
    _refuse_unstorable(value, "")
    return to_text(value)


def _plain_float(value: float) -> float | str:
    _refuse_unstorable(value, "")
    magnitude = abs(value)
    if magnitude == 0 or _MIN_PLAIN_FLOAT <= magnitude < _MAX_PLAIN_FLOAT:
        return value
    return repr(value)


def _string_array(items: Collection[object]) -> tuple[str, ...] | None:
    """A list as Omnisend's array of strings; empty items are left out, as empty fields are."""
    texts: list[str] = []
    for item in items:
        _refuse_unstorable(item, "a list holding ")
        text = to_text(item)
        if text is not None and text not in MISSING_VALUE_TEXTS:  # NULL in a list: no item
            texts.append(text)
    if isinstance(items, set | frozenset):  # no order of its own: sorted, so each run sends one
        texts.sort()
    return tuple(texts) or None


def _refuse_unstorable(value: object, where: str) -> None:
    """Raise for a value that Omnisend cannot store as it is: not a finite number, or nested.

    Args:
        value: A property's value, or an item of a list.
        where: How to introduce the value in the message (``"a list holding "`` for items).
    """
    kind = _non_finite(value)
    if kind is not None:
        raise InvalidValueError(
            "invalid_number", f"{where}{kind}, which is not a number Omnisend can store: not sent"
        )
    if isinstance(value, Mapping):
        raise InvalidValueError(
            "nested_value",
            f"{where}an object; Omnisend stores only text, numbers, booleans and lists of text:"
            " not sent",
        )
    if where and isinstance(value, list | tuple | set | frozenset):
        raise InvalidValueError(
            "nested_value", "a list holding a list; Omnisend stores only lists of text: not sent"
        )


def _non_finite(value: object) -> str | None:
    """``"NaN"`` or ``"infinity"`` for such a number of any type (float, Decimal, NumPy)."""
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        return None if value.is_finite() else "infinity"
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "infinity"
    return None
