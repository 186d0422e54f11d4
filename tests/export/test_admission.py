"""Admission: one decision per row, shared by the engine and the dry run, so the two agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnisend_sdk import ContactMapping, ExportLimitError, export_segment
from omnisend_sdk.export import ExportLimits
from omnisend_sdk.export._admission import Admission
from omnisend_sdk.mapping import map_rows
from omnisend_sdk.sources import open_source
from tests.export.conftest import make_client, make_emulator

MAPPING = ContactMapping(email="Email", first_name="First", country="Country", phone="Phone")


def decisions(rows: list[dict[str, Any]], limits: ExportLimits, **mapping: Any) -> list[Any]:
    admission = Admission(limits)
    contact_mapping = attrs.evolve(MAPPING, **mapping)
    mapped = map_rows(contact_mapping, open_source(rows))
    return [(m.row, *admission.decide(m)) for m in mapped]


def row(email: str, country: str = "Germany", phone: str = "") -> dict[str, str]:
    return {"Email": email, "First": "Ann", "Country": country, "Phone": phone}


@pytest.mark.parametrize(
    ("rows", "limits", "expected"),
    [
        pytest.param(
            [row("a@x.com"), row("bad"), row("A@x.com")],
            ExportLimits(),
            [("send", ()), ("invalid", ("invalid_email",)), ("duplicate", ("duplicate_email",))],
            id="valid, invalid and a repeat",
        ),
        pytest.param(
            [row("a@x.com"), row("b@x.com", country="Atlantis"), row("c@x.com")],
            ExportLimits(max_profiles=1, on_limit="truncate"),
            [("send", ()), ("over_limit", ("over_limit",)), ("over_limit", ("over_limit",))],
            id="over the cap: only the over-limit issue, not warnings about unsent values",
        ),
        pytest.param(
            [row("a@x.com", country="Atlantis"), row("b@x.com")],
            ExportLimits(max_profiles=2),
            [("send", ("unknown_country",)), ("send", ())],
            id="a row sent keeps its warnings",
        ),
        pytest.param(
            [row("a@x.com"), row("bad"), row("b@x.com"), row("a@x.com")],
            ExportLimits(contract_cap=1, on_limit="truncate"),
            [
                ("send", ()),
                ("invalid", ("invalid_email",)),
                ("over_limit", ("over_limit",)),
                ("duplicate", ("duplicate_email",)),
            ],
            id="invalid and duplicate rows use no room under the cap",
        ),
    ],
)
def test_each_row_gets_one_decision(
    rows: list[dict[str, str]], limits: ExportLimits, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    found = [
        (outcome, tuple(i.code for i in issues)) for _, outcome, issues in decisions(rows, limits)
    ]
    assert found == expected


def test_on_limit_fail_marks_the_first_row_over_the_cap() -> None:
    admission = Admission(ExportLimits(max_profiles=1))
    mapped = list(map_rows(MAPPING, open_source([row("a@x.com"), row("b@x.com")])))
    assert admission.decide(mapped[0]).outcome == "send"
    assert not admission.limit_reached
    assert admission.decide(mapped[1]).outcome == "over_limit"
    assert admission.limit_reached


def test_rows_an_earlier_run_admitted_count_against_the_cap() -> None:
    admission = Admission(ExportLimits(max_profiles=2, on_limit="truncate"), admitted=2)
    [mapped] = map_rows(MAPPING, open_source([row("a@x.com")]))
    assert admission.decide(mapped).outcome == "over_limit"


# --- the dry run says what the real run does --------------------------------------------------

EMAILS = [f"person{i}@example.com" for i in range(12)]
profile = st.fixed_dictionaries(
    {
        "Email": st.one_of(
            st.sampled_from(EMAILS),
            st.sampled_from(EMAILS).map(str.upper),
            st.sampled_from(["", "not-an-email", "a@@b"]),
        ),
        "First": st.sampled_from(["Ann", "", "Bob"]),
        "Country": st.sampled_from(["Germany", "UK", "Atlantis", ""]),
        "Phone": st.sampled_from(["", "+370 600 12345", "12", "+44 20 7946 0958"]),
    }
)
option_sets = st.one_of(
    st.fixed_dictionaries(
        {"max_profiles": st.integers(1, 8), "on_limit": st.just("truncate")},
    ),
    st.fixed_dictionaries({"contract_cap": st.integers(1, 8), "on_limit": st.just("truncate")}),
    st.fixed_dictionaries({"max_profiles": st.integers(1, 20), "on_limit": st.just("fail")}),
    st.just({}),
)


def outcome(rows: list[dict[str, str]], mapping: ContactMapping, state: Path, **options: Any):
    """The report of an export, or the limit error it raised."""
    emulator = make_emulator()
    with make_client(emulator) as client:
        try:
            return export_segment(
                rows,
                mapping,
                client=client,
                segment="VIP",
                state_dir=state,
                progress=None,
                resume=False,
                **options,
            )
        except ExportLimitError as error:
            return error


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(profile, min_size=1, max_size=30),
    options=option_sets,
    duplicates=st.sampled_from(["first", "last"]),
)
def test_the_dry_run_counts_and_issues_equal_the_real_run(
    tmp_path: Path, rows: list[dict[str, str]], options: dict[str, Any], duplicates: str
) -> None:
    mapping = attrs.evolve(MAPPING, duplicates=duplicates)
    dry = outcome(rows, mapping, tmp_path / "dry", dry_run=True, **options)
    real = outcome(rows, mapping, tmp_path / "real", **options)

    if isinstance(real, ExportLimitError):
        assert isinstance(dry, ExportLimitError)
        assert (dry.rows, dry.cap) == (real.rows, real.cap)
        return
    assert not isinstance(dry, ExportLimitError)
    assert real.status == "completed"
    assert real.failed == 0  # the mapper admits only what Omnisend accepts
    counts = ("rows_read", "invalid", "duplicates", "over_limit")
    assert [getattr(dry, name) for name in counts] == [getattr(real, name) for name in counts]
    assert dry.not_sent == real.exported  # what the dry run would send is what the run sent
    assert {(i.row, i.code) for i in dry.issues} == {(i.row, i.code) for i in real.issues}
