"""Scheduled refreshes against the emulator: only the difference is sent, leavers are released.

Every moment is picked by an event (the Nth batch sent, a failing source row, a request count),
never by time; the emulator's clock runs at 600x and ``run_until_idle`` applies tag changes.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest

from omnisend_sdk import ContactInput, ExportReport, export_segment, plan_export
from omnisend_sdk.export import SilentProgress
from omnisend_sdk.export._journal import journal_path
from omnisend_sdk.export._lock import ExportLockedError, RunLock
from omnisend_sdk.export._refresh import ShrinkRefusedError
from omnisend_sdk.mapping import RowMapper
from omnisend_sdk.testing import CONTACTS_READ, CONTACTS_WRITE, Fault, OmnisendEmulator, ScopedKey

from .conftest import MAPPING, expected_email, make_client, make_emulator, segment_rows

TAG = "VIP customers"


def export(rows: Any, client: Any, state_dir: Path, **options: Any) -> ExportReport:
    options.setdefault("progress", None)
    return export_segment(rows, MAPPING, client=client, segment=TAG, state_dir=state_dir, **options)


def tagged_emails(emulator: OmnisendEmulator) -> set[str]:
    emulator.run_until_idle()  # tag changes are applied asynchronously
    return {c["email"] for c in emulator.contacts() if TAG in c["tags"]}


def sent_emails(emulator: OmnisendEmulator, since_batch: int = 0) -> list[str]:
    """Every email carried by the batches created after the first ``since_batch``."""
    emails = []
    for listed in emulator.batches()[since_batch:]:
        batch = emulator.batch(listed["batchID"])
        assert batch is not None
        for item in (*batch["responses"], *batch["errors"]):
            emails.extend(i["id"] for i in item["request"]["identifiers"] if i["type"] == "email")
    return emails


def tag_calls(emulator: OmnisendEmulator, method: str) -> int:
    return sum(1 for r in emulator.requests if r.path == "/contacts/tags" and r.method == method)


def churned(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows 0-9 left, 10-19 changed their first name, 20-99 unchanged, 100-104 joined."""
    kept = [dict(row) for row in rows[10:]]
    for row in kept[:10]:
        row["First"] = row["First"] + "-renamed"
    return kept + segment_rows(5, start=100)


