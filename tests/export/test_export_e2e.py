"""export_segment() against the emulator: Omnisend's final state, the report, the safety audit."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnisend_sdk import (
    AsyncOmnisendClient,
    ExportFailedError,
    ExportLimitError,
    MappingError,
    PrivacyAcknowledgementError,
    RateLimiter,
    acknowledge_privacy,
    export_segment,
    export_segment_async,
)
from omnisend_sdk.export import Connection, FunctionProgress, UserNotAllowedError
from omnisend_sdk.testing import EMULATOR_API_KEY, FaultPlan, OmnisendEmulator
from tests.export.conftest import (
    LOCAL_URL,
    MAPPING,
    TIME_SCALE,
    expected_email,
    make_client,
    make_emulator,
    segment_rows,
)


def export(client: Any, rows: Any, state_dir: Path, **options: Any) -> Any:
    options.setdefault("progress", None)
    return export_segment(
        rows, MAPPING, client=client, segment="VIP customers", state_dir=state_dir, **options
    )


def assert_adds_up(report: Any) -> None:
    assert report.rows_read == report.exported + report.skipped + report.failed + report.not_sent


def test_a_clean_export_lands_every_contact_once(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(1_000)
    rows.insert(10, {"Email": "not-an-email", "First": "Bad", "Last": "Row", "Country": "UK"})
    rows.append({"Email": "PERSON3@example.com", "First": "Dup", "Last": "Row", "Country": "UK"})

    report = export(client, rows, state_dir)
    emulator.run_until_idle()

    assert report.status == "completed"
    assert (report.rows_read, report.exported, report.invalid, report.duplicates) == (
        1002,
        1000,
        1,
        1,
    )
    assert report.failed == report.not_sent == 0
    assert_adds_up(report)
    stored = {c["email"]: c for c in emulator.contacts()}
    assert set(stored) == {expected_email(i) for i in range(1_000)}
    assert stored["person3@example.com"]["firstName"] == "First3"  # the first row wins
    assert stored["person1@example.com"]["countryCode"] == "GB"
    assert all(c["tags"] == ["VIP customers"] for c in stored.values())
    assert report.tagged == 1_000
    assert sum(b["totalCount"] for b in emulator.batches()) == 1_000  # nothing sent twice
    audit = emulator.stats
    assert (audit.welcome_messages, audit.resubscriptions, audit.tag_replacements) == (0, 0, 0)
    assert {i.row: i.code for i in report.issues} == {10: "invalid_email", 1001: "duplicate_email"}


def test_faults_of_every_kind_lose_nothing_and_duplicate_nothing(state_dir: Path) -> None:
    faults = FaultPlan(
        seed=11, rate_limit=0.02, server_error=0.03, timeout=0.02, lost_answer=0.02, reset=0.01
    )
    emulator = make_emulator(faults=faults)
    rows = segment_rows(20_000)
    for i in range(0, 20_000, 50):  # 2% invalid rows
        rows[i] = {**rows[i], "Email": f"broken{i}.example.com"}

    with make_client(emulator) as client:
        report = export(client, rows, state_dir)
    emulator.run_until_idle()

    valid = {expected_email(i) for i in range(20_000) if i % 50}
    assert report.status == "completed"
    assert report.exported == len(valid) == 19_600
    assert (report.invalid, report.failed, report.not_sent) == (400, 0, 0)
    assert_adds_up(report)
    assert {c["email"] for c in emulator.contacts()} == valid
    assert sum(b["totalCount"] for b in emulator.batches()) == len(valid)
    assert all(c["tags"] == ["VIP customers"] for c in emulator.contacts())
    assert {r.fault for r in emulator.requests} >= {
        "rate_limit",
        "server_error",
        "timeout",
        "reset",
    }
    assert any(r.fault == "timeout" and r.status == 201 for r in emulator.requests)  # lost answers
    assert report.retries > 0
    assert report.rate_limited > 0
    assert emulator.stats.welcome_messages == 0


def test_membership_none_adds_no_tag(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    report = export(client, segment_rows(300), state_dir, membership="none")
    emulator.run_until_idle()

    assert report.tagged == 0
    assert report.segment_tag is None
    assert "tags" not in emulator.stats.requests
    assert all(c["tags"] == [] for c in emulator.contacts())


def test_the_segment_tag_never_replaces_other_tags(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    emulator.add_contact(
        {"identifiers": [{"type": "email", "id": "person1@example.com"}], "tags": ["loyal"]}
    )

    export(client, segment_rows(5), state_dir, segment_tag="spring")
    emulator.run_until_idle()

    assert sorted(emulator.contact("person1@example.com")["tags"]) == ["loyal", "spring"]
    assert emulator.stats.tag_replacements == 0


def test_dry_run_sends_nothing(emulator: OmnisendEmulator, client: Any, state_dir: Path) -> None:
    rows = [*segment_rows(250), {"Email": "nope", "First": "", "Last": "", "Country": ""}]

    report = export(client, rows, state_dir, dry_run=True)

    assert report.dry_run
    assert (report.rows_read, report.not_sent, report.invalid, report.exported) == (251, 250, 1, 0)
    assert emulator.requests == []


def test_a_counted_segment_over_the_cap_fails_before_sending(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    with pytest.raises(ExportLimitError, match="101 rows, over the limit of 100"):
        export(client, segment_rows(101), state_dir, max_profiles=1_000, contract_cap=100)
    assert emulator.requests == []


def test_truncate_sends_the_first_profiles_and_reports_the_rest(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    report = export(client, segment_rows(250), state_dir, max_profiles=200, on_limit="truncate")

    assert (report.exported, report.over_limit, report.status) == (200, 50, "completed")
    assert_adds_up(report)
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(200)}
    assert all(i.code == "over_limit" for i in report.issues)


def test_an_uncounted_segment_stops_at_the_cap(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    report = export(client, iter(segment_rows(250)), state_dir, max_profiles=200)

    assert report.status == "limit_exceeded"
    assert (report.exported, report.over_limit) == (200, 1)
    assert_adds_up(report)


def test_a_missing_email_column_sends_nothing(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = [{"EmailAddress": "a@b.co"}]
    with pytest.raises(MappingError, match="EmailAddress"):
        export(client, rows, state_dir)
    assert emulator.requests == []


def test_the_deadline_stops_cleanly_and_a_rerun_finishes(state_dir: Path) -> None:
    emulator = make_emulator()
    rows = segment_rows(3_000)
    slow = RateLimiter(requests_per_minute=10, window=1.0)  # 10 requests a second

    with make_client(emulator, rate_limiter=slow) as client:
        first = export(client, rows, state_dir, deadline=1.5, concurrency=4)
    assert first.status == "partial"
    assert 0 < first.exported < 3_000
    assert first.not_sent > 0
    assert_adds_up(first)

    with make_client(emulator) as client:
        second = export(client, rows, state_dir)
    emulator.run_until_idle()
    assert second.status == "completed"
    assert second.exported == 3_000
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(3_000)}
    assert sum(b["totalCount"] for b in emulator.batches()) == 3_000


def test_cancel_returns_a_partial_report_and_a_rerun_finishes(state_dir: Path) -> None:
    emulator = make_emulator()
    cancel = threading.Event()
    progress = FunctionProgress(on_batch_sent=lambda rows: cancel.set())

    with make_client(
        emulator, rate_limiter=RateLimiter(requests_per_minute=10, window=1.0)
    ) as client:
        first = export_segment(
            segment_rows(2_000), MAPPING, client=client, segment="VIP customers",
            state_dir=state_dir, progress=progress, cancel=cancel,
        )  # fmt: skip
    assert first.status == "cancelled"
    assert first.exported < 2_000
    assert_adds_up(first)

    with make_client(emulator) as client:
        second = export(client, segment_rows(2_000), state_dir)
    assert (second.status, second.exported) == ("completed", 2_000)
    assert sum(b["totalCount"] for b in emulator.batches()) == 2_000


def test_a_remote_store_needs_a_privacy_acknowledgement(
    emulator: OmnisendEmulator, state_dir: Path
) -> None:
    remote = "https://api.omnisend.com/api"
    with make_client(emulator, base_url=remote) as client:
        with pytest.raises(PrivacyAcknowledgementError, match="acknowledge_privacy"):
            export(client, segment_rows(3), state_dir)
        assert emulator.requests == []

        acknowledge_privacy(client, by="Dana Data-Owner", state_dir=state_dir)
        report = export(client, segment_rows(3), state_dir)

    assert report.privacy is not None
    assert report.privacy.by == "Dana Data-Owner"
    assert report.privacy.key_fingerprint == report.key_fingerprint
    assert report.exported == 3


def test_a_user_not_allowed_cannot_export(emulator: OmnisendEmulator, state_dir: Path) -> None:
    connection = Connection(
        "local", EMULATOR_API_KEY, base_url=LOCAL_URL, allowed_users=["someone-else"],
        state_dir=state_dir,
    )  # fmt: skip
    with pytest.raises(UserNotAllowedError):
        export_segment(
            segment_rows(3), MAPPING, connection=connection, segment="VIP", run_by="me",
            state_dir=state_dir, progress=None,
        )  # fmt: skip
    assert emulator.requests == []


def test_a_connection_exports_with_its_own_client(
    emulator: OmnisendEmulator, state_dir: Path
) -> None:
    connection = Connection("local", EMULATOR_API_KEY, base_url=LOCAL_URL, state_dir=state_dir)
    options = {
        "http_client": httpx.Client(transport=emulator.transport()),
        "rate_limiter": RateLimiter(window=60 / TIME_SCALE),
    }

    report = export_segment(
        segment_rows(150), MAPPING, connection=connection, segment="VIP", state_dir=state_dir,
        progress=None, client_options=options,
    )  # fmt: skip

    assert (report.connection_name, report.exported) == ("local", 150)


async def test_the_async_export_with_an_async_client(
    emulator: OmnisendEmulator, state_dir: Path
) -> None:
    async with AsyncOmnisendClient(
        EMULATOR_API_KEY,
        base_url=LOCAL_URL,
        http_client=httpx.AsyncClient(transport=emulator.transport()),
        rate_limiter=RateLimiter(window=60 / TIME_SCALE),
    ) as client:
        report = await export_segment_async(
            segment_rows(500), MAPPING, client=client, segment="VIP", state_dir=state_dir,
            progress=None,
        )  # fmt: skip
    assert report.exported == 500
    assert len(emulator.contacts()) == 500


async def test_the_sync_export_works_inside_a_running_event_loop(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    asyncio.get_running_loop()  # as in a notebook cell
    report = export(client, segment_rows(120), state_dir)
    assert report.exported == 120


def test_a_csv_over_the_cap_is_counted_first_and_fails_before_sending(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, tmp_path: Path
) -> None:
    csv_file = tmp_path / "segment.csv"
    lines = ["Email,First,Last,Country"] + [f"p{i}@example.com,F,L,UK" for i in range(120)]
    csv_file.write_text("\n".join(lines) + "\n")

    with pytest.raises(ExportLimitError, match="120 rows, over the limit of 100"):
        export(client, csv_file, state_dir, max_profiles=100)
    assert emulator.requests == []

    report = export(client, csv_file, state_dir, max_profiles=100, on_limit="truncate")
    assert (report.exported, report.over_limit) == (100, 20)


@pytest.mark.parametrize(
    "source",
    [pytest.param([], id="empty list"), pytest.param(iter(()), id="exhausted iterator")],
)
def test_reading_no_rows_is_not_a_success(client: Any, state_dir: Path, source: Any) -> None:
    report = export_segment(
        source, MAPPING, client=client, segment="VIP", state_dir=state_dir, progress=None
    )

    assert (report.status, report.rows_read, report.exported) == ("empty", 0, 0)
    assert "the source gave no rows" in str(report)
    with pytest.raises(ExportFailedError, match="the source gave no rows"):
        report.raise_for_failures()
    assert report.raise_for_failures(allow_empty=True) is report
