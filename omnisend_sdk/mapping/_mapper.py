"""The row mapper: one source row in, one :class:`MappedRow` (a contact and its issues) out.

Speed matters here (a million rows should map in seconds), so :class:`RowMapper` resolves all the
mapping's decisions once, when it is bound to a source's columns, and the per-row loop only reads
values and applies the rules. A mapped row keeps the contact's fields in their JSON form, ready to
encode; :attr:`MappedRow.contact` turns it into a :class:`~omnisend_sdk.ContactInput` on demand, and
:meth:`MappedRow.to_json` writes its body with :data:`omnisend_sdk._wire.CONTACT_ENCODERS`: exactly
what :func:`omnisend_sdk._wire.contact_to_json` would give for that contact, about four times
faster. JSON names come from :mod:`omnisend_sdk._wire`; this module knows only Python's.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

from omnisend_sdk._constants import (
    DEFAULT_API_VERSION,
    MAX_CUSTOM_PROPERTY_VALUE_LENGTH,
    MAX_TEXT_LENGTH,
    ApiVersion,
)
from omnisend_sdk._models import Channel, ChannelState, Consent, ContactInput, Identifier
from omnisend_sdk._wire import (
    CONTACT_ENCODERS,
    CONTACT_FIELDS,
    ContactIdentity,
    contact_fields,
    format_date,
)
from omnisend_sdk.mapping._columns import resolve_columns
from omnisend_sdk.mapping._country import normalise_country
from omnisend_sdk.mapping._custom import normalise_property_value
from omnisend_sdk.mapping._dates import parse_birthdate, parse_timestamp
from omnisend_sdk.mapping._email import normalise_email
from omnisend_sdk.mapping._gender import normalise_gender
from omnisend_sdk.mapping._issues import InvalidValueError, RowIssue, Severity, mask_value
from omnisend_sdk.mapping._phone import (
    NO_DEFAULT_COUNTRY,
    NO_ROW_COUNTRY,
    UNKNOWN_ROW_COUNTRY,
    PhoneRules,
    phone_rules,
    phone_to_e164,
)
from omnisend_sdk.mapping._postal import (
    POSTAL_CODE_DIGITS,
    is_number,
    number_written,
    padded_digits,
    postal_code_of_number,
    restored_message,
)
from omnisend_sdk.mapping._spec import MappingSpec
from omnisend_sdk.mapping._status import channel_state, normalise_status
from omnisend_sdk.mapping._targets import SOURCE_FIELDS, Constant, RowFunction, describe
from omnisend_sdk.mapping._text import (
    MISSING_VALUE_TEXTS,
    clean_text,
    may_be_garbled,
    missing_value_error,
    repaired_encoding,
    to_text,
    truncate,
)

T = TypeVar("T")

#: Text fields in the order Omnisend's ContactRequest (and so ``contact_to_json``) lists them.
#: The mapper fills a row's fields in this order, so its JSON needs no sort.
_TEXT_FIELDS: Final = ("first_name", "last_name", "address", "city", "state", "postal_code")
# The keys of a row's fields, spelled as the wire spells them.
_COUNTRY: Final = CONTACT_FIELDS["country"]
_COUNTRY_CODE: Final = CONTACT_FIELDS["country_code"]
_POSTAL_CODE: Final = CONTACT_FIELDS["postal_code"]
#: The issue of a country no rule recognises (the contact is sent without it).
_UNKNOWN_COUNTRY: Final = "unknown_country"
_GENDER: Final = CONTACT_FIELDS["gender"]
_BIRTHDATE: Final = CONTACT_FIELDS["birthdate"]
_TAGS: Final = CONTACT_FIELDS["tags"]
_CUSTOM_PROPERTIES: Final = CONTACT_FIELDS["custom_properties"]
#: Distinct raw country values remembered per source (a few hundred spellings in practice).
_MAX_CACHED_COUNTRIES: Final = 4096
#: Distinct values a text field remembers the text of, when they came to it without an issue:
#: names, cities and postal codes repeat, and a value seen before skips the rules (trimming,
#: cleaning, the garbled-text and missing-value checks). About 100 kB a field when full.
_MAX_KNOWN_TEXTS: Final = 1024
#: Issue codes that reject the whole row, whatever field they come from.
_REJECTING: Final = frozenset({"callable_failed", "too_long"})

# (field, column, None) to read a column; (field, "", function) to call a function of the row
_Getter = tuple[str, str, RowFunction | None]
# (key in the row's fields, issue field name, column, function, length limit, is the postal code,
# the texts its values came to: see _MAX_KNOWN_TEXTS)
_TextStep = tuple[str, str, str, RowFunction | None, int, bool, dict[str, str]]


class MappedRow:
    """What one source row became: the contact to send (or ``None`` if rejected) and the issues.

    Read-only. Attributes:
        row: The row's number in its source (see :class:`~omnisend_sdk.mapping.Row`).
        email: The normalised email address, ``None`` when the row had no valid one.
        issues: Problems found, errors and warnings; empty for a clean row.
        ok: True when the row is to be sent (it may still carry warnings).
        record: The fingerprint of the row's record when it was mapped without an issue and
            fingerprints were asked for (see :mod:`omnisend_sdk.mapping._records`); else 0.
    """

    __slots__ = ("_contact", "_fields", "_identity", "email", "issues", "ok", "record", "row")

    def __init__(
        self,
        row: int,
        email: str | None,
        issues: tuple[RowIssue, ...],
        fields: dict[str, Any] | None = None,
        identity: ContactIdentity | None = None,
    ) -> None:
        self.row = row
        self.email = email
        self.issues = issues
        self.ok = fields is not None
        self.record = 0
        self._fields = fields
        self._identity = identity
        self._contact: ContactInput | None = None

    @property
    def contact(self) -> ContactInput | None:
        """The contact to send, or ``None`` when the row was rejected."""
        if self._contact is None and self._fields is not None and self._identity is not None:
            self._contact = _build_contact(self.email or "", self._fields, self._identity)
        return self._contact

    def to_json(self, version: ApiVersion = DEFAULT_API_VERSION) -> dict[str, Any] | None:
        """The contact's request body for an API version, or ``None`` when the row was rejected.

        Equal, and encoded byte for byte equal, to ``contact_to_json(row.contact, version)``.
        The dict is new; the lists and dicts inside it are shared with the row: do not change them.
        """
        fields, identity = self._fields, self._identity
        if fields is None or identity is None:
            return None
        return CONTACT_ENCODERS[version](self.email or "", fields, identity)

    def __repr__(self) -> str:
        state = "ok" if self.ok else "rejected"
        return (
            f"MappedRow(row={self.row}, {state}, contact={self.contact!r}, issues={self.issues!r})"
        )


def _build_contact(
    email: str, fields: Mapping[str, Any], identity: ContactIdentity
) -> ContactInput:
    welcome, channel, consent, phone = identity
    channels: dict[Channel, ChannelState] | None = {"email": channel} if channel else None
    identifiers = [
        Identifier(
            type="email",
            id=email,
            channels=channels,
            consent=consent,
            send_welcome_message=welcome,
        )
    ]
    if phone is not None:
        identifiers.append(Identifier(type="phone", id=phone, send_welcome_message=welcome))
    return ContactInput(identifiers=tuple(identifiers), **contact_fields(fields))


class _Rejected(Exception):  # noqa: N818 - internal control flow, never escapes the mapper
    """Stops mapping a row that has an error."""


class RowMapper:
    """A :class:`ContactMapping` bound to a source's columns; maps that source's rows.

    Made by :meth:`bind`. Safe to reuse for every row of the source; not for another source with
    other columns.
    """

    def __init__(
        self,
        mapping: MappingSpec,
        columns: Mapping[str, str],
        *,
        now: datetime | None = None,
    ) -> None:
        """Resolve every decision the mapping makes once, so each row only applies them.

        Args:
            mapping: The mapping.
            columns: The mapping's column names -> the source's spelling of them.
            now: The time status times may not be later than (default: now); today's date
                bounds birthdates.
        """
        self.mapping = mapping
        self._columns = columns
        self._now = now or datetime.now(UTC)
        self._today = self._now.date()
        self._email = self._getter("email", mapping.email)
        self._texts: list[_TextStep] = [
            (
                CONTACT_FIELDS[name],
                *self._getter(name, source),
                MAX_TEXT_LENGTH,
                name == "postal_code",
                {},
            )
            for name in _TEXT_FIELDS
            if (source := getattr(mapping, name)) is not None
        ]
        self._postal_mapped = any(is_postal for *_, is_postal, _ in self._texts)
        self._country = self._optional("country")
        self._countries: dict[str, tuple[str, str]] = {}
        self._gender = self._optional("gender")
        self._birthdate = self._optional("birthdate")
        self._phone = self._optional("phone")
        # Chosen once: libphonenumber is imported only for mappings that have phones.
        self._phone_rules: PhoneRules | None = phone_rules() if self._phone is not None else None
        default_country = mapping.default_phone_country
        self._default_phone_country = default_country.upper() if default_country else None
        self._status = self._optional("email_status")
        self._status_time = self._optional("email_status_changed_at")
        self._consent_source = self._optional("consent_source")
        self._consent_ip = self._optional("consent_ip")
        self._consent_agent = self._optional("consent_user_agent")
        self._custom = [
            (name, columns[column]) for column, name in mapping.custom_properties.items()
        ]
        self._tags = list(mapping.tags)
        #: Whether the mapping maps anything past the texts and the country (see _map_more).
        self._more = any((self._gender, self._birthdate, self._tags, self._custom))
        self._plain_identity: ContactIdentity = (mapping.send_welcome_message, None, None, None)
        self._long_text = mapping.long_text
        self._needs_identity = any(
            step is not None for step in (self._phone, self._status, self._consent_source)
        )

    @classmethod
    def bind(cls, mapping: MappingSpec, columns: Iterable[str]) -> RowMapper:
        """Prepare a mapping for a source with these columns: the object that maps its rows.

        Raises:
            MappingError: Naming each column the mapping reads that the source lacks, with close
                matches (as :meth:`ContactMapping.validate_columns`).
        """
        resolved = resolve_columns(
            mapping.columns(), tuple(columns), ignore_case=mapping.ignore_case
        )
        return cls(mapping, resolved)

    @property
    def rejects_only_on_email(self) -> bool:
        """Whether a row with a valid email is always sent (no function, no "reject" policy)."""
        return self._long_text != "reject" and self.reads_only_columns

    @property
    def reads_only_columns(self) -> bool:
        """Whether every field comes from columns or constants, not from a function of the row."""
        sources = [getattr(self.mapping, name) for name in SOURCE_FIELDS]
        return not any(callable(source) and not isinstance(source, Constant) for source in sources)

    def email_of(self, values: Mapping[str, object]) -> str | None:
        """The row's normalised email, or ``None`` without a valid one (for duplicate checks)."""
        try:
            return self._map_email(0, values, [])
        except _Rejected:
            return None

    @property
    def phone_rules_name(self) -> str | None:
        """The rules that check this mapping's phone numbers, or ``None`` without a phone."""
        return self._phone_rules.name if self._phone_rules is not None else None

    @property
    def columns(self) -> Mapping[str, str]:
        """The mapping's column names -> the source's spelling of them."""
        return self._columns

    def _optional(self, field: str) -> _Getter | None:
        source = getattr(self.mapping, field)
        return None if source is None else self._getter(field, source)

    def _getter(self, field: str, source: object) -> _Getter:
        """(field, column, None) for a column; (field, "", function) for anything else."""
        if isinstance(source, str):
            return field, self._columns[source], None
        if isinstance(source, Constant):
            constant = source.value
            return field, "", lambda _: constant
        if isinstance(source, tuple):
            return field, "", self._joiner([self._columns[column] for column in source])
        function: Callable[[Mapping[str, object]], object] = source  # type: ignore[assignment]
        return field, "", _guarded(field, function)

    def _joiner(self, columns: list[str]) -> RowFunction:
        separator = self.mapping.address_separator

        def join(values: Mapping[str, object]) -> object:
            parts = []
            for column in columns:
                raw = values.get(column)
                part = to_text(raw)
                # A part that says it is missing (a second address line of NULL) is skipped as
                # an empty one is: the address is whole without it. Text is joined as read, so
                # that the address is cleaned (and a garbled one repaired) whole, as any text is.
                if part and part not in MISSING_VALUE_TEXTS:
                    parts.append(raw.strip() if type(raw) is str else part)
            return separator.join(parts)

        return join

    def map(
        self, number: int, values: Mapping[str, object], source_issues: tuple[RowIssue, ...] = ()
    ) -> MappedRow:
        """Map one row.

        Never raises for bad data: every problem becomes a :class:`RowIssue`.

        Args:
            number: The row's number in its source.
            values: Column name -> value.
            source_issues: Problems the source met reading this row, kept with the row's own.
        """
        issues: list[RowIssue] = [*source_issues] if source_issues else []
        email: str | None = None
        try:
            _, column, function = self._email
            raw = values.get(column) if function is None else None
            if type(raw) is str:  # the common case, without a call
                try:
                    email = normalise_email(raw)
                except InvalidValueError as err:
                    issues.append(_issue(number, "email", "error", err, raw))
                    raise _Rejected from None
            else:
                email = self._map_email(number, values, issues)
            fields = self._map_fields(number, values, issues)
            identity = (
                self._map_identity(number, values, issues, fields)
                if self._needs_identity
                else self._plain_identity
            )
        except _Rejected:
            return MappedRow(number, email, tuple(issues))
        return MappedRow(number, email, tuple(issues) if issues else (), fields, identity)

    def _map_email(self, number: int, values: Mapping[str, object], issues: list[RowIssue]) -> str:
        _, column, function = self._email
        raw = values.get(column) if function is None else None
        try:
            if function is not None:
                raw = function(values)
            text = raw if type(raw) is str else (to_text(raw) or "")
            return normalise_email(text)
        except InvalidValueError as err:
            issues.append(_issue(number, "email", "error", err, raw))
            raise _Rejected from None

    def _map_fields(
        self, number: int, values: Mapping[str, object], issues: list[RowIssue]
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        get = values.get
        postal_number: object = None
        for key, field, column, function, limit, postal, seen in self._texts:
            value: Any = None
            try:
                value = get(column) if function is None else function(values)
                read = value
                if type(value) is str:
                    text = seen.get(value)
                    if text is not None:  # a value seen before, that came to this text cleanly
                        if text:
                            fields[key] = text
                        continue
                    if not value.isascii() and may_be_garbled(value):
                        value = self._unless_garbled(number, field, value, issues)
                    text = value.strip() if value.isprintable() else clean_text(value)
                    if (
                        postal
                        and "." in text  # rare: spares the other codes a regular expression
                        and (written := number_written(text)) is not None
                    ):
                        fields[key] = postal_number = written  # "2139.0": a number after all
                        continue
                elif postal and is_number(value):
                    # Decided once the row's country is known; it holds its place meanwhile.
                    fields[key] = postal_number = value
                    continue
                else:
                    text = to_text(value) or ""
                if len(text) > limit:
                    text = self._too_long(number, field, text, limit, issues)
                if text:
                    if text in MISSING_VALUE_TEXTS:
                        raise missing_value_error(text)
                    fields[key] = text
                # Kept as read (no repair, trimming, cleaning or cutting, so nothing reported):
                # the same value comes to the same text next time.
                if text is read and len(seen) < _MAX_KNOWN_TEXTS:
                    seen[read] = text
            except InvalidValueError as err:
                self._problem(number, field, err, value, issues)
        if self._country is not None:
            # Country columns repeat a few spellings: recognised raw values skip the rules.
            _, column, function = self._country
            raw = get(column) if function is None else None
            known = self._countries.get(raw) if type(raw) is str else None
            if known is not None:
                fields[_COUNTRY], fields[_COUNTRY_CODE] = known
            else:
                self._map_country(number, values, fields, issues)
        if postal_number is not None:
            self._map_postal_number(number, postal_number, fields, issues)
        elif (
            self._postal_mapped
            and (code := fields.get(_POSTAL_CODE)) is not None
            and len(code) < POSTAL_CODE_DIGITS.get(fields.get(_COUNTRY_CODE, ""), 0)
        ):
            self._pad_postal_digits(number, code, fields, issues)
        if self._more:
            self._map_more(number, values, fields, issues)
        return fields

    def _map_more(
        self,
        number: int,
        values: Mapping[str, object],
        fields: dict[str, Any],
        issues: list[RowIssue],
    ) -> None:
        """Gender, birthdate, tags and custom properties into ``fields``."""
        if self._gender is not None:
            gender = self._checked(number, self._gender, values, issues, normalise_gender)
            if gender is not None:
                fields[_GENDER] = gender
        if self._birthdate is not None:
            birthdate = self._checked(
                number, self._birthdate, values, issues, self._birthdate_of, prepare=_date
            )
            if birthdate is not None:
                fields[_BIRTHDATE] = format_date(birthdate)
        if self._tags:
            fields[_TAGS] = list(self._tags)
        if self._custom and (properties := self._map_custom(number, values, issues)):
            fields[_CUSTOM_PROPERTIES] = properties

    def _fetch(
        self,
        number: int,
        getter: _Getter,
        values: Mapping[str, object],
        issues: list[RowIssue],
        prepare: Callable[[Any], T | None],
    ) -> T | None:
        """A field's value through ``prepare``: ``None`` for no value; problems become issues."""
        field, column, function = getter
        value: Any = None
        try:
            value = values.get(column) if function is None else function(values)
            return prepare(value)
        except InvalidValueError as err:
            self._problem(number, field, err, value, issues)
            return None

    def _checked(
        self,
        number: int,
        getter: _Getter | None,
        values: Mapping[str, object],
        issues: list[RowIssue],
        rule: Callable[[Any], T],
        *,
        prepare: Callable[[Any], object] = to_text,
    ) -> T | None:
        """A field's value through ``prepare`` then its ``rule``; ``None`` for no value.

        ``None`` too for a field the mapping does not map (no getter). A problem is an issue about
        the value as the step that failed saw it, and leaves the field out (or rejects the row,
        see :meth:`_problem`).
        """
        if getter is None:
            return None
        value = self._fetch(number, getter, values, issues, prepare)
        if value is None:
            return None
        try:
            return rule(value)
        except InvalidValueError as err:
            self._problem(number, getter[0], err, value, issues)
            return None

    def _read(
        self, number: int, getter: _Getter, values: Mapping[str, object], issues: list[RowIssue]
    ) -> str:
        """A field's value as clean text ("" for no value); problems become issues."""
        return self._fetch(number, getter, values, issues, to_text) or ""

    def _map_country(
        self,
        number: int,
        values: Mapping[str, object],
        fields: dict[str, Any],
        issues: list[RowIssue],
    ) -> None:
        assert self._country is not None
        text = self._read(number, self._country, values, issues)
        if not text:
            return
        country = normalise_country(text)
        if country is not None:
            fields[_COUNTRY] = country.name
            fields[_COUNTRY_CODE] = country.code
            raw = values.get(self._country[1])
            if type(raw) is str and len(self._countries) < _MAX_CACHED_COUNTRIES:
                self._countries[raw] = (country.name, country.code)
            return
        # Not sent: Omnisend would derive a country code from the name, and a value no rule
        # confirms may well be the wrong one (a US state, a city, a typo).
        issues.append(
            RowIssue(
                row=number,
                field="country",
                severity="warning",
                code=_UNKNOWN_COUNTRY,
                message="not a known country: the contact is sent without one",
                value=mask_value("country", text),
            )
        )

    def _birthdate_of(self, value: date | str) -> date:
        return parse_birthdate(value, day_first=self.mapping.day_first, today=self._today)

    def _map_custom(
        self, number: int, values: Mapping[str, object], issues: list[RowIssue]
    ) -> dict[str, Any]:
        """The custom properties that have a value, as sent."""
        properties: dict[str, Any] = {}
        limit = MAX_CUSTOM_PROPERTY_VALUE_LENGTH
        for name, column in self._custom:
            field = f"custom_properties.{name}"
            value = values.get(column)
            if type(value) is str and not value.isascii() and may_be_garbled(value):
                value = self._unless_garbled(number, field, value, issues)
            try:
                found = normalise_property_value(value)
                if isinstance(found, str) and len(found) > limit:
                    found = self._too_long(number, field, found, limit, issues) or None
                elif isinstance(found, tuple):
                    items = (
                        self._too_long(number, field, item, limit, issues)
                        if len(item) > limit
                        else item
                        for item in found
                    )
                    found = [item for item in items if item] or None  # type: ignore[assignment]
            except InvalidValueError as err:
                self._problem(number, field, err, value, issues)
                continue
            if found is not None:
                properties[name] = found
        return properties

    def _map_identity(
        self,
        number: int,
        values: Mapping[str, object],
        issues: list[RowIssue],
        fields: Mapping[str, Any],
    ) -> ContactIdentity:
        phone = (
            self._checked(number, self._phone, values, issues, self._phone_rule(fields, issues))
            if self._phone
            else None
        )
        changed_at = self._checked(
            number, self._status_time, values, issues, parse_timestamp, prepare=_time
        )
        channel = self._checked(
            number,
            self._status,
            values,
            issues,
            lambda text: channel_state(normalise_status(text), changed_at, self._now),
        )
        consent = self._map_consent(number, values, changed_at, issues)
        return (self.mapping.send_welcome_message, channel, consent, phone)

    def _phone_rule(
        self, fields: Mapping[str, Any], issues: list[RowIssue]
    ) -> Callable[[str], str]:
        """The row's phone rule: E.164, national numbers read with the row's own country."""
        rules = self._phone_rules
        assert rules is not None
        country, no_country = self._phone_country(fields, issues)
        return lambda text: phone_to_e164(text, country, rules, no_country)

    def _phone_country(
        self, fields: Mapping[str, Any], issues: list[RowIssue]
    ) -> tuple[str | None, str]:
        """The country national phone numbers of a row belong to, and why there is none.

        The row's own recognised country wins; the default serves only rows without a country,
        never rows whose country is not recognised (reading them as the default's numbers is
        what sent a French number as British). Such a row's country is not sent: its issues
        say it had one.
        """
        code: str | None = fields.get(_COUNTRY_CODE)
        if code is not None:
            return code, NO_DEFAULT_COUNTRY
        if any(issue.code == _UNKNOWN_COUNTRY for issue in issues):
            return None, UNKNOWN_ROW_COUNTRY
        why = NO_DEFAULT_COUNTRY if self._country is None else NO_ROW_COUNTRY
        return self._default_phone_country, why

    def _map_consent(
        self,
        number: int,
        values: Mapping[str, object],
        changed_at: datetime | None,
        issues: list[RowIssue],
    ) -> Consent | None:
        if self._consent_source is None:
            return None
        source = self._read(number, self._consent_source, values, issues)
        if not source:
            return None
        if changed_at is None or changed_at > self._now:
            issues.append(
                RowIssue(
                    row=number,
                    field="consent_source",
                    severity="warning",
                    code="consent_without_time",
                    message="consent not sent: no valid time in the data, and Omnisend would"
                    " record it as now",
                )
            )
            return None
        ip = self._checked(number, self._consent_ip, values, issues, _ip_address)
        agent: str | None = None
        if self._consent_agent is not None:
            agent = self._read(number, self._consent_agent, values, issues)
            if len(agent) > MAX_TEXT_LENGTH:
                agent = self._too_long(number, "consent_user_agent", agent, MAX_TEXT_LENGTH, issues)
        return Consent(
            source=truncate(source, MAX_TEXT_LENGTH),
            created_at=changed_at,
            ip=ip,
            user_agent=agent or None,
        )

    def _unless_garbled(self, number: int, field: str, text: str, issues: list[RowIssue]) -> str:
        """Text a UTF-8 -> Latin-1 round trip garbled (``JosÃ©``), repaired with a warning; any
        other text as it is."""
        repaired = repaired_encoding(text)
        if repaired is None:
            return text
        issues.append(
            RowIssue(
                row=number,
                field=field,
                severity="warning",
                code="repaired_encoding",
                message="UTF-8 text that was read as Latin-1 (é as Ã©): sent repaired",
                value=mask_value(field, repaired),
            )
        )
        return repaired

    def _pad_postal_digits(
        self, number: int, code: str, fields: dict[str, Any], issues: list[RowIssue]
    ) -> None:
        """A postal code written as fewer digits than its country's codes have, with the zeros
        a spreadsheet dropped put back (and a warning); any other as written."""
        country = fields.get(_COUNTRY_CODE)
        padded = padded_digits(code, country)
        if padded is None:
            return
        fields[_POSTAL_CODE] = padded[0]
        issues.append(_restored(number, code, restored_message(*padded, country or "", text=True)))

    def _map_postal_number(
        self, number: int, value: object, fields: dict[str, Any], issues: list[RowIssue]
    ) -> None:
        """A postal code given as a number: sent with the leading zeros its country's codes
        have put back (with a warning, the source should hold text), or not sent."""
        try:
            code, restored = postal_code_of_number(value, fields.get(_COUNTRY_CODE))
        except InvalidValueError as err:
            del fields[_POSTAL_CODE]
            self._problem(number, "postal_code", err, value, issues)
            return
        fields[_POSTAL_CODE] = code
        if restored:
            message = restored_message(code, restored, fields[_COUNTRY_CODE])
            issues.append(_restored(number, value, message))

    def _too_long(
        self, number: int, field: str, text: str, limit: int, issues: list[RowIssue]
    ) -> str:
        """Apply the long-text policy: the text to keep ("" to drop it), or reject the row."""
        policy = self._long_text
        severity: Severity = "error" if policy == "reject" else "warning"
        action = {"truncate": "truncated", "drop": "not sent", "reject": "row rejected"}[policy]
        issues.append(
            RowIssue(
                row=number,
                field=field,
                severity=severity,
                code="too_long",
                message=f"{len(text)} characters, over the limit of {limit}: {action}",
                value=mask_value(field, text),
            )
        )
        if policy == "reject":
            raise _Rejected
        return truncate(text, limit) if policy == "truncate" else ""

    def _problem(
        self,
        number: int,
        field: str,
        error: InvalidValueError,
        value: object,
        issues: list[RowIssue],
    ) -> None:
        """Record a field's problem: a warning (the field is not sent), or reject the row."""
        rejecting = error.code in _REJECTING
        issues.append(_issue(number, field, "error" if rejecting else "warning", error, value))
        if rejecting:
            raise _Rejected


def _date(value: object) -> date | str | None:
    """A birthdate as read: a date object as it is, anything else as text."""
    return value if isinstance(value, date) else to_text(value)


def _time(value: object) -> object:
    """A status time as read: text cleaned; ``None`` for no value (empty text, NaN)."""
    if isinstance(value, str):
        value = clean_text(value)
    if value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _ip_address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidValueError("invalid_ip", "not an IPv4 or IPv6 address") from None


def _restored(number: int, value: object, message: str) -> RowIssue:
    """The warning of a postal code that got back the leading zeros it lost."""
    return RowIssue(
        row=number,
        field="postal_code",
        severity="warning",
        code="restored_postal_code",
        message=message,
        value=mask_value("postal_code", value),
    )


def _issue(
    number: int, field: str, severity: Severity, error: InvalidValueError, value: object
) -> RowIssue:
    return RowIssue(
        row=number,
        field=field,
        severity=severity,
        code=error.code,
        message=error.message,
        value=mask_value(field, value),
    )


def _guarded(field: str, function: RowFunction) -> RowFunction:
    """Wrap a user's function so that its failure becomes an issue that rejects the row."""
    name = describe(function)

    def call(values: Mapping[str, object]) -> object:
        try:
            return function(values)
        except Exception as err:
            raise InvalidValueError(
                "callable_failed", f"{field}: {name} raised {type(err).__name__}"
            ) from err

    return call