def test_a_rerun_after_a_completed_export_sends_nothing_when_nothing_changed(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    first = export(rows, client, state_dir)
    batches_after_first = len(emulator.batches())
    tag_posts = tag_calls(emulator, "POST")

    again = export(rows, client, state_dir)

    assert (first.refresh, first.new, first.exported) == (False, 100, 100)
    assert again.status == "completed"
    assert (again.refresh, again.new, again.changed, again.unchanged) == (True, 0, 0, 100)
    assert (again.exported, again.not_sent, again.exited, again.batches) == (0, 0, 0, 0)
    assert len(emulator.batches()) == batches_after_first
    assert tag_calls(emulator, "POST") == tag_posts
    assert "unchanged 100" in str(again)


def test_a_refresh_sends_new_and_changed_members_and_untags_who_left(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    before = len(emulator.batches())

    report = export(churned(rows), client, state_dir)

    assert (report.new, report.changed, report.unchanged) == (5, 10, 80)
    assert (report.exported, report.rows_read, report.exited, report.untagged) == (15, 95, 10, 10)
    assert sorted(sent_emails(emulator, before)) == sorted(
        [expected_email(i) for i in range(10, 20)] + [expected_email(i) for i in range(100, 105)]
    )
    assert tagged_emails(emulator) == {expected_email(i) for i in range(10, 105)}
    # Leavers keep their contact, untouched but for the tag.
    left = emulator.contact(expected_email(3))
    assert left is not None
    assert left["firstName"] == "First3"
    assert emulator.contact(expected_email(12))["firstName"] == "First12-renamed"  # type: ignore[index]
    # Changed members wore the tag already: only the new ones are tagged (one call).
    assert report.tagged == 5


def test_a_member_who_left_and_rejoined_is_tagged_again(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    export(rows[5:], client, state_dir)  # rows 0-4 leave
    assert expected_email(2) not in tagged_emails(emulator)

    back = export(rows, client, state_dir)

    assert (back.new, back.changed, back.unchanged, back.exited) == (5, 0, 95, 0)
    assert tagged_emails(emulator) == {expected_email(i) for i in range(100)}


def test_a_changed_mapping_changes_every_member(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(60)
    export(rows, client, state_dir)
    before = len(emulator.batches())

    report = export_segment(
        rows,
        attrs.evolve(MAPPING, last_name=None),
        client=client,
        segment=TAG,
        state_dir=state_dir,
        progress=None,
    )

    assert (report.new, report.changed, report.unchanged, report.exported) == (0, 60, 0, 60)
    assert len(sent_emails(emulator, before)) == 60
    assert report.tagged == 0  # every member wears the tag already


def test_full_resends_and_retags_every_member_repairing_edits_made_inside_omnisend(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(50)
    export(rows, client, state_dir)
    before = len(emulator.batches())
    client.tags.remove([TAG], emails=[expected_email(7)])  # someone untagged a member by hand
    client.contacts.update(expected_email(8), ContactInput(first_name="Edited"))

    report = export(rows, client, state_dir, full=True)

    assert (report.changed, report.unchanged, report.exported, report.tagged) == (50, 0, 50, 50)
    assert sorted(sent_emails(emulator, before)) == sorted(expected_email(i) for i in range(50))
    assert tagged_emails(emulator) == {expected_email(i) for i in range(50)}
    assert emulator.contact(expected_email(8))["firstName"] == "First8"  # type: ignore[index]


def test_on_exit_keep_leaves_the_tag_and_forgets_the_member(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)

    report = export(rows[5:], client, state_dir, on_exit="keep")
    again = export(rows[5:], client, state_dir)

    assert (report.exited, report.untagged) == (5, 0)
    assert tag_calls(emulator, "DELETE") == 0
    assert tagged_emails(emulator) == {expected_email(i) for i in range(100)}
    assert (again.exited, again.unchanged) == (0, 95)  # they are members no more


@pytest.mark.parametrize(
    ("source", "numbers"),
    [
        pytest.param([], "all 100 members", id="empty source"),
        pytest.param(segment_rows(50), "50 of 100 members (50.0%)", id="half the segment"),
    ],
)
def test_the_shrink_guard_refuses_before_sending_anything(
    emulator: OmnisendEmulator,
    client: Any,
    state_dir: Path,
    source: list[dict[str, Any]],
    numbers: str,
) -> None:
    export(segment_rows(100), client, state_dir)
    requests = len(emulator.requests)

    with pytest.raises(ShrinkRefusedError, match="allow_shrink"):
        export(source, client, state_dir, dry_run=True)  # refuses what the export would
    with pytest.raises(ShrinkRefusedError, match="allow_shrink") as refused:
        export(source, client, state_dir)

    assert numbers in str(refused.value)
    assert len(emulator.requests) == requests  # nothing sent: no contact, no tag call
    # Nothing changed either: a rerun of the right source is a refresh with nothing to do.
    rerun = export(segment_rows(100), client, state_dir)
    assert (rerun.unchanged, rerun.exited, rerun.exported) == (100, 0, 0)


def test_allow_shrink_goes_ahead(emulator: OmnisendEmulator, client: Any, state_dir: Path) -> None:
    export(segment_rows(100), client, state_dir)

    report = export(segment_rows(50), client, state_dir, allow_shrink=True)

    assert (report.exited, report.untagged, report.unchanged) == (50, 50, 50)
    assert tagged_emails(emulator) == {expected_email(i) for i in range(50)}


def test_max_exit_share_sets_the_guard(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    export(segment_rows(100), client, state_dir)

    with pytest.raises(ShrinkRefusedError, match="20 of 100"):
        export(segment_rows(80), client, state_dir, max_exit_share=0.15)
    report = export(segment_rows(80), client, state_dir, max_exit_share=0.25)

    assert report.exited == 20


class StopAfterBatches(SilentProgress):
    """Cancels the export once ``count`` batches were sent: a crash at a chosen point."""

    def __init__(self, cancel: threading.Event, count: int) -> None:
        self._cancel = cancel
        self._left = count

    def batch_sent(self, rows: int) -> None:
        self._left -= 1
        if self._left == 0:
            self._cancel.set()


@pytest.mark.parametrize("stop_after", [1, 3, 5])
def test_a_refresh_stopped_midway_finishes_on_the_rerun_without_resending(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, stop_after: int
) -> None:
    rows = segment_rows(1_000)
    export(rows, client, state_dir)
    changed = [dict(row, First=f"{row['First']}-v2") for row in rows[:600]] + rows[600:]
    before = len(emulator.batches())
    cancel = threading.Event()

    stopped = export(
        changed,
        client,
        state_dir,
        cancel=cancel,
        progress=StopAfterBatches(cancel, stop_after),
        concurrency=1,
    )
    emulator.run_until_idle()  # Omnisend processes what was sent, whether we saw it or not
    sent_by_stopped = sent_emails(emulator, before)
    middle = len(emulator.batches())
    rerun = export(changed, client, state_dir)

    assert stopped.status == "cancelled"
    assert stop_after * 100 <= len(sent_by_stopped) < 600
    assert stopped.exported + stopped.not_sent == 600
    assert rerun.status == "completed"
    # The rerun finishes the same refresh: it reports all of it, and sends only what was left.
    assert (rerun.changed, rerun.unchanged, rerun.exported) == (600, 400, 600)
    resent = set(sent_emails(emulator, middle)) & set(sent_by_stopped)
    assert resent == set()
    assert {c["firstName"] for c in emulator.contacts() if c["email"] in sent_by_stopped} <= {
        f"First{i}-v2" for i in range(600)
    }
    again = export(changed, client, state_dir)
    assert (again.unchanged, again.exported) == (1_000, 0)


def test_a_crash_during_the_first_pass_leaves_nothing_half_done(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)

    def breaks_at_row_50() -> Any:
        for number, row in enumerate(churned(rows)):
            if number == 50:
                raise OSError("the warehouse connection dropped")
            yield row

    with pytest.raises(OSError, match="warehouse"):
        export(breaks_at_row_50(), client, state_dir)
    report = export(churned(rows), client, state_dir)

    assert (report.new, report.changed, report.unchanged, report.exited) == (5, 10, 80, 10)
    assert tagged_emails(emulator) == {expected_email(i) for i in range(10, 105)}


def test_failed_untag_calls_are_reported_and_retried_by_the_next_run(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    # Every attempt of the one call the ten leavers need (the client tries six times).
    emulator.inject(Fault.server_error(500), method="DELETE", path="/contacts/tags", times=6)

    failed = export(rows[10:], client, state_dir)

    assert (failed.status, failed.exited, failed.untagged, failed.untag_failed) == (
        "completed",
        10,
        0,
        10,
    )
    assert tagged_emails(emulator) == {expected_email(i) for i in range(100)}
    emulator.inject(Fault.server_error(503), method="DELETE", path="/contacts/tags", times=1)

    retried = export(rows[10:], client, state_dir)

    assert (retried.exited, retried.untagged, retried.untag_failed) == (0, 10, 0)
    assert tagged_emails(emulator) == {expected_email(i) for i in range(10, 100)}


def test_a_second_run_of_the_same_export_refuses_while_one_is_going(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    second: list[BaseException] = []
    first_is_sending = threading.Event()
    second_tried = threading.Event()

    class WaitsForTheSecondRun(SilentProgress):
        def batch_sent(self, rows: int) -> None:
            if not first_is_sending.is_set():
                first_is_sending.set()
                assert second_tried.wait(timeout=60)

    def second_run() -> None:
        assert first_is_sending.wait(timeout=60)
        try:
            export(segment_rows(10), client, state_dir)
        except ExportLockedError as error:
            second.append(error)
        finally:
            second_tried.set()

    thread = threading.Thread(target=second_run)
    thread.start()
    first = export(segment_rows(300), client, state_dir, progress=WaitsForTheSecondRun())
    thread.join()

    assert first.status == "completed"
    assert len(second) == 1
    assert "another run of this export is under way" in str(second[0])
    assert sorted(sent_emails(emulator)) == sorted(expected_email(i) for i in range(300))


def test_the_lock_is_held_per_store_and_segment(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    path = journal_path(state_dir, TAG, client)
    with (
        RunLock(path, holder="process 1 on cron-host"),
        pytest.raises(ExportLockedError, match="process 1 on cron-host"),
    ):
        export(segment_rows(5), client, state_dir)
    other = export_segment(
        segment_rows(5),
        MAPPING,
        client=client,
        segment="Lapsed",
        state_dir=state_dir,
        progress=None,
    )

    assert other.exported == 5
    assert export(segment_rows(5), client, state_dir).exported == 5  # released


def test_dry_run_and_plan_show_the_refresh_without_sending(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    requests = len(emulator.requests)

    dry = export(churned(rows), client, state_dir, dry_run=True)
    plan = plan_export(churned(rows), MAPPING, segment=TAG, client=client, state_dir=state_dir)

    assert len(emulator.requests) == requests
    assert (dry.refresh, dry.new, dry.changed, dry.unchanged, dry.exited) == (True, 5, 10, 80, 10)
    assert dry.not_sent == 15
    assert (plan.new, plan.changed, plan.unchanged, plan.leaving, plan.to_send) == (
        5,
        10,
        80,
        10,
        15,
    )
    assert plan.batches == 1
    # The dry run changed nothing: the real refresh finds the same difference.
    real = export(churned(rows), client, state_dir)
    assert (real.new, real.changed, real.unchanged, real.exited) == (5, 10, 80, 10)


def test_without_resume_every_run_sends_the_whole_segment(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(30)
    export(rows, client, state_dir, resume=False)

    again = export(rows, client, state_dir, resume=False)

    assert (again.refresh, again.exported) == (False, 30)
    assert not (state_dir / "exports").exists()


def test_the_state_file_can_be_placed_anywhere(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, tmp_path: Path
) -> None:
    state_file = tmp_path / "elsewhere" / "vip.sqlite"
    export(segment_rows(20), client, state_dir, state_file=state_file)

    again = export(segment_rows(20), client, state_dir, state_file=state_file)

    assert state_file.exists()
    assert (again.refresh, again.unchanged) == (True, 20)


def segment_writes(emulator: OmnisendEmulator, method: str) -> int:
    return sum(1 for r in emulator.requests if r.path == "/segments" and r.method == method)


def test_the_omnisend_segment_is_created_once_across_refreshes(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    first = export(rows, client, state_dir, omnisend_segment=True)
    emulator.run_until_idle()  # Omnisend builds the segment and applies the tags
    second = export(rows, client, state_dir, omnisend_segment=True)
    third = export(rows[:95], client, state_dir, omnisend_segment=True)
    emulator.run_until_idle()

    (segment,) = emulator.segments()
    assert segment_writes(emulator, "POST") == 1
    assert segment["name"] == TAG
    assert segment["conditionGroups"][0]["conditions"][0]["filters"] == [
        {"operator": "anyOf", "property": "tags", "value": [TAG]}
    ]
    assert first.omnisend_segment_id == second.omnisend_segment_id == segment["segmentID"]
    assert (first.segment_count, first.expected_members) == (None, 100)  # still building
    assert "pending" in str(first)
    assert (second.segment_count, second.expected_members) == (100, 100)
    assert third.expected_members == 95
    assert emulator.segment_contacts_count(segment["segmentID"]) == 95


def test_a_deleted_omnisend_segment_is_made_again(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(20)
    first = export(rows, client, state_dir, omnisend_segment=True)
    assert first.omnisend_segment_id is not None
    emulator.delete_segment(first.omnisend_segment_id)  # someone deleted it in Omnisend

    again = export(rows, client, state_dir, omnisend_segment=True)

    (segment,) = emulator.segments()
    assert again.omnisend_segment_id == segment["segmentID"] != first.omnisend_segment_id
    assert segment_writes(emulator, "POST") == 2


def test_a_segment_building_when_its_rule_must_change_is_updated_by_the_next_run(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(20)
    first = export(rows, client, state_dir, omnisend_segment=True)
    assert first.omnisend_segment_id is not None
    emulator.set_segment_status(first.omnisend_segment_id, "building")

    renamed = export(rows, client, state_dir, omnisend_segment=True, segment_tag="VIP 2027")
    building_rule = emulator.segment(first.omnisend_segment_id)
    emulator.set_segment_status(first.omnisend_segment_id, "ready")
    updated = export(rows, client, state_dir, omnisend_segment=True, segment_tag="VIP 2027")
    emulator.run_until_idle()

    assert renamed.omnisend_segment_problem is None  # a 409 is not a failure: it waits
    assert building_rule is not None
    assert building_rule["conditionGroups"][0]["conditions"][0]["filters"][0]["value"] == [TAG]
    segment = emulator.segment(first.omnisend_segment_id)
    assert segment is not None
    assert segment["conditionGroups"][0]["conditions"][0]["filters"][0]["value"] == ["VIP 2027"]
    assert updated.omnisend_segment_id == first.omnisend_segment_id
    # The new tag counts as unconfirmed for every member: each is sent and tagged again once.
    assert (renamed.changed, renamed.tagged, updated.unchanged) == (20, 20, 20)


def test_a_key_without_segment_access_still_exports_and_says_why_there_is_no_segment(
    emulator: OmnisendEmulator, state_dir: Path
) -> None:
    key = "contacts-only-key-0123456789abcdef"
    limited = make_emulator(api_keys=[ScopedKey(key, {CONTACTS_READ, CONTACTS_WRITE})])
    with make_client(limited, api_key=key) as client:
        report = export(segment_rows(10), client, state_dir, omnisend_segment=True)

    assert (report.status, report.exported) == ("completed", 10)
    assert report.omnisend_segment_id is None
    assert report.omnisend_segment_problem is not None
    assert "segment not kept" in str(report)


def test_a_segment_whose_creation_answer_was_lost_is_found_not_made_twice(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    emulator.inject(Fault.lost_answer(), method="POST", path="/segments")
    first = export(segment_rows(10), client, state_dir, omnisend_segment=True)

    second = export(segment_rows(10), client, state_dir, omnisend_segment=True)

    (segment,) = emulator.segments()  # made once, by the call whose answer was lost
    assert first.omnisend_segment_problem is not None
    assert (second.omnisend_segment_id, second.omnisend_segment_problem) == (
        segment["segmentID"],
        None,
    )
    assert segment_writes(emulator, "POST") == 1


def test_a_leaver_back_before_its_tag_was_removed_is_kept_and_tagged(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    emulator.inject(Fault.server_error(500), method="DELETE", path="/contacts/tags", times=6)
    left = export(rows[5:], client, state_dir)  # the removal fails: 0-4 still wear the tag
    assert left.untag_failed == 5

    back = export(rows, client, state_dir)

    # Their tag was in doubt (a removal may or may not have been applied): sent and tagged again.
    assert (back.changed, back.unchanged, back.exited, back.untagged) == (5, 95, 0, 0)
    assert back.tagged == 5
    assert tag_calls(emulator, "DELETE") == 6  # no removal was tried again
    assert tagged_emails(emulator) == {expected_email(i) for i in range(100)}


# --- rows known by their record ---------------------------------------------------------------


def mapped_rows_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the rows the mapper maps from now on."""
    numbers: list[int] = []
    real = RowMapper.map

    def spy(self: RowMapper, number: int, *args: Any, **kwargs: Any) -> Any:
        numbers.append(number)
        return real(self, number, *args, **kwargs)

    monkeypatch.setattr(RowMapper, "map", spy)
    return numbers


def change_members(state_dir: Path, sql: str) -> None:
    (path,) = (state_dir / "exports").glob("*.sqlite")
    db = sqlite3.connect(path)
    with db:
        db.execute(sql)
    db.close()


def test_a_refresh_maps_only_the_rows_whose_record_changed(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    mapped = mapped_rows_spy(monkeypatch)

    report = export(churned(rows), client, state_dir)

    assert (report.new, report.changed, report.unchanged, report.exited) == (5, 10, 80, 10)
    assert mapped == [*range(10), *range(90, 95)]  # the renamed and the new rows only
    assert tagged_emails(emulator) == {expected_email(i) for i in range(10, 105)}


def test_members_without_a_record_are_mapped_once_then_known(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = segment_rows(100)
    export(rows, client, state_dir)
    change_members(state_dir, "UPDATE members SET record = 0")  # as an older version left them
    mapped = mapped_rows_spy(monkeypatch)

    first = export(rows, client, state_dir)
    mapped_by_first = len(mapped)
    second = export(rows, client, state_dir)

    assert (first.unchanged, first.exported, mapped_by_first) == (100, 0, 100)
    assert (second.unchanged, second.exported, len(mapped)) == (100, 0, 100)  # none the 2nd time


def test_a_known_record_whose_tag_is_not_confirmed_is_mapped_and_tagged(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = segment_rows(20)
    export(rows, client, state_dir)
    change_members(state_dir, "UPDATE members SET tagged = 0 WHERE email = 'person7@example.com'")
    mapped = mapped_rows_spy(monkeypatch)

    report = export(rows, client, state_dir)

    assert mapped == [7]
    assert (report.changed, report.unchanged, report.tagged) == (1, 19, 1)


def test_full_maps_every_row_whatever_its_record(
    emulator: OmnisendEmulator, client: Any, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = segment_rows(20)
    export(rows, client, state_dir)
    mapped = mapped_rows_spy(monkeypatch)

    report = export(rows, client, state_dir, full=True)

    assert (len(mapped), report.changed, report.exported) == (20, 20, 20)
