"""ExportReport: counts that add up, safe outputs (JSON, CSV, str, HTML), the builder."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk._errors import OmnisendError
from omnisend_sdk._privacy import PrivacyAcknowledgement
from omnisend_sdk.export._report import (
    ISSUE_COLUMNS,
    ExportFailedError,
    ExportReport,
    ReportInconsistentError,
)
from omnisend_sdk.mapping._issues import RowIssue

START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ACK = PrivacyAcknowledgement(
    connection_name="prod",
    by="Jane Roe",
    at=START - timedelta(days=1),
    key_fingerprint="sha256:0123456789ab",
    base_url="https://api.omnisend.com/api",
)


def issue(row: int, code: str = "invalid_email", **changes: Any) -> RowIssue:
    values: dict[str, Any] = {
        "row": row,
        "field": "email",
        "severity": "error",
        "code": code,
        "message": "not an email address",
        "value": "j***@e***.com",
    }
    return RowIssue(**(values | changes))


def make(**changes: Any) -> ExportReport:
    """A consistent report: 100 rows = 90 exported + 6 skipped + 3 failed + 1 not sent."""
    values: dict[str, Any] = {
        "segment": "VIP customers",
        "connection_name": "prod",
        "key_fingerprint": "sha256:0123456789ab",
        "privacy": ACK,
        "run_by": "jane",
        "dry_run": False,
        "status": "completed",
        "rows_read": 100,
        "created": 60,
        "updated": 20,
        "upserted": 10,
        "invalid": 3,
        "duplicates": 2,
        "over_limit": 1,
        "failed": 3,
        "not_sent": 1,
        "tagged": 88,
        "tag_failed": 2,
        "membership": "tag",
        "segment_tag": "VIP customers",
        "requests": 12,
        "retries": 1,
        "rate_limited": 1,
        "batches": 2,
        "started_at": START,
        "finished_at": START + timedelta(minutes=2),
        "max_contacts_per_minute": 40_000.0,
        "issues": (issue(7), issue(3, "duplicate_email", related_row=1), issue(5)),
    }
    return ExportReport(**(values | changes))


def test_derived_counts_and_rate() -> None:
    report = make()
    assert (report.exported, report.skipped, report.valid) == (90, 6, 94)
    assert report.duration == timedelta(minutes=2)
    assert report.contacts_per_minute == pytest.approx(45.0)


def test_no_time_means_no_rate() -> None:
    assert make(finished_at=START).contacts_per_minute == 0.0


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"rows_read": 101}, "rows_read 101"),
        ({"created": 61}, "rows_read 100"),
        ({"invalid": 2}, "rows_read 100"),
        ({"not_sent": 0}, "rows_read 100"),
        ({"tagged": 89}, "tagged 89 + tag_failed 2 > exported 90"),
        ({"membership": "none", "segment_tag": None}, "membership is 'none'"),
        ({"finished_at": START - timedelta(seconds=1)}, "before started_at"),
    ],
)
def test_counts_that_do_not_add_up_are_refused(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ReportInconsistentError, match="does not add up") as caught:
        make(**changes)
    assert complaint in str(caught.value)
    assert isinstance(caught.value, OmnisendError)


@pytest.mark.parametrize(
    "changes",
    [
        {"created": -1, "rows_read": 99},
        {"status": "done"},
        {"membership": "replace"},
        {"started_at": datetime(2026, 3, 20, 9, 0)},  # naive: ambiguous in a report
    ],
)
def test_invalid_values_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises((ValueError, ReportInconsistentError)):
        make(**changes)


def test_issues_are_sorted_by_row_keeping_order_within_a_row() -> None:
    report = make(issues=[issue(9, "b"), issue(2), issue(9, "a")])
    assert [(i.row, i.code) for i in report.issues] == [(2, "invalid_email"), (9, "b"), (9, "a")]


def test_unmasked_addresses_in_issues_are_masked() -> None:
    leaky = issue(4, message="Omnisend refused jane.doe@example.com: blocked", value="x@y.org")
    report = make(issues=[leaky])
    assert "jane.doe@example.com" not in report.to_json()
    assert report.issues[0].message == "Omnisend refused j***@e***.com: blocked"
    assert report.issues[0].value == "x***@y***.org"


CLEAN = {
    "failed": 0,
    "invalid": 0,
    "duplicates": 5,
    "created": 63,
    "tag_failed": 0,
    "issues": (),
}


@pytest.mark.parametrize(
    ("changes", "max_invalid", "raises", "says"),
    [
        (CLEAN, None, False, ""),
        # Invalid and duplicate rows are reported, not a failure, until they pass the budget.
        (CLEAN | {"invalid": 3, "duplicates": 2}, None, False, ""),
        (CLEAN | {"invalid": 3, "duplicates": 2}, 5, False, ""),
        (
            CLEAN | {"invalid": 3, "duplicates": 3, "created": 62},
            5,
            True,
            "6 invalid or duplicate rows",
        ),
        (CLEAN | {"invalid": 3, "duplicates": 2}, "5%", False, ""),  # 5 of 100 rows
        (CLEAN | {"invalid": 3, "duplicates": 2}, "4.5%", True, "max_invalid 4.5%"),
        (
            CLEAN | {"invalid": 1, "duplicates": 0, "created": 67},
            0,
            True,
            "1 invalid or duplicate rows",
        ),
        # Rows over a cap the caller chose are skipped on purpose.
        (CLEAN | {"duplicates": 0, "over_limit": 5, "created": 64}, 0, False, ""),
        (CLEAN | {"failed": 3, "created": 60}, None, True, "3 failed"),
        (CLEAN | {"tagged": 60, "tag_failed": 3}, None, True, "3 not tagged"),
        (CLEAN | {"status": "partial"}, None, True, "deadline"),
        (CLEAN | {"status": "cancelled"}, None, True, "cancelled"),
        (CLEAN | {"status": "limit_exceeded"}, None, True, "limit"),
    ],
)
def test_raise_for_failures(
    changes: dict[str, Any], max_invalid: int | str | None, raises: bool, says: str
) -> None:
    report = make(**changes)
    assert (report.failures(max_invalid=max_invalid) != []) is raises
    if not raises:
        assert report.raise_for_failures(max_invalid=max_invalid) is report
        return
    with pytest.raises(ExportFailedError, match=says) as caught:
        report.raise_for_failures(max_invalid=max_invalid)
    assert caught.value.report is report
    assert "'VIP customers'" in str(caught.value)


def test_allow_invalid_is_deprecated_and_changes_nothing() -> None:
    report = make(**(CLEAN | {"invalid": 3, "duplicates": 2}))
    with pytest.warns(DeprecationWarning, match="max_invalid"):
        assert report.raise_for_failures(allow_invalid=False) is report


@pytest.mark.parametrize("max_invalid", [-1, "-2%", "101%", "lots", "5 %%", True, 2.5])
def test_a_malformed_budget_is_refused(max_invalid: Any) -> None:
    with pytest.raises(ValueError, match="max_invalid"):
        make().raise_for_failures(max_invalid=max_invalid)


def test_to_dict_is_json_safe_and_complete() -> None:
    data = json.loads(make().to_json())
    assert data["started_at"] == "2026-03-20T09:00:00+00:00"
    assert data["duration_seconds"] == 120.0
    assert (data["exported"], data["skipped"], data["rows_read"]) == (90, 6, 100)
    assert data["contacts_per_minute"] == pytest.approx(45.0)
    assert data["privacy"] == ACK.to_dict()
    assert [i["row"] for i in data["issues"]] == [3, 5, 7]
    assert data["issues"][0] == {
        "row": 3,
        "field": "email",
        "severity": "error",
        "code": "duplicate_email",
        "message": "not an email address",
        "value": "j***@e***.com",
        "related_row": 1,
    }
    assert json.loads(make(privacy=None).to_json(indent=None))["privacy"] is None


def test_issues_csv(tmp_path: Path) -> None:
    path = make().write_issues_csv(tmp_path / "issues.csv")
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == ISSUE_COLUMNS
    assert rows[1:] == [
        ["3", "email", "error", "duplicate_email", "not an email address", "j***@e***.com", "1"],
        ["5", "email", "error", "invalid_email", "not an email address", "j***@e***.com", ""],
        ["7", "email", "error", "invalid_email", "not an email address", "j***@e***.com", ""],
    ]


def test_issues_csv_never_holds_a_full_address(tmp_path: Path) -> None:
    leaky = issue(1, message='quoted "ann@example.com"', value="ann@example.com")
    text = make(issues=[leaky]).write_issues_csv(tmp_path / "i.csv").read_text(encoding="utf-8")
    assert "ann@example.com" not in text
    assert "a***@e***.com" in text


def test_str_summarises_counts_in_an_aligned_table() -> None:
    text = str(make())
    lines = text.splitlines()
    assert lines[0] == "Export of segment 'VIP customers' to Omnisend: completed"
    labelled = {"rows read": "100", "exported": "90", "skipped": "6", "failed": "3"}
    found = {
        label: next(line for line in lines if line.startswith(f"  {label} ")) for label in labelled
    }
    # Counts end in the same column, so they line up.
    ends = {found[label].index(n, len(label) + 2) + len(n) for label, n in labelled.items()}
    assert len(ends) == 1
    assert "created 60, updated 20, created or updated 10" in text
    assert "invalid 3, duplicates 2, over limit 1" in text
    assert "acknowledged by Jane Roe" in text
    assert "45 contacts/min of 40,000 allowed (0%)" in text
    assert "tag 'VIP customers', 2 failed" in text
    assert "Issues (3):" in text
    assert "row 3: error duplicate_email in email" in text


def test_str_shows_ten_issues_then_how_many_more() -> None:
    text = str(make(issues=[issue(row) for row in range(25)]))
    assert "row 9: error" in text
    assert "row 10: error" not in text
    assert text.endswith("... 15 more")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"dry_run": True}, "Dry run of segment"),
        ({"privacy": None}, "not needed (loopback emulator)"),
        ({"status": "partial"}, "run it again to resume"),
        ({"connection_name": None}, "connection: (client)"),
    ],
)
def test_str_variants(changes: dict[str, Any], expected: str) -> None:
    assert expected in str(make(**changes))


def test_str_leaves_out_tagging_when_membership_is_none() -> None:
    report = make(membership="none", segment_tag=None, tagged=0, tag_failed=0)
    assert "tagged" not in str(report)


def test_html_escapes_everything() -> None:
    nasty = "<script>alert(1)</script>"
    report = make(segment=nasty, issues=[issue(1, message=nasty)])
    page = report._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<th>related_row</th>" in page
    assert page.startswith("<div>")
    assert page.endswith("</div>")


def test_html_shows_ten_issues() -> None:
    page = make(issues=[issue(row) for row in range(12)])._repr_html_()
    assert page.count("<td>invalid_email</td>") == 10
    assert "... 2 more issues" in page


def test_repr_counts_issues_instead_of_listing_them() -> None:
    text = repr(make(issues=[issue(row) for row in range(1000)]))
    assert "issues=<1000 issues>" in text
    assert "invalid_email" not in text


def test_rates_of_a_time_scaled_run_count_in_omnisend_minutes() -> None:
    # Two real minutes against an emulator 60x faster are two Omnisend hours.
    report = make(time_scale=60.0)
    assert report.contacts_per_minute == pytest.approx(90 / 120)
    assert "contacts/min of 40,000 allowed (0%), in emulator minutes (60x real time)" in str(report)
    assert "emulator minutes" not in str(make())
