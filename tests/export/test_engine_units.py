"""The export engine's policies, driven through a fake gateway: what each Omnisend answer means.

Every scenario also checks that the counts add up: rows read = outcomes + invalid + duplicates +
over limit + not sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest

from omnisend_sdk import ContactMapping
from omnisend_sdk._models import Batch
from omnisend_sdk.export._batcher import PendingItem
from omnisend_sdk.export._engine import Engine, EngineOptions, EngineResult
from omnisend_sdk.export._journal import BatchRow, DoneRow, Journal, read_members
from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.export._members import email_key
from omnisend_sdk.export._progress import SilentProgress
from omnisend_sdk.mapping import MappedRow, map_rows, mask_email
from omnisend_sdk.sources import open_source
from tests.export.fakes import (
    CreateFault,
    FakeGateway,
    answer_item,
    auth_error,
    bad_request,
    outcome_unknown,
    request_body,
)

TAG = "VIP customers"
#: No scenario needs more than a fraction of a second; a hang fails fast instead of stalling CI.
RUN_TIMEOUT = 10.0


def email(i: int) -> str:
    return f"person{i}@example.com"


def emails(count: int, start: int = 0) -> list[str]:
    return [email(i) for i in range(start, start + count)]


def mapped(addresses: Sequence[str]) -> Iterator[MappedRow]:
    source = open_source([{"Email": a} for a in addresses])
    return map_rows(ContactMapping(email="Email"), source)


def assert_adds_up(result: EngineResult) -> None:
    accounted = (
        sum(result.outcomes.values())
        + result.invalid
        + result.duplicates
        + result.over_limit
        + result.not_sent
    )
    assert result.rows_read == accounted, result


async def run(
    gateway: FakeGateway,
    addresses: Sequence[str],
    *,
    journal: Journal | None = None,
    timeout: float = RUN_TIMEOUT,
    **options: Any,
) -> EngineResult:
    options.setdefault("segment_tag", TAG)
    engine = Engine(
        gateway,
        journal or Journal(None, "k"),
        EngineOptions(**options),
        progress=SilentProgress(),
    )
    result = await asyncio.wait_for(engine.run(mapped(addresses)), timeout)
    assert_adds_up(result)
    return result


def exported(result: EngineResult) -> int:
    return sum(n for outcome, n in result.outcomes.items() if outcome != "failed")


def issue_codes(result: EngineResult) -> dict[int, str]:
    return {issue.row: issue.code for issue in result.issues}


def flatten(batches: Sequence[Sequence[str]]) -> list[str]:
    return [e for batch in batches for e in batch]


# --- a clean export ------------------------------------------------------------------------------


async def test_a_clean_export_sends_full_batches_once_and_settles_without_item_fetches() -> None:
    gateway = FakeGateway()
    rows = [*emails(250), "not-an-email", email(7).upper()]

    result = await run(gateway, rows)

    assert [len(b) for b in gateway.created] == [100, 100, 50]
    assert sorted(flatten(gateway.created)) == sorted(emails(250))
    assert result.outcomes == {"created": 0, "updated": 0, "upserted": 250, "failed": 0}
    assert (result.rows_read, result.invalid, result.duplicates, result.not_sent) == (252, 1, 1, 0)
    assert (result.batches, result.stop_reason, result.error) == (3, None, None)
    # Finished without errors: nothing to learn from the items, so they are not fetched.
    assert gateway.calls["batch_items"] == 0
    assert gateway.calls["get_batch"] == 0


# --- item answers inside a finished batch --------------------------------------------------------


async def test_rows_answered_503_inside_a_batch_go_again_in_a_new_batch_and_end_exported() -> None:
    flaky = {email(2), email(5), email(8)}
    gateway = FakeGateway(answer=lambda e, send: 503 if e in flaky and send == 1 else 201)

    result = await run(gateway, emails(10))

    assert gateway.created[0] == emails(10)
    assert sorted(gateway.created[1]) == sorted(flaky)  # only the failed rows go again
    assert len(gateway.created) == 2
    # The first batch's items answered 201 (created); the second batch finished clean.
    assert result.outcomes == {"created": 7, "updated": 0, "upserted": 3, "failed": 0}
    assert result.issues == []
    assert gateway.calls["batch_items"] == 1  # only the batch with errors
    assert result.tagged == 10


async def test_rows_that_keep_failing_are_given_up_after_max_item_attempts() -> None:
    doomed = email(4)
    gateway = FakeGateway(answer=lambda e, _send: 503 if e == doomed else 201)

    result = await run(gateway, emails(10))

    assert gateway.sends_of(doomed) == 3
    assert result.outcomes["failed"] == 1
    assert exported(result) == 9
    (issue,) = result.issues
    assert (issue.row, issue.code, issue.severity) == (4, "gave_up", "error")
    assert issue.value == mask_email(doomed)
    assert doomed not in issue.message
    tagged = flatten([emails for _, emails in gateway.tag_calls])
    assert doomed not in tagged
    assert result.tagged == 9


@pytest.mark.parametrize("attempts", [1, 2, 5])
async def test_max_item_attempts_is_the_number_of_batches_a_row_is_sent_in(attempts: int) -> None:
    doomed = email(0)
    gateway = FakeGateway(answer=lambda e, _send: 500 if e == doomed else 201)

    result = await run(gateway, emails(3), max_item_attempts=attempts)

    assert gateway.sends_of(doomed) == attempts
    assert issue_codes(result) == {0: "gave_up"}


async def test_a_row_halved_out_of_a_refused_batch_still_gets_its_item_retries() -> None:
    bad, unlucky = email(2), email(3)
    gateway = FakeGateway(
        answer=lambda e, send: 503 if e == unlucky and send == 1 else 201,
        create_plan=lambda _n, sent: CreateFault(bad_request()) if bad in sent else None,
    )

    result = await run(gateway, emails(4))

    # [0..3] refused -> [0, 1] ok, [2, 3] refused -> [2] refused alone, [3] ok but answers 503.
    assert issue_codes(result) == {2: "rejected_by_omnisend"}
    assert gateway.sends_of(unlucky) == 2
    assert exported(result) == 3


# --- a 4xx item answer ---------------------------------------------------------------------------


async def test_a_row_omnisend_rejects_inside_a_batch_is_failed_with_omnisends_reason() -> None:
    rejected = email(6)
    gateway = FakeGateway(answer=lambda e, _send: 400 if e == rejected else 201)

    result = await run(gateway, emails(10))

    assert len(gateway.created) == 1  # a 4xx is final: never sent again
    (issue,) = result.issues
    assert (issue.row, issue.code, issue.field) == (6, "rejected_by_omnisend", "email")
    assert "400" in issue.message
    assert issue.value == mask_email(rejected)
    assert result.outcomes == {"created": 9, "updated": 0, "upserted": 0, "failed": 1}


# --- a stopped batch -----------------------------------------------------------------------------


async def test_a_stopped_batch_settles_what_it_processed_and_resends_the_rest_in_halves() -> None:
    poison = email(3)
    gateway = FakeGateway(answer=lambda e, _send: 400 if e == poison else 201, stop_after_errors=1)

    result = await run(gateway, emails(10))

    assert gateway.created[0] == emails(10)
    # Rows 4..9 were never reached: they go again, in two halves.
    assert sorted(map(sorted, gateway.created[1:])) == [emails(3, 4), emails(3, 7)]
    assert result.outcomes == {"created": 3, "updated": 0, "upserted": 6, "failed": 1}
    assert issue_codes(result) == {3: "rejected_by_omnisend"}
    assert gateway.calls["batch_items"] == 1  # the stopped batch only; its halves finished clean
    assert result.tagged == 9


async def test_retryable_rows_of_a_stopped_batch_go_again_with_its_unprocessed_rows() -> None:
    gateway = FakeGateway(
        answer=lambda e, send: 503 if e == email(1) and send == 1 else 201, stop_after_errors=1
    )

    result = await run(gateway, emails(6))

    assert gateway.created[0] == emails(6)
    assert sorted(flatten(gateway.created[1:])) == emails(5, 1)
    assert all(len(b) <= 3 for b in gateway.created[1:])
    assert result.outcomes["failed"] == 0
    assert exported(result) == 6


async def test_rows_a_stopped_batch_never_reached_are_not_given_up_for_a_neighbour() -> None:
    gateway = FakeGateway(
        answer=lambda e, _send: 503 if e == email(0) else 201, stop_after_errors=1
    )

    result = await run(gateway, emails(8))

    assert issue_codes(result) == {0: "gave_up"}
    assert exported(result) == 7


# --- a batch Omnisend refuses whole --------------------------------------------------------------


@pytest.mark.parametrize(("count", "bad_index"), [(10, 6), (100, 0), (250, 149), (7, 6)])
async def test_a_refused_batch_is_halved_until_the_bad_row_stands_alone(
    count: int, bad_index: int
) -> None:
    bad = email(bad_index)
    gateway = FakeGateway(
        create_plan=lambda _n, sent: (
            CreateFault(bad_request("identifiers[0].id: not an email")) if bad in sent else None
        ),
    )

    result = await run(gateway, emails(count))

    assert issue_codes(result) == {bad_index: "rejected_by_omnisend"}
    (issue,) = result.issues
    assert "identifiers[0].id: not an email" in issue.message
    assert issue.value == mask_email(bad)
    assert bad not in issue.message
    assert [sent for sent in gateway.posted if bad in sent][-1] == [bad]
    # Every other row is in Omnisend, each exactly once.
    assert sorted(flatten(gateway.created)) == sorted(e for e in emails(count) if e != bad)
    assert (exported(result), result.outcomes["failed"]) == (count - 1, 1)
    assert result.stop_reason is None


async def test_a_refused_batch_does_not_hang_a_single_sender() -> None:
    bad = email(0)
    gateway = FakeGateway(
        create_plan=lambda _n, sent: CreateFault(bad_request()) if bad in sent else None,
    )

    # A correct run takes milliseconds; a hung one is cut short to keep the suite fast.
    result = await run(gateway, emails(500), concurrency=1, timeout=2.0)

    assert issue_codes(result) == {0: "rejected_by_omnisend"}
    assert exported(result) == 499


# --- a POST whose answer was lost ----------------------------------------------------------------


@pytest.mark.parametrize("looks_until_done", [0, 3])
async def test_a_lost_answer_for_a_created_batch_is_found_in_the_listing_not_resent(
    looks_until_done: int,
) -> None:
    gateway = FakeGateway(
        create_plan=lambda n, _sent: (
            CreateFault(outcome_unknown(), created=True) if n == 2 else None
        ),
        looks_until_done=looks_until_done,
    )

    result = await run(gateway, emails(250), concurrency=1)

    # The lost batch (100 items, the same size as the first) was created once and never resent.
    assert [len(b) for b in gateway.created] == [100, 100, 50]
    assert len(gateway.posted) == 3
    assert sorted(flatten(gateway.created)) == sorted(emails(250))
    assert exported(result) == 250
    assert result.batches == 3
    # Found through its items, which were fetched to match it: their answers are the outcomes.
    assert result.outcomes["created"] == 100


async def test_a_lost_answer_for_a_batch_never_created_is_resent_after_the_lost_polls() -> None:
    gateway = FakeGateway(
        create_plan=lambda n, _sent: CreateFault(outcome_unknown()) if n == 1 else None,
    )

    result = await run(gateway, emails(10))

    assert gateway.posted == [emails(10), emails(10)]
    assert gateway.created == [emails(10)]
    assert gateway.lists_at_post[1] >= 6  # looked for in six listings before sending again
    assert exported(result) == 10
    assert result.batches == 1


async def test_two_lost_batches_of_the_same_size_are_each_matched_to_their_own_rows() -> None:
    gateway = FakeGateway(
        create_plan=lambda _n, _sent: CreateFault(outcome_unknown(), created=True),
    )

    result = await run(gateway, emails(200))

    assert len(gateway.posted) == 2
    assert [len(b) for b in gateway.created] == [100, 100]
    assert result.outcomes == {"created": 200, "updated": 0, "upserted": 0, "failed": 0}
    assert result.batches == 2


async def test_a_found_lost_batch_and_an_unfound_one_of_the_same_size_are_told_apart() -> None:
    gateway = FakeGateway(
        create_plan=lambda n, _sent: (
            CreateFault(outcome_unknown(), created=n == 1) if n <= 2 else None
        ),
    )

    result = await run(gateway, emails(200), concurrency=1)

    first, second = gateway.posted[:2]
    assert gateway.created == [first, second]  # the second is sent again, the first is not
    assert len(gateway.posted) == 3
    assert exported(result) == 200


# --- errors that stop the export -----------------------------------------------------------------


async def test_an_authentication_error_stops_the_export_and_counts_every_row(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway(create_plan=lambda _n, _sent: CreateFault(auth_error()))
    path = tmp_path / "journal.sqlite"
    rows = [*emails(250), "bad", email(1)]

    result = await run(gateway, rows, journal=Journal(path, "k"))

    assert result.stop_reason == "error"
    assert result.error is not None
    assert "401" in result.error
    assert sum(result.outcomes.values()) == 0
    assert (result.invalid, result.duplicates) == (1, 1)
    assert result.not_sent == result.rows_read - 2
    assert gateway.created == []
    assert gateway.tag_calls == []
    assert Journal(path, "k").resumed  # left resumable


async def test_an_error_after_some_batches_keeps_what_was_accepted() -> None:
    # A wider window: after a stop, in-flight batches are followed for two windows, which leaves
    # the first batch many polls to settle in, even on a loaded machine.
    gateway = FakeGateway(
        create_plan=lambda n, _sent: CreateFault(auth_error()) if n > 1 else None, window=0.6
    )

    result = await run(gateway, emails(250), concurrency=1)

    assert result.stop_reason == "error"
    assert gateway.created == [emails(100)]
    assert exported(result) == 100
    assert result.not_sent == result.rows_read - 100


# --- segment membership --------------------------------------------------------------------------


async def test_tag_calls_carry_at_most_250_emails_of_exported_rows_only() -> None:
    rejected = email(5)
    gateway = FakeGateway(answer=lambda e, _send: 422 if e == rejected else 201)

    result = await run(gateway, emails(600))

    assert gateway.tag_calls
    assert all(tags == (TAG,) for tags, _ in gateway.tag_calls)
    assert all(1 <= len(sent) <= 250 for _, sent in gateway.tag_calls)
    tagged = flatten([sent for _, sent in gateway.tag_calls])
    assert sorted(tagged) == sorted(e for e in emails(600) if e != rejected)
    assert (result.tagged, result.tag_failed) == (599, 0)


async def test_failed_tag_calls_are_counted_and_the_rows_stay_exported() -> None:
    gateway = FakeGateway(tag_fails=lambda n: n == 2)

    result = await run(gateway, emails(600))

    failed_call = gateway.tag_calls[1][1]
    assert result.tag_failed == len(failed_call) > 0
    assert result.tagged == 600 - len(failed_call)
    assert exported(result) == 600
    assert result.stop_reason is None


async def test_no_segment_tag_means_no_tag_calls() -> None:
    gateway = FakeGateway()

    result = await run(gateway, emails(300), segment_tag=None)

    assert gateway.tag_calls == []
    assert (result.tagged, result.tag_failed, exported(result)) == (0, 0, 300)


class FoldWatchingJournal(Journal):
    """A journal that notes, each time the engine folds early, how many batches had been posted
    and how many rows had reached an outcome."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "k")
        self.posted = 0
        self.settled = 0
        self.folds: list[tuple[int, int]] = []

    def batch_sent(self, seq: int, at: datetime) -> None:
        super().batch_sent(seq, at)
        self.posted += 1

    def batch_reconciled(self, seq: int, done: Sequence[DoneRow]) -> None:
        super().batch_reconciled(seq, done)
        self.settled += len(done)

    def fold_confirmed(self) -> None:
        super().fold_confirmed()
        self.folds.append((self.posted, self.settled))


