"""Tracker: batches followed with one listing per poll; lost batches found by their emails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from omnisend_sdk._models import Batch, BatchItems
from omnisend_sdk.export._batcher import PendingItem
from omnisend_sdk.export._tracker import LIST_PAGE_SIZE, TrackedBatch, Tracker
from tests.export.fakes import FakeGateway, answer_item, request_body, server_error

NOW = datetime.now(UTC)


class Recorder:
    """The tracker's settle and resend callbacks, recorded."""

    def __init__(self) -> None:
        self.settled: list[tuple[int, str, BatchItems | None]] = []
        self.resent: list[int] = []

    async def settle(self, tracked: TrackedBatch, batch: Batch, answers: BatchItems | None) -> None:
        self.settled.append((tracked.seq, batch.batch_id, answers))

    async def resend(self, tracked: TrackedBatch) -> None:
        self.resent.append(tracked.seq)


def addresses(seq: int, size: int) -> list[str]:
    return [f"b{seq}-person{n}@example.com" for n in range(size)]


def items(seq: int, size: int) -> list[PendingItem]:
    return [
        PendingItem.of(seq * 1_000 + n, e, request_body(e))
        for n, e in enumerate(addresses(seq, size))
    ]


def omnisend_batch(batch_id: str, size: int, *, status: str = "finished", errors: int = 0) -> Batch:
    return Batch(
        batch_id=batch_id,
        status=status,  # type: ignore[arg-type]
        total_count=size,
        finished_count=size,
        errors_count=errors,
        created_at=NOW,
    )


def make(gateway: FakeGateway, *, lost_polls: int = 6) -> tuple[Tracker, Recorder]:
    recorder = Recorder()
    return Tracker(gateway, recorder.settle, recorder.resend, lost_polls=lost_polls), recorder


@pytest.mark.parametrize("count", [1, 5, 99])
async def test_one_listing_answers_for_every_batch_in_flight(count: int) -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    for seq in range(count):
        gateway.add_batch(omnisend_batch(f"b{seq}", 3))
        tracker.track(TrackedBatch(seq, items(seq, 3), NOW, f"b{seq}"))
    gateway.add_batch(omnisend_batch("someone-elses", 3))

    await tracker.poll()

    assert gateway.calls == {"list_batches": 1}
    assert sorted(seq for seq, _, _ in recorder.settled) == list(range(count))
    assert all(answers is None for _, _, answers in recorder.settled)
    assert len(tracker) == 0
    assert tracker.rows() == 0


async def test_more_batches_than_a_page_take_a_page_each() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    batches = LIST_PAGE_SIZE + LIST_PAGE_SIZE // 2
    for seq in range(batches):
        gateway.add_batch(omnisend_batch(f"b{seq}", 1))
        tracker.track(TrackedBatch(seq, items(seq, 1), NOW, f"b{seq}"))

    await tracker.poll()

    assert gateway.calls == {"list_batches": 2}
    assert len(recorder.settled) == batches


async def test_pages_are_as_long_as_omnisend_allows() -> None:
    assert LIST_PAGE_SIZE == 250  # its OpenAPI: limit 1 to 250
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    for seq in range(200):  # 30 s of posts at 400 a minute: one page
        gateway.add_batch(omnisend_batch(f"b{seq}", 1))
        tracker.track(TrackedBatch(seq, items(seq, 1), NOW, f"b{seq}"))

    await tracker.poll()

    assert gateway.calls == {"list_batches": 1}
    assert len(recorder.settled) == 200


async def test_batches_not_done_stay_followed_until_a_later_poll() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    gateway.add_batch(omnisend_batch("b1", 2), looks_left=2)
    gateway.add_batch(omnisend_batch("b2", 2))
    tracker.track(TrackedBatch(1, items(1, 2), NOW, "b1"))
    tracker.track(TrackedBatch(2, items(2, 2), NOW, "b2"))

    await tracker.poll()
    assert [seq for seq, _, _ in recorder.settled] == [2]
    assert (len(tracker), tracker.rows()) == (1, 2)

    await tracker.poll()
    assert [seq for seq, _, _ in recorder.settled] == [2, 1]
    assert gateway.calls == {"list_batches": 2}  # the done batch is not asked about again


async def test_a_batch_missing_from_the_listing_is_looked_up_alone() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    for seq in range(4):
        gateway.add_batch(omnisend_batch(f"b{seq}", 2), listed=seq != 2)
        tracker.track(TrackedBatch(seq, items(seq, 2), NOW, f"b{seq}"))

    await tracker.poll()

    assert gateway.calls == {"list_batches": 1, "get_batch": 1}
    assert len(recorder.settled) == 4


async def test_a_batch_omnisend_no_longer_knows_is_handed_back_for_resending() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    tracker.track(TrackedBatch(1, items(1, 2), NOW, "expired"))

    await tracker.poll()

    assert recorder.resent == [1]
    assert recorder.settled == []
    assert len(tracker) == 0


