"""What went wrong with one row: :class:`RowIssue`, and the masking that keeps personal data out.

A row with an ``"error"`` issue is not sent; ``"warning"`` issues describe a change made to a row
that is still sent (a field dropped, a value truncated). Issues never hold a full personal value:
the value is masked (``"j***@e***.com"``) so reports and logs can be shared.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

import attrs

from omnisend_sdk._errors import MappingError

Severity: TypeAlias = Literal["error", "warning"]

#: Fields whose values are not personal, so issues may show them in full (shortened).
_PLAIN_FIELDS: Final = frozenset({"country", "email_status", "gender"})
#: Longest unmasked value an issue repeats, in characters.
_PLAIN_VALUE_LENGTH: Final = 40


@attrs.frozen(kw_only=True)
class RowIssue:
    """One problem found in one source row.

    Attributes:
        row: The row's number in its source: the CSV or JSON Lines line it starts on (1-based), or
            its position in a DataFrame, Arrow table or iterable (0-based).
        field: The contact field concerned (``"email"``, ``"country"``...), or ``"row"`` for the
            row as a whole.
        severity: ``"error"``: the row is not sent. ``"warning"``: it is sent without, or with a
            corrected, value.
        code: A short stable identifier to filter on, such as ``"invalid_email"``.
        message: What happened, in words, without the personal value.
        value: The offending value, masked unless it is not personal (a country name).
        related_row: Another row involved: for a duplicate, the row that was kept.
    """

    row: int
    field: str
    severity: Severity
    code: str
    message: str
    value: str | None = None
    related_row: int | None = None

    def __str__(self) -> str:
        shown = f" ({self.value})" if self.value else ""
        return f"row {self.row}: {self.severity} {self.code} in {self.field}{shown}: {self.message}"


class InvalidValueError(MappingError):
    """A value that a per-row rule cannot turn into what Omnisend accepts.

    The mapper turns it into a :class:`RowIssue`; the rule functions raise it when called directly.

    Attributes:
        code: The issue code (``"invalid_email"``...).
        message: Why, without the value itself.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def mask_email(text: str) -> str:
    """Mask an email-like value, keeping its shape: ``john@example.com`` -> ``j***@e***.com``."""
    local, _, domain = text.partition("@")
    head = f"{local[:1]}***@"
    if not domain:
        return f"{local[:1]}***"
    dot = domain.rfind(".")
    suffix = domain[dot:] if 0 < dot < len(domain) - 1 and len(domain) - dot <= 8 else ""
    return f"{head}{domain[:1]}***{suffix}"


def mask_value(field: str, value: object) -> str | None:
    """The form of ``value`` that an issue may show for ``field``.

    Emails keep their shape (:func:`mask_email`); non-personal fields (country, email status,
    gender) are shown shortened; any other value keeps only its first character.
    """
    if value is None:
        return None
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # a user's object whose repr fails still gets an issue
        return "***"
    if not text:
        return ""
    if field in _PLAIN_FIELDS:
        return text[:_PLAIN_VALUE_LENGTH]
    if "@" in text:
        return mask_email(text.strip())
    return f"{text[:1]}***"
