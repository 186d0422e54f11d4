"""The phone rules of Google's libphonenumber (the ``phones`` extra: ``pip install
omnisend-sdk[phones]``).

Imported only by :func:`omnisend_sdk.mapping._phone.libphonenumber_rules`, and only when a mapping
has a phone to check, so that the package is never needed otherwise. libphonenumber knows every
country's trunk and international prefixes, lengths and assigned ranges (Argentine mobiles written
with ``15``, Lithuanian ``8`` prefixes...) and loads each country's data on first use.
"""

from __future__ import annotations

from typing import Final

import phonenumbers

from omnisend_sdk.mapping._issues import InvalidValueError


class LibPhoneNumberRules:
    """E.164 conversion that sends only numbers libphonenumber finds valid."""

    #: For messages and documentation.
    name: Final = "libphonenumber"

    def to_e164(self, text: str, country: str | None) -> str:
        """The number in E.164 (see :meth:`PhoneRules.to_e164`), when libphonenumber finds it
        valid; the country's own international prefix (``00``, ``011``, ``0011``...) is read
        too."""
        region = country if country in phonenumbers.SUPPORTED_REGIONS else None
        if region is None and not text.startswith("+"):
            raise InvalidValueError("invalid_phone", f"no phone numbering plan known for {country}")
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            raise InvalidValueError("invalid_phone", "not a phone number") from None
        if number.extension:  # an extension cannot receive a text message, nor identify anyone
            raise InvalidValueError("invalid_phone", "has an extension")
        if not phonenumbers.is_valid_number(number):
            raise InvalidValueError(
                "invalid_phone", "not a valid number: wrong length or range for its country"
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