async def test_the_members_are_folded_once_the_source_is_read_then_the_rest_at_the_end(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway(looks_until_done=2)  # each batch is processed for two polls
    journal = FoldWatchingJournal(tmp_path / "journal.sqlite")

    result = await run(gateway, emails(450), journal=journal, segment_tag=None)

    assert exported(result) == 450
    ((posted, settled),) = journal.folds  # once
    # The five batches were queued at once, so the source was read before any was posted: the
    # fold does not wait for the posts (the limiter makes up the ones it holds up).
    assert (posted, len(gateway.created)) == (0, 5)
    assert settled < 450  # the last batches were still with Omnisend
    journal.close()
    members = read_members(tmp_path / "journal.sqlite", None)
    assert len(members) == 450
    assert all(members.find(email_key(e)) >= 0 for e in emails(450))


# --- following many batches economically ---------------------------------------------------------


async def test_items_are_fetched_only_for_batches_with_errors_and_listing_does_the_rest() -> None:
    rejected = {email(150), email(720)}
    gateway = FakeGateway(answer=lambda e, _send: 422 if e in rejected else 201)
    journal = Journal(None, "k")

    result = await run(gateway, emails(1_000), journal=journal)

    assert len(gateway.created) == 10
    assert gateway.calls["batch_items"] == 2
    assert gateway.calls["get_batch"] == 0
    assert (exported(result), result.outcomes["failed"]) == (998, 2)
    assert journal.unresolved_batches() == []
    assert journal.outcome_counts() == {k: v for k, v in result.outcomes.items() if v}


# --- resuming from a journal ---------------------------------------------------------------------


def interrupted_journal(path: Path, seq_rows: list[int], *, batch_id: str | None) -> Journal:
    """A journal an earlier run left with one batch sent (and accepted, given an id)."""
    journal = Journal(path, "k")
    journal.start("export")
    # What the earlier run packed: each row's email and the fingerprint of the body it sent.
    items = [PendingItem.of(n, email(n), request_body(email(n))) for n in seq_rows]
    seq = journal.batch_built([BatchRow(i.row, i.email, i.fingerprint) for i in items])
    journal.batch_sent(seq, datetime.now(UTC))
    if batch_id is not None:
        journal.batch_accepted(seq, batch_id)
    journal.close()
    return Journal(path, "k")


def stored_batch(gateway: FakeGateway, batch_id: str, addresses: list[str]) -> None:
    gateway.add_batch(
        Batch(
            batch_id=batch_id,
            status="finished",
            total_count=len(addresses),
            finished_count=len(addresses),
            created_at=datetime.now(UTC),
        ),
        [answer_item(a, 201) for a in addresses],
    )


async def test_a_resumed_export_settles_an_accepted_batch_instead_of_resending_it(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway()
    stored_batch(gateway, "earlier", emails(5))
    journal = interrupted_journal(tmp_path / "j.sqlite", list(range(5)), batch_id="earlier")
    assert journal.resumed

    result = await run(gateway, emails(8), journal=journal)

    assert gateway.created == [emails(3, 5)]  # only the rows the earlier run never sent
    assert exported(result) == 8
    assert result.not_sent == 0
    assert result.tagged == 8


async def test_a_resumed_export_tags_each_reconciled_contact_once(tmp_path: Path) -> None:
    gateway = FakeGateway()
    stored_batch(gateway, "earlier", emails(5))
    journal = interrupted_journal(tmp_path / "j.sqlite", list(range(5)), batch_id="earlier")

    await run(gateway, emails(8), journal=journal)

    tagged = flatten([sent for _, sent in gateway.tag_calls])
    assert sorted(tagged) == emails(8)


async def test_a_resumed_export_finds_a_batch_whose_answer_was_lost(tmp_path: Path) -> None:
    gateway = FakeGateway()
    stored_batch(gateway, "found", emails(5))
    journal = interrupted_journal(tmp_path / "j.sqlite", list(range(5)), batch_id=None)

    result = await run(gateway, emails(5), journal=journal)

    assert gateway.created == []
    assert exported(result) == 5


async def test_a_resumed_export_resends_a_lost_batch_omnisend_never_created(
    tmp_path: Path,
) -> None:
    gateway = FakeGateway()
    journal = interrupted_journal(tmp_path / "j.sqlite", list(range(5)), batch_id=None)

    result = await run(gateway, emails(5), journal=journal)

    assert gateway.created == [emails(5)]
    assert exported(result) == 5


async def test_a_resumed_export_skips_rows_already_done_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    first = Journal(path, "k")
    first.rows_finished([DoneRow(n, email(n), "created") for n in range(4)])
    first.rows_tagged([(n, email(n)) for n in range(4)])
    first.close()

    result = await run(FakeGateway(), emails(6), journal=Journal(path, "k"))

    assert result.outcomes == {"created": 4, "updated": 0, "upserted": 2, "failed": 0}
    assert result.tagged == 6


async def test_a_resumed_export_sends_a_row_that_is_not_the_one_the_earlier_run_sent(
    tmp_path: Path,
) -> None:
    # The source changed between the runs (an edited file, a query without ORDER BY): skipping
    # by row number alone would leave the new row 2 unsent.
    path = tmp_path / "j.sqlite"
    first = Journal(path, "k")
    first.rows_finished([DoneRow(n, email(n), "created") for n in range(4)])
    first.close()
    edited = [*emails(2), "newcomer@example.com", *emails(3, 3)]
    gateway = FakeGateway()

    result = await run(gateway, edited, journal=Journal(path, "k"))

    assert flatten(gateway.created) == ["newcomer@example.com", email(4), email(5)]
    assert exported(result) == 6
    assert result.outcomes["created"] == 3  # rows 0, 1 and 3, as the earlier run recorded


# --- limits and cancellation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_limit", "rows_read", "over_limit", "stop_reason"),
    [("truncate", 12, 7, None), ("fail", 6, 1, "limit")],
)
async def test_rows_over_the_cap_are_never_sent(
    on_limit: Literal["fail", "truncate"],
    rows_read: int,
    over_limit: int,
    stop_reason: str | None,
) -> None:
    gateway = FakeGateway()
    limits = ExportLimits(max_profiles=5, on_limit=on_limit)

    result = await run(gateway, emails(12), limits=limits)

    assert flatten(gateway.created) == emails(5)
    assert (result.rows_read, result.over_limit, exported(result)) == (rows_read, over_limit, 5)
    assert result.stop_reason == stop_reason
    assert {i.code for i in result.issues} == {"over_limit"}


async def test_a_cancelled_export_sends_nothing_more_and_counts_what_it_read() -> None:
    gateway = FakeGateway()
    cancel = threading.Event()
    cancel.set()
    engine = Engine(
        gateway,
        Journal(None, "k"),
        EngineOptions(segment_tag=TAG),
        progress=SilentProgress(),
        cancel=cancel,
    )

    result = await asyncio.wait_for(engine.run(mapped(emails(300))), RUN_TIMEOUT)

    assert_adds_up(result)
    assert result.stop_reason == "cancelled"
    assert gateway.posted == []
    assert result.not_sent == result.rows_read > 0
