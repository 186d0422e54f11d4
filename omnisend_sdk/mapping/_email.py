"""The email rule: trim, lower-case, a practical syntax check, internationalised domains to IDNA.

Omnisend compares email identifiers case-sensitively, so the same person typed twice with
different case would become two contacts: every address is lower-cased before it is sent or
compared. The check is deliberately practical (what mailbox providers accept), not the full RFC 5322
grammar: quoted local parts, comments and IP-literal domains are refused.
"""

from __future__ import annotations

import re
from typing import Final

from omnisend_sdk._constants import (
    MAX_DOMAIN_LABEL_LENGTH,
    MAX_DOMAIN_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_EMAIL_LOCAL_LENGTH,
)
from omnisend_sdk.mapping._issues import InvalidValueError

try:  # IDNA 2008 with UTS 46 mapping; httpx depends on it, but the stdlib codec stands in
    import idna

    def _encode_domain(domain: str) -> str:
        return idna.encode(domain, uts46=True).decode("ascii")

except ImportError:  # pragma: no cover - idna comes with httpx

    def _encode_domain(domain: str) -> str:
        return domain.encode("idna").decode("ascii")


_ATOM: Final = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Local part: dot-separated atoms (no leading, trailing or double dot). Domain: at least two labels,
# the last one alphabetic or an IDNA label, as real top-level domains are.
_EMAIL: Final = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]+)"
)


# An address after a display name, in angle brackets, as mail programs write one:
# ``Ann Lee <ann@example.com>``, ``"Lee, Ann" <ann@example.com>``, ``<ann@example.com>``.
_NAME_ADDRESS: Final = re.compile(r'(?:"[^"]*"\s*|[^<>"]*)<([^<>\s]+)>')
_MAILTO: Final = "mailto:"


def normalise_email(value: str) -> str:
    """Trim and lower-case an email address and check that it can be delivered to.

    An address that comes wrapped is unwrapped first, where nothing else can be meant:
    ``Ann Lee <ann@example.com>`` (the display name is dropped), ``mailto:ann@example.com``,
    ``ann@example.com.`` (a sentence's full stop). Idempotent: a normalised address normalises
    to itself.

    Args:
        value: The address as found in the source.

    Returns:
        The address, lower-case, its domain in ASCII (IDNA) form.

    Raises:
        InvalidValueError: ``missing_email`` when empty, ``invalid_email`` otherwise, with the
            reason (never the address itself) in the message.
    """
    text = value.strip().lower()
    # Fast path: plain ASCII addresses, by far the most common, are settled by one regex.
    if (
        text.isascii()
        and len(text) <= MAX_EMAIL_LENGTH
        and _EMAIL.fullmatch(text)
        and text.index("@") <= MAX_EMAIL_LOCAL_LENGTH
    ):
        return text  # the domain fits: 254 - 1 - a local part of 1 or more <= 253
    return _slow_path(text)


def _slow_path(text: str) -> str:
    if not text:
        raise InvalidValueError("missing_email", "no email address")
    text = _unwrapped(text)
    if any(c.isspace() or c in ",;" for c in text):
        raise InvalidValueError("invalid_email", "contains a space, comma or semicolon")
    count = text.count("@")
    if count != 1:
        reason = "has no @" if count == 0 else "has more than one @"
        raise InvalidValueError("invalid_email", reason)
    local, domain = text.split("@")
    if not local or not domain:
        raise InvalidValueError("invalid_email", "has nothing before or after the @")
    if not local.isascii():
        raise InvalidValueError("invalid_email", "non-ASCII characters before the @")
    if len(local) > MAX_EMAIL_LOCAL_LENGTH:
        raise InvalidValueError(
            "invalid_email", f"more than {MAX_EMAIL_LOCAL_LENGTH} characters before the @"
        )
    if not domain.isascii():
        domain = _to_idna(domain)
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidValueError("invalid_email", "domain has no dot")
    if any(len(label) > MAX_DOMAIN_LABEL_LENGTH for label in labels):
        raise InvalidValueError(
            "invalid_email", f"a domain label is longer than {MAX_DOMAIN_LABEL_LENGTH} characters"
        )
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL_LENGTH or len(domain) > MAX_DOMAIN_LENGTH:
        raise InvalidValueError("invalid_email", f"longer than {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL.fullmatch(address):
        raise InvalidValueError("invalid_email", "not a valid address")
    return address


def _unwrapped(text: str) -> str:
    """The address alone, when it comes wrapped so that nothing else can be meant: after a display
    name in angle brackets, as a ``mailto:`` link, or with the full stop that ends a sentence."""
    if match := _NAME_ADDRESS.fullmatch(text):
        text = match.group(1)
    if text.startswith(_MAILTO):
        text = text[len(_MAILTO) :]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    return text


def _to_idna(domain: str) -> str:
    """An internationalised domain in its ASCII form (``bücher.de`` -> ``xn--bcher-kva.de``)."""
    try:
        return _encode_domain(domain)
    except (UnicodeError, ValueError) as err:  # idna.IDNAError is a UnicodeError
        raise InvalidValueError(
            "invalid_email", "domain is not a valid international name"
        ) from err
