"""Properties over generated input: no crash, idempotent rules, schema-valid identical JSON."""

from __future__ import annotations

import contextlib
import string
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk import _json
from omnisend_sdk._wire import contact_to_json
from omnisend_sdk.mapping import (
    ContactMapping,
    InvalidValueError,
    RowMapper,
    clean_text,
    normalise_country,
    normalise_email,
    normalise_phone,
    normalise_status,
    parse_birthdate,
)
from tests.mapping._schema import mapped_contact_problems

NOW = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = ("email", "first", "street", "line2", "country", "phone", "gender", "birthday",
           "status", "since", "form", "tier", "zip")  # fmt: skip
MAPPING = ContactMapping(
    email="email",
    first_name="first",
    address=("street", "line2"),
    country="country",
    postal_code="zip",
    phone="phone",
    gender="gender",
    birthdate="birthday",
    email_status="status",
    email_status_changed_at="since",
    consent_source="form",
    custom_properties={"tier": "tier"},
    default_phone_country="GB",
)
MAPPER = RowMapper(MAPPING, {c: c for c in COLUMNS}, now=NOW)

emailish = st.one_of(
    st.emails().map(lambda e: f"  {e.upper()} "),
    st.text(alphabet=string.ascii_letters + "@.-_ +", max_size=40),
    st.text(max_size=40),
)
scalar = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.binary(max_size=20),
    st.dates(),
    st.datetimes(),
    st.lists(st.text(max_size=10), max_size=3),
)
rows = st.fixed_dictionaries(
    {"email": st.one_of(emailish, scalar)},
    optional={
        column: st.one_of(scalar, st.sampled_from(["UK", "subscribed", "2024-01-01", "m"]))
        for column in COLUMNS[1:]
    },
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_any_row_maps_to_a_valid_contact_or_issues(row: dict[str, object]) -> None:
    mapped = MAPPER.map(1, row)  # never raises
    assert all(issue.row == 1 for issue in mapped.issues)
    if not mapped.ok:
        assert any(issue.severity == "error" for issue in mapped.issues)
        return
    contact = mapped.contact
    assert contact is not None
    for version in ("2026-03-15", "v3"):
        fast = mapped.to_json(version)  # type: ignore[arg-type]
        assert fast == contact_to_json(contact, version)  # type: ignore[arg-type]
        assert _json.dumps(fast) == _json.stdlib_dumps(fast)
    assert mapped_contact_problems(mapped.to_json()) == []  # type: ignore[arg-type]


def _idempotent(rule: object, value: str) -> None:
    try:
        once = rule(value)  # type: ignore[operator]
    except InvalidValueError:
        return
    assert rule(once) == once  # type: ignore[operator]


@given(emailish)
def test_email_rule(value: str) -> None:
    _idempotent(normalise_email, value)


@given(st.text())
def test_text_rule(value: str) -> None:
    _idempotent(clean_text, value)


@given(st.one_of(st.text(max_size=20), st.from_regex(r"\+?[0-9 ()-]{5,20}", fullmatch=True)))
def test_phone_rule(value: str) -> None:
    _idempotent(lambda v: normalise_phone(v, "GB"), value)


@given(st.text(max_size=30))
def test_other_rules_raise_only_invalid_value(value: str) -> None:
    for rule in (normalise_status, parse_birthdate, normalise_country):
        with contextlib.suppress(InvalidValueError):
            rule(value)  # type: ignore[operator]
