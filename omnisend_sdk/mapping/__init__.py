"""Segment rows to Omnisend contacts: the mapping, the per-row rules, and the issues they report.

Pure: no network, no file reading (files are :mod:`omnisend_sdk.sources`' job), no client import.

- :class:`ContactMapping` says where each contact field comes from; :meth:`~ContactMapping.preview`
  shows what one row becomes; :meth:`RowMapper.bind` binds it to a source's columns, and
  :func:`map_rows` maps a whole source, duplicates handled.
- Each rule is a function of its own, usable alone: :func:`normalise_email`,
  :func:`normalise_country`, :func:`normalise_phone`, :func:`parse_birthdate`,
  :func:`normalise_gender`, :func:`normalise_status`, :func:`clean_text`...
- Every problem in a row is a :class:`RowIssue`; rule functions raise :class:`InvalidValueError`.
"""

from omnisend_sdk.mapping._country import Country, country_by_code, normalise_country
from omnisend_sdk.mapping._custom import check_property_names, normalise_property_value
from omnisend_sdk.mapping._dates import parse_birthdate, parse_timestamp
from omnisend_sdk.mapping._dedupe import InMemorySeenEmails, SeenEmails, is_duplicate
from omnisend_sdk.mapping._email import normalise_email
from omnisend_sdk.mapping._first_rows import CompactSeenEmails, FirstRowTable
from omnisend_sdk.mapping._gender import normalise_gender
from omnisend_sdk.mapping._issues import (
    InvalidValueError,
    RowIssue,
    Severity,
    mask_email,
    mask_value,
)
from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._mapping import ContactMapping
from omnisend_sdk.mapping._phone import normalise_phone
from omnisend_sdk.mapping._records import KnownRecord, RecordFingerprints, RecordText, record_text
from omnisend_sdk.mapping._row import Row, RowSource
from omnisend_sdk.mapping._spec import DUPLICATE_POLICIES, DuplicatePolicy
from omnisend_sdk.mapping._status import channel_state, normalise_status
from omnisend_sdk.mapping._stream import map_rows
from omnisend_sdk.mapping._targets import AddressSource, Constant, FieldSource, RowFunction
from omnisend_sdk.mapping._text import LONG_TEXT_POLICIES, LongTextPolicy, clean_text, to_text

__all__ = [
    "DUPLICATE_POLICIES",
    "LONG_TEXT_POLICIES",
    "AddressSource",
    "CompactSeenEmails",
    "Constant",
    "ContactMapping",
    "Country",
    "DuplicatePolicy",
    "FieldSource",
    "FirstRowTable",
    "InMemorySeenEmails",
    "InvalidValueError",
    "KnownRecord",
    "LongTextPolicy",
    "MappedRow",
    "RecordFingerprints",
    "RecordText",
    "Row",
    "RowFunction",
    "RowIssue",
    "RowMapper",
    "RowSource",
    "SeenEmails",
    "Severity",
    "channel_state",
    "check_property_names",
    "clean_text",
    "country_by_code",
    "is_duplicate",
    "map_rows",
    "mask_email",
    "mask_value",
    "normalise_country",
    "normalise_email",
    "normalise_gender",
    "normalise_phone",
    "normalise_property_value",
    "normalise_status",
    "parse_birthdate",
    "parse_timestamp",
    "record_text",
    "to_text",
]