async def test_the_tracker_never_fetches_items_of_batches_it_knows() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    gateway.add_batch(omnisend_batch("b1", 2, errors=1))
    gateway.add_batch(omnisend_batch("b2", 2, status="stopped", errors=1))
    tracker.track(TrackedBatch(1, items(1, 2), NOW, "b1"))
    tracker.track(TrackedBatch(2, items(2, 2), NOW, "b2"))

    await tracker.poll()

    # Item answers are the settler's business (and only for batches with errors or stopped).
    assert gateway.calls["batch_items"] == 0
    assert {bid for _, bid, _ in recorder.settled} == {"b1", "b2"}


async def test_two_lost_batches_of_the_same_size_are_matched_by_their_emails() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    for seq, batch_id in ((1, "x"), (2, "y")):
        answers = [answer_item(e, 201) for e in reversed(addresses(seq, 3))]
        gateway.add_batch(omnisend_batch(batch_id, 3), answers)
    # A stranger's batch of the same size, made after the sends: not ours.
    strangers = [answer_item(f"other{n}@example.com", 201) for n in range(3)]
    gateway.add_batch(omnisend_batch("z", 3), strangers)
    tracker.track(TrackedBatch(2, items(2, 3), NOW, lost=True))
    tracker.track(TrackedBatch(1, items(1, 3), NOW, lost=True))

    await tracker.poll()

    assert sorted((seq, bid) for seq, bid, _ in recorder.settled) == [(1, "x"), (2, "y")]
    for seq, _, found in recorder.settled:
        assert found is not None
        assert {a.email for a in found.responses} == set(addresses(seq, 3))
    assert recorder.resent == []
    # Each candidate's items are fetched once, however many lost batches it is compared with.
    assert gateway.calls["batch_items"] == 3


async def test_an_earlier_batch_of_the_same_emails_with_other_bodies_is_not_the_lost_one() -> None:
    # A refresh resends the emails of the run before it: that run's batch carries the old bodies.
    gateway = FakeGateway()
    tracker, recorder = make(gateway, lost_polls=1)
    earlier = [
        attrs.evolve(answer_item(e, 201), request={**request_body(e), "firstName": "Old"})
        for e in addresses(1, 3)
    ]
    gateway.add_batch(omnisend_batch("last-run", 3), earlier)
    tracker.track(TrackedBatch(1, items(1, 3), NOW, lost=True))

    await tracker.poll()

    assert recorder.settled == []
    assert recorder.resent == [1]


async def test_a_lost_batch_is_found_from_a_partial_answer_of_a_stopped_batch() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    emails = addresses(1, 4)
    answered = [answer_item(emails[0], 201), answer_item(emails[1], 400)]
    gateway.add_batch(omnisend_batch("s", 4, status="stopped", errors=1), answered)
    tracker.track(TrackedBatch(1, items(1, 4), NOW, lost=True))

    await tracker.poll()

    assert [(seq, bid) for seq, bid, _ in recorder.settled] == [(1, "s")]


async def test_a_lost_batch_never_created_is_resent_after_the_lost_polls() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway, lost_polls=3)
    gateway.add_batch(omnisend_batch("other-size", 5), [answer_item("a@example.com", 201)])
    tracker.track(TrackedBatch(1, items(1, 3), NOW, lost=True))

    for _ in range(2):
        await tracker.poll()
    assert recorder.resent == []
    await tracker.poll()

    assert recorder.resent == [1]
    assert recorder.settled == []
    assert gateway.calls == {"list_batches": 3}  # a batch of another size is never opened


async def test_a_lost_batch_waits_while_a_candidate_is_still_in_progress() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway, lost_polls=1)
    answers = [answer_item(e, 201) for e in addresses(1, 3)]
    gateway.add_batch(omnisend_batch("late", 3), answers, looks_left=3)
    tracker.track(TrackedBatch(1, items(1, 3), NOW, lost=True))

    for _ in range(3):
        await tracker.poll()

    assert recorder.resent == []
    assert [(seq, bid) for seq, bid, _ in recorder.settled] == [(1, "late")]


async def test_a_batch_created_before_the_send_is_not_a_candidate() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway, lost_polls=1)
    old = omnisend_batch("old", 3)
    gateway.add_batch(
        Batch(
            batch_id=old.batch_id,
            status="finished",
            total_count=3,
            finished_count=3,
            created_at=NOW - timedelta(hours=1),
        ),
        [answer_item(e, 201) for e in addresses(1, 3)],
    )
    tracker.track(TrackedBatch(1, items(1, 3), NOW, lost=True))

    await tracker.poll()

    assert recorder.resent == [1]
    assert gateway.calls["batch_items"] == 0


async def test_a_failed_listing_is_left_for_the_next_poll() -> None:
    gateway = FakeGateway()
    tracker, recorder = make(gateway)
    tracker.track(TrackedBatch(1, items(1, 2), NOW, "b1"))

    async def failing_list(**_: object) -> tuple[Batch, ...]:
        raise server_error("/batches")

    real_list = gateway.list_batches
    gateway.list_batches = failing_list  # type: ignore[method-assign]
    await tracker.poll_safely()
    assert (len(tracker), recorder.settled) == (1, [])

    gateway.list_batches = real_list  # type: ignore[method-assign]
    gateway.add_batch(omnisend_batch("b1", 2))
    await tracker.poll_safely()
    assert [seq for seq, _, _ in recorder.settled] == [1]
