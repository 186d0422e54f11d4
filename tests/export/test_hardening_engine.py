"""How an export stops (issue 12, sections 4 and 7), driven through the fake gateway.

The deadline runs on an injected clock that a test moves past it at a chosen event (the Nth batch
created, the listing that settles the batches), so no test waits for or guesses a duration.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import ContactMapping, RateLimiter
from omnisend_sdk._errors import APIConnectionError, PermissionDeniedError, ProblemDetails
from omnisend_sdk._models import Batch
from omnisend_sdk._ratelimit import EndpointFamily
from omnisend_sdk.export._engine import MAX_FAILED_POLLS, Engine, EngineOptions, EngineResult
from omnisend_sdk.export._journal import Journal
from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.export._progress import ExportProgress, SilentProgress
from omnisend_sdk.mapping import MappedRow, map_rows
from omnisend_sdk.sources import open_source
from tests.export.fakes import CreateFault, FakeGateway, auth_error

TAG = "VIP customers"
#: The export's deadline, in seconds of the fake clock.
DEADLINE = 3_600.0
#: A hang fails the test fast instead of stalling CI; a correct run takes milliseconds.
RUN_TIMEOUT = 10.0


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def pass_deadline(self) -> None:
        self.now += DEADLINE + 1


def email(i: int) -> str:
    return f"person{i}@example.com"


def emails(count: int) -> list[str]:
    return [email(i) for i in range(count)]


def mapped(addresses: Sequence[str]) -> Iterator[MappedRow]:
    return map_rows(ContactMapping(email="Email"), open_source([{"Email": a} for a in addresses]))


def flatten(batches: Sequence[Sequence[str]]) -> list[str]:
    return [e for batch in batches for e in batch]


def exported(result: EngineResult) -> int:
    return sum(n for outcome, n in result.outcomes.items() if outcome != "failed")


async def run(
    gateway: FakeGateway,
    addresses: Sequence[str],
    journal: Journal,
    *,
    clock: Callable[[], float] | None = None,
    progress: ExportProgress | None = None,
    **options: Any,
) -> EngineResult:
    options.setdefault("segment_tag", TAG)
    options.setdefault("limits", ExportLimits(deadline=timedelta(seconds=DEADLINE)))
    engine = Engine(
        gateway,
        journal,
        EngineOptions(**options),
        progress=progress or SilentProgress(),
        clock=clock or FakeClock(),
    )
    result = await asyncio.wait_for(engine.run(mapped(addresses)), RUN_TIMEOUT)
    accounted = sum(result.outcomes.values()) + result.invalid + result.duplicates
    assert result.rows_read == accounted + result.over_limit + result.not_sent, result
    return result


class DeadlineAt(FakeGateway):
    """Omnisend, faked, whose clock passes the export's deadline at a chosen event.

    Args:
        clock: The engine's clock.
        after_created: Pass it once this many batches were created.
        when_listed_done: Pass it in the listing that first shows this many batches finished
            (the poll that settles them).
    """

    def __init__(
        self,
        clock: FakeClock,
        *,
        after_created: int | None = None,
        when_listed_done: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self._clock = clock
        self._after_created = after_created
        self._when_listed_done = when_listed_done
        #: The calls made when the deadline passed: none may follow.
        self.at_deadline: Counter[str] | None = None

    def _pass(self) -> None:
        if self.at_deadline is None:
            self._clock.pass_deadline()
            self.at_deadline = Counter(self.calls)

    async def create_batch(self, items: Sequence[bytes]) -> Batch:
        batch = await super().create_batch(items)
        if len(self.created) == self._after_created:
            self._pass()
        return batch

    async def list_batches(self, **query: Any) -> tuple[Batch, ...]:
        listed = await super().list_batches(**query)
        if sum(1 for b in listed if b.done) == self._when_listed_done:
            self._pass()
        return listed


class BookedSlots(FakeGateway):
    """Omnisend, faked, behind a rate limiter whose next slots lie far away.

    Args:
        waits: Per family, the wait a request would get, given the batches created so far.
    """

    def __init__(self, waits: Mapping[str, Callable[[int], float]], **options: Any) -> None:
        super().__init__(**options)
        self._waits = waits

    def next_wait(self, family: EndpointFamily) -> float:
        wait = self._waits.get(family)
        return wait(len(self.created)) if wait is not None else 0.0


class Unreachable(FakeGateway):
    """Omnisend, faked, that takes the batches and then stops answering its listing.

    Args:
        error: What every status read raises.
    """

    def __init__(self, error: Exception, **options: Any) -> None:
        super().__init__(**options)
        self._error = error

    async def list_batches(self, **query: Any) -> tuple[Batch, ...]:
        self.calls["list_batches"] += 1
        raise self._error

    async def get_batch(self, batch_id: str) -> Batch:
        self.calls["get_batch"] += 1
        raise self._error


def connection_error() -> APIConnectionError:
    return APIConnectionError("could not reach 127.0.0.1", method="GET", path="/batches")


# --- the deadline -------------------------------------------------------------------------------


async def test_nothing_new_starts_after_the_deadline_and_a_rerun_sends_the_rest_once(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    gateway = DeadlineAt(clock, after_created=2)
    path = tmp_path / "journal.sqlite"

    stopped = await run(gateway, emails(500), Journal(path, "k"), clock=clock)

    assert stopped.stop_reason == "deadline"
    assert stopped.error is not None
    assert "deadline" in stopped.error
    assert len(gateway.posted) == 2
    # No request of any kind started after the deadline: no post, poll, item fetch or tag call.
    assert gateway.calls == gateway.at_deadline
    assert stopped.not_sent == 500 - exported(stopped)

    rerun = await run(gateway, emails(500), Journal(path, "k"))

    assert rerun.stop_reason is None
    assert exported(rerun) == 500
    assert sorted(flatten(gateway.created)) == sorted(emails(500))  # each row posted once


async def test_a_request_whose_rate_limit_slot_comes_after_the_deadline_is_not_started() -> None:
    # After two batches the brand's budget is booked beyond the deadline (a 429's pause, or
    # many senders): a third post would go out late, so it never starts.
    gateway = BookedSlots({"default": lambda created: 0.0 if created < 2 else 2 * DEADLINE})

    result = await run(gateway, emails(500), Journal(None, "k"))

    assert len(gateway.posted) == 2
    assert result.stop_reason == "deadline"


async def test_a_tag_call_that_would_wait_past_the_deadline_is_left_for_the_next_run(
    tmp_path: Path,
) -> None:
    gateway = BookedSlots({"tags": lambda _created: 2 * DEADLINE})
    path = tmp_path / "journal.sqlite"

    stopped = await run(gateway, emails(300), Journal(path, "k"))

    assert (exported(stopped), stopped.tagged, gateway.tag_calls) == (300, 0, [])
    # Not "completed": the contacts still lack the tag, so the run stays resumable.
    assert stopped.stop_reason == "deadline"
    assert Journal(path, "k").untagged_count() == 300


async def test_rows_exported_but_not_tagged_by_the_deadline_are_tagged_by_the_next_run(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    # The deadline passes in the poll that settles both batches: their 200 rows are exported,
    # fewer than a tag call's 250, so no tag call has started.
    gateway = DeadlineAt(clock, when_listed_done=2)
    path = tmp_path / "journal.sqlite"

    stopped = await run(gateway, emails(200), Journal(path, "k"), clock=clock)

    assert (stopped.stop_reason, exported(stopped), stopped.tagged) == ("deadline", 200, 0)
    assert gateway.tag_calls == []

    rerun = await run(gateway, emails(200), Journal(path, "k"))

    assert len(gateway.posted) == 2  # nothing is sent again: the rerun only tags
    assert sorted(flatten(sent for _, sent in gateway.tag_calls)) == sorted(emails(200))
    assert (rerun.stop_reason, exported(rerun), rerun.tagged) == (None, 200, 200)


def test_the_rate_limiter_tells_the_wait_of_the_next_slot_without_booking_it() -> None:
    now = [0.0]
    limiter = RateLimiter(requests_per_minute=2, window=60.0, clock=lambda: now[0])

    assert limiter.next_wait() == 0.0
    assert limiter.next_wait() == 0.0  # looking books nothing
    assert limiter.book().wait == 0.0
    peeked = limiter.next_wait()
    assert peeked == 30.0  # two a minute, spread evenly
    assert limiter.book().wait == peeked
    assert limiter.next_wait("tags") == 0.0  # another family, another window


# --- the real cause of a stop ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "polls"),
    [
        pytest.param(connection_error(), MAX_FAILED_POLLS, id="unreachable"),
        pytest.param(auth_error(), 1, id="key refused"),
    ],
)
async def test_omnisend_failing_after_the_last_post_stops_with_its_cause_not_the_deadline(
    error: Exception, polls: int
) -> None:
    gateway = Unreachable(error)

    # The fake clock never reaches the deadline: the run ends only because of the failures.
    result = await run(gateway, emails(250), Journal(None, "k"))

    assert gateway.calls["create_batch"] == 3
    assert gateway.calls["list_batches"] == polls  # a refused key is not asked again
    assert result.stop_reason == "error"
    assert result.error_type == type(error).__name__
    assert result.error is not None
    assert str(error) in result.error
    assert "deadline" not in result.error
    assert result.not_sent == 250


async def test_a_refused_key_mid_export_is_the_cause_recorded() -> None:
    gateway = FakeGateway(create_plan=lambda n, _sent: CreateFault(auth_error()) if n > 2 else None)

    result = await run(gateway, emails(500), Journal(None, "k"), concurrency=1)

    assert (result.stop_reason, result.error_type) == ("error", "AuthenticationError")
    assert result.error is not None
    assert "401" in result.error


async def test_a_poll_that_fails_once_does_not_stop_the_export() -> None:
    class FlakyList(FakeGateway):
        async def list_batches(self, **query: Any) -> tuple[Batch, ...]:
            if self.calls["list_batches"] == 0:
                self.calls["list_batches"] += 1
                raise connection_error()
            return await super().list_batches(**query)

    result = await run(FlakyList(), emails(250), Journal(None, "k"))

    assert (result.stop_reason, exported(result)) == (None, 250)


async def test_a_forbidden_key_on_a_poll_stops_at_once() -> None:
    problem = ProblemDetails(status=403, title="Forbidden", detail="blocked")
    gateway = Unreachable(PermissionDeniedError(problem, method="GET", path="/batches"))

    result = await run(gateway, emails(100), Journal(None, "k"))

    assert (result.error_type, gateway.calls["list_batches"]) == ("PermissionDeniedError", 1)
