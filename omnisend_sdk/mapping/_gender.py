"""The gender rule: common spellings to Omnisend's ``"m"`` or ``"f"``."""

from __future__ import annotations

from typing import Final

from omnisend_sdk._models import Gender
from omnisend_sdk.mapping._issues import InvalidValueError

_GENDERS: Final[dict[str, Gender]] = {
    **dict.fromkeys(("m", "male", "man", "masculine", "mr", "mr."), "m"),
    **dict.fromkeys(("f", "female", "woman", "feminine", "w", "mrs", "mrs.", "ms", "ms."), "f"),
}


def normalise_gender(value: str) -> Gender:
    """Read a gender as ``"m"`` or ``"f"``, the only values Omnisend stores.

    Raises:
        InvalidValueError: ``unsupported_gender`` for any other value (which is then not sent:
            Omnisend has no field for it).
    """
    try:
        return _GENDERS[value.strip().casefold()]
    except KeyError:
        raise InvalidValueError("unsupported_gender", "Omnisend stores only m or f") from None
