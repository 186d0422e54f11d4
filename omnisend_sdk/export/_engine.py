"""The export engine: rows in, batches out at the pace Omnisend allows, every row accounted for.

One coroutine reads and maps the source and packs batches; ``concurrency`` senders post them (the
client's limiter books each request a slot, so more senders only cover more latency, never more
than the budget); a tracker follows the batches in flight with one listing per poll and settles
each; the tagger marks segment membership beside it all. Every step is journaled before the next,
so a killed export resumes where it stopped.

How a run stops, and what it then still does:

- **the deadline**: nothing new starts, and no request is started whose rate-limit slot comes
  after it; requests in flight finish. Batches not yet settled, and rows exported but not yet
  tagged, wait in the journal for the next run.
- **a cancellation** (Ctrl-C, the cancel event): the same, at once.
- **Omnisend's error** (after the client's retries): sending stops; the batches in flight are
  followed a little longer while Omnisend still answers, so fewer rows are left open.
- **a local failure** (the journal cannot be written, or a bug in a task): everything stops at
  once and the error is raised; what the journal holds resumes exactly.

The reason and its message go into the result, so the report says what really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import attrs

from omnisend_sdk._constants import BATCH_RETENTION, LOGGER_NAME
from omnisend_sdk._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    GoneError,
    InvalidRequestError,
    OmnisendError,
    OutcomeUnknownError,
    PermissionDeniedError,
)
from omnisend_sdk._models import Batch, BatchItems
from omnisend_sdk._ratelimit import EndpointFamily
from omnisend_sdk.export._admission import Admission, Decision
from omnisend_sdk.export._batcher import Batcher, PendingItem, PreparedRow
from omnisend_sdk.export._gateway import ExportGateway, PacedGateway
from omnisend_sdk.export._journal import (
    BatchRow,
    DoneRow,
    DoneRows,
    Journal,
    JournalBatch,
    RowOutcome,
    RowSet,
)
from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.export._members import email_key
from omnisend_sdk.export._progress import ExportProgress
from omnisend_sdk.export._reconcile import (
    Settlement,
    failure_issue,
    issue_from_dict,
    issue_to_dict,
    settle,
    settle_clean,
)
from omnisend_sdk.export._storage import ExportStateError
from omnisend_sdk.export._tagger import Tagger
from omnisend_sdk.export._tracker import TrackedBatch, Tracker
from omnisend_sdk.mapping import MappedRow, RowIssue

logger = logging.getLogger(LOGGER_NAME)

StopReason = Literal["deadline", "cancelled", "limit", "error", "unsettled"]

#: Batches each sender may have waiting in the queue: enough to never starve a sender.
_QUEUE_PER_SENDER = 2
#: A row Omnisend answers "not now" (429 or 5xx inside a batch) this many times counts as failed.
DEFAULT_MAX_ITEM_ATTEMPTS = 3
#: Whatever the reasons, a row is sent in at most this many batches: a guard against loops.
MAX_ITEM_SENDS = 12
#: Senders by default: at 400 requests a minute this covers up to ~2.4 s of latency per request.
DEFAULT_CONCURRENCY = 16
#: Polls per rate-limit window at the slowest: 3 (every 20 s at Omnisend's real pace) keeps polling
#: under 1% of the requests of a full-speed export, with about 150 batches in memory, all of them
#: on one page of the listing (LIST_PAGE_SIZE).
POLLS_PER_WINDOW = 3
#: The first look at new batches comes sooner (1 s at the real pace), then the interval doubles up
#: to the slowest pace: small exports finish quickly, big ones poll economically.
FIRST_POLLS_PER_WINDOW = 60
#: After a stop, in-flight batches are still followed for this many windows before giving up.
SETTLE_WINDOWS = 2.0
#: On resume, batches whose ``POST`` answer was lost are looked for until each is found or given
#: up (a few polls), for at most this many windows: the first polls fetch the items of every
#: candidate batch, which at a slow pace takes longer than settling known batches.
LOST_SEARCH_WINDOWS = 10.0
#: Polls in a row that fail (each after the client's own retries) before the export stops: an
#: unreachable Omnisend must end the run with its real cause, not hold it until the deadline.
MAX_FAILED_POLLS = 3
#: Omnisend's answers that no retry or later poll can change: the key, its permissions, the
#: API version. One is enough to stop.
_HOPELESS: tuple[type[OmnisendError], ...] = (
    AuthenticationError,
    PermissionDeniedError,
    GoneError,
)


_OUTCOMES: tuple[RowOutcome, ...] = get_args(RowOutcome)
_CHANGES = ("new", "changed", "unchanged")


@attrs.frozen(kw_only=True)
class EngineOptions:
    """How the engine runs (the public options of ``export_segment``, resolved)."""

    segment_tag: str | None
    limits: ExportLimits = attrs.field(factory=ExportLimits)
    concurrency: int = DEFAULT_CONCURRENCY
    max_item_attempts: int = DEFAULT_MAX_ITEM_ATTEMPTS
    detailed: bool = False


@attrs.define
class EngineResult:
    """What the engine counted; the public report is built from it."""

    rows_read: int = 0
    outcomes: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(_OUTCOMES, 0))
    invalid: int = 0
    duplicates: int = 0
    over_limit: int = 0
    not_sent: int = 0
    batches: int = 0
    tagged: int = 0
    tag_failed: int = 0
    #: Admitted rows by what changed since the members were confirmed (``new``, ``changed``,
    #: ``unchanged``); a first export's rows are all new.
    changes: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(_CHANGES, 0))
    #: A refresh: the rows were diffed against the members an earlier run confirmed.
    refresh: bool = False
    #: Members who left the segment in this refresh.
    exited: int = 0
    #: Members whose segment tag this run removed, and those whose removal failed.
    untagged: int = 0
    untag_failed: int = 0
    issues: list[RowIssue] = attrs.field(factory=list)
    stop_reason: StopReason | None = None
    #: Why the run stopped early, in words (the error's message for ``"error"``).
    error: str | None = None
    #: The class of the error that stopped the run (``"AuthenticationError"``...), if one did.
    error_type: str | None = None

    def copy(self) -> EngineResult:
        """A copy whose counts can change without changing these."""
        return attrs.evolve(
            self,
            outcomes=dict(self.outcomes),
            changes=dict(self.changes),
            issues=list(self.issues),
        )

    def skipped_counts(self) -> dict[str, int]:
        """Rows skipped on purpose, by reason, as the plan and the report name them."""
        return {
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "over_limit": self.over_limit,
        }

    def record(self, decision: Decision) -> None:
        """Count a row admission decided on: skipped rows by reason, and every row's issues."""
        self.issues.extend(decision.issues)
        if decision.outcome == "invalid":
            self.invalid += 1
        elif decision.outcome == "duplicate":
            self.duplicates += 1
        elif decision.outcome == "over_limit":
            self.over_limit += 1


class Engine:
    """One run of one export. Use once.

    Args:
        gateway: Where requests go.
        journal: The export's state.
        options: How to run.
        progress: Told of the run's progress.
        cancel: Set it to stop the run cleanly.
        clock: Monotonic seconds, for the deadline (tests inject their own).
    """

    def __init__(
        self,
        gateway: ExportGateway,
        journal: Journal,
        options: EngineOptions,
        *,
        progress: ExportProgress,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._journal = journal
        self._options = options
        self._progress = progress
        self._cancel = cancel or threading.Event()
        self._clock = clock
        self._deadline = clock() + options.limits.deadline.total_seconds()
        # How long a request would wait for its rate-limit slot; a fake gateway never waits.
        self._next_wait = gateway.next_wait if isinstance(gateway, PacedGateway) else None
        self._result = EngineResult()
        self._refresh = False  # the rows are a refresh's work list, counted by its first pass
        self._reading = False  # the source pass has begun: the counts are the run's own
        self._returned = False  # run() returned: the result is final
        self._crash: BaseException | None = None  # a local failure that stops the run at once
        self._failed_polls = 0  # polls in a row that Omnisend did not answer
        # Unbounded, so a sender or the tracker can hand batches back without ever blocking;
        # the producer alone is held back, by ``_room``, to keep memory flat.
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._room = asyncio.Semaphore(options.concurrency * _QUEUE_PER_SENDER)
        self._pending_rows = 0  # rows handed to a batch and not yet at a final outcome
        self._produced = False  # every row has been read and queued
        self._posting = 0  # batch posts under way
        self._wake_tracker = asyncio.Event()  # set when the last post is answered
        self._moved = asyncio.Event()  # set whenever rows reach an outcome, or the run stops
        self._tracker = Tracker(gateway, self._settle_batch, self._resend_lost)
        self._tagger = (
            Tagger(
                gateway,
                journal,
                options.segment_tag,
                # A tag call that cannot start before the deadline ends the run there: its
                # contacts lack the tag, so the run must stay resumable, never "completed".
                may_start=lambda: not self.out_of_time("tags"),
                crashed=self._crashed,
            )
            if options.segment_tag
            else None
        )
        # The client's facts are fixed for a run: read once, not per row.
        self._facts = gateway.facts
        self._poll_interval = self._facts.window / POLLS_PER_WINDOW
        self._first_poll = min(self._poll_interval, self._facts.window / FIRST_POLLS_PER_WINDOW)
        self._throttled_seen = gateway.stats().throttled_seconds

    @property
    def result(self) -> EngineResult:
        """The counts so far (final once :meth:`run` has returned)."""
        return self._result

    # --- the run -------------------------------------------------------------------------------

    async def run(
        self, rows: Iterable[MappedRow | PreparedRow], *, counted: EngineResult | None = None
    ) -> EngineResult:
        """Export the rows; returns the counts once everything is settled or stopped.

        Args:
            rows: The mapped rows of the source; or a refresh's work list, the rows its first
                pass admitted and found to send.
            counted: With a work list: the first pass's counts (rows read, skipped, changes,
                issues), which the engine completes with what it sends.

        Raises:
            ExportStateError: The journal could not be written; nothing more was sent, and
                what the journal holds resumes exactly.
        """
        if counted is not None:
            # Taken before anything can stop the run: its report is built on these counts.
            self._result, self._refresh = counted, True
        senders = [asyncio.create_task(self._send_loop()) for _ in range(self._options.concurrency)]
        tasks = list(senders)
        try:
            skip = await self._resume()
            tasks.append(asyncio.create_task(self._track_loop()))
            self._reading = True
            await self._produce(rows, skip)
            self._produced = True
            await self._wait_until_settled()
            self._raise_crash()
            for _ in senders:
                self._queue.put_nowait(None)
            await asyncio.gather(*senders)
            self._raise_crash()
        except BaseException as error:
            # Cancelled (Ctrl-C), a local failure or a bug: stop every task now; the journal
            # already holds each step taken, so a rerun picks up from here.
            self._stopped_by(error)
            for task in senders:
                task.cancel()
            if self._tagger is not None:
                self._tagger.cancel()
            raise
        finally:
            for task in tasks[len(senders) :]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._note_unconfirmed()
            self._result.not_sent += self._pending_rows
            self._pending_rows = 0  # counted now: a report made later must not count them again
        try:
            await self._close_tagger()
            if self._result.stop_reason is None and self._result.not_sent:
                # Rows still in batches an earlier run sent, which Omnisend has not finished
                # (or we could not find yet): the export is not done until a rerun settles them.
                self._stop(
                    "unsettled",
                    f"{self._result.not_sent:,} rows are in batches Omnisend has not finished",
                )
            if self._result.stop_reason is None:
                self._journal.finish()
        except BaseException as error:
            self._stopped_by(error)
            raise
        self._returned = True
        return self._result

    def _note_unconfirmed(self) -> None:
        """Say in the stop's message how many "not sent" rows did go, unconfirmed.

        After the deadline or a cancellation no poll starts, so batches Omnisend accepted stay
        unsettled: their rows count as not sent, and the next run settles them.
        """
        unconfirmed = self._tracker.rows()
        if unconfirmed and self._result.error and self._result.stop_reason != "unsettled":
            self._result.error += (
                f" ({unconfirmed:,} rows were sent and wait for Omnisend's confirmation: "
                "the next run settles them)"
            )

    def partial_result(self, error: BaseException | None = None) -> EngineResult:
        """The counts of a run that did not return (interrupted, or failed), at this moment.

        They add up whenever they are taken: rows in flight count as not sent; before the
        source pass began (an interrupt while an earlier run's batches were reconciled), the
        counts are the journal's, so a report never says "0 rows read" of a half-done export.

        Args:
            error: What ended the run, when the engine itself did not record it (a failure
                before or after sending); without one, the run was interrupted.
        """
        if self._returned:
            return self._result
        result = self._result.copy() if self._reading else self._journal_result()
        result.not_sent += self._pending_rows
        if result.stop_reason in (None, "limit"):
            if isinstance(error, Exception):
                result.stop_reason, result.error = "error", _error_text(error)
                result.error_type = type(error).__name__
            else:
                result.stop_reason, result.error = "cancelled", _CANCELLED
        return result

    def _journal_result(self) -> EngineResult:
        """What the journal says of this export so far (its rows done, and those in flight)."""
        result = self._result.copy()
        try:
            done = self._journal.outcome_counts()
            in_flight = sum(len(b.rows) for b in self._journal.unresolved_batches())
            failures = [issue_from_dict(i) for i in self._journal.failure_issues()]
        except ExportStateError:
            return result  # the journal cannot say: the counts taken so far will do
        result.outcomes = {outcome: done.get(outcome, 0) for outcome in _OUTCOMES}
        result.issues.extend(failures)
        if not self._refresh:
            # An export counts the rows it reached; a refresh's first pass counted them all.
            result.rows_read = sum(done.values()) + in_flight
            result.changes["new"] = result.rows_read
            result.not_sent = in_flight
        return result

    async def _resume(self) -> _Skip:
        """Settle what an earlier run left in flight; returns the rows this pass must not send."""
        if not self._journal.resumed:
            return _Skip(DoneRows(), RowSet(), array("q"))
        self._report_done_before()
        if self._tagger is not None:
            # Before reconciling: rows it settles are counted in as they settle.
            self._tagger.add(self._journal.untagged_count())
        unresolved = self._journal.unresolved_batches()
        if unresolved:
            logger.info("resuming: reconciling %d batches left in flight", len(unresolved))
            # The source pass counts every done row from the journal, these included: only the
            # batches found are this run's to count.
            counts, self._result = self._result, EngineResult()
            try:
                await self._reconcile_unresolved(unresolved)
            finally:
                counts.batches += self._result.batches
                self._result = counts
        open_rows = [r for b in self._journal.unresolved_batches() for r in b.rows]
        keys = self._journal.row_keys()
        for open_row in open_rows:
            keys = _with_key(keys, open_row.row, email_key(open_row.email))
        return _Skip(self._journal.rows_done(), RowSet(r.row for r in open_rows), keys)

    def _report_done_before(self) -> None:
        """Progress starts where the earlier runs stopped, not at 0."""
        done = self._journal.outcome_counts()
        failed = done.get("failed", 0)
        exported = sum(done.values()) - failed
        if exported or failed:
            self._progress.batch_done(exported, failed)

    async def _reconcile_unresolved(self, unresolved: Sequence[JournalBatch]) -> None:
        retention_start = datetime.now(UTC) - BATCH_RETENTION
        for entry in unresolved:
            if entry.sent_at is None or entry.sent_at < retention_start:
                self._journal.batch_dropped(entry.seq)  # never trust an id Omnisend has dropped
                continue
            items = [
                PendingItem(
                    row.row,
                    row.email,
                    b"",
                    0,
                    fingerprint=row.fingerprint,
                    tag=row.tag,
                    record=row.record,
                )
                for row in entry.rows
            ]
            self._tracker.track(TrackedBatch(entry.seq, items, entry.sent_at, entry.batch_id))
        self._pending_rows += self._tracker.rows()
        started = self._clock()
        settle_by = started + SETTLE_WINDOWS * self._facts.window
        search_by = started + LOST_SEARCH_WINDOWS * self._facts.window
        while len(self._tracker) and self._may_poll():
            now = self._clock()
            if now >= search_by or (now >= settle_by and not self._tracker.searching()):
                break
            self._judge_poll(await self._tracker.poll_safely())
            if len(self._tracker):
                await asyncio.sleep(self._first_poll)
        # What is still unsettled stays in the journal for a later run; this pass skips its rows.
        self._pending_rows -= self._tracker.rows()
        self._tracker = Tracker(self._gateway, self._settle_batch, self._resend_lost)

    async def _produce(self, rows: Iterable[MappedRow | PreparedRow], skip: _Skip) -> None:
        if self._journal.resumed and self._stopping():
            # Stopped while reconciling an earlier run's batches (cancelled, the deadline, a
            # refused key): the journal says what is done; reading the source now would only
            # count rows never sent, and report "0 exported" of a half-done export.
            self._result = self._journal_result()
            return
        batcher = Batcher(self._facts.batch_size)
        admission = Admission(self._options.limits, admitted=len(skip.done) + len(skip.open))
        failure_issues = {i["row"]: i for i in self._journal.failure_issues()} if skip.done else {}
        skipping = bool(skip)
        for count, mapped in enumerate(rows, start=1):
            if isinstance(mapped, PreparedRow):  # admitted and counted by a refresh's first pass
                if not (skipping and self._handled_before(mapped.row, skip, failure_issues)):
                    await self._pack(batcher, mapped.item())
            else:
                self._result.rows_read += 1
                if (
                    skipping
                    and mapped.ok
                    and skip.same_row(mapped.row, mapped.email)
                    and self._handled_before(mapped.row, skip, failure_issues)
                ):
                    self._result.changes["new"] += 1
                    # Its warnings, as a clean run reports them (the mapper found them again).
                    self._result.issues.extend(mapped.issues)
                else:
                    decision = admission.decide(mapped)
                    self._result.record(decision)
                    if decision.outcome == "send":
                        self._result.changes["new"] += 1
                        await self._pack(batcher, self._item(mapped))
                    elif admission.limit_reached:
                        self._stop("limit", "the segment is over the profile limit")
            if count % 1000 == 0:
                await asyncio.sleep(0)  # let senders and the tracker run between chunks of rows
            if self._stopping():
                break
        last = batcher.flush()
        if last:
            await self._enqueue_new(last)

    def _handled_before(
        self, row: int, skip: _Skip, failure_issues: Mapping[int, Mapping[str, Any]]
    ) -> bool:
        """Count a row an earlier run of this export settled or left in flight; else False."""
        if row in skip.done:
            self._result.outcomes[skip.done.outcome(row)] += 1
            if row in failure_issues:
                self._result.issues.append(issue_from_dict(failure_issues[row]))
            return True
        if row in skip.open:
            self._result.not_sent += 1  # still in an earlier run's unsettled batch
            return True
        return False

    def _item(self, mapped: MappedRow) -> PendingItem:
        """An admitted row of a first export: new, so tagged under membership."""
        body = mapped.to_json(self._facts.api_version)
        assert body is not None
        assert mapped.email is not None
        return PendingItem.of(
            mapped.row, mapped.email, body, tag=self._tagger is not None, record=mapped.record
        )

    async def _pack(self, batcher: Batcher, item: PendingItem) -> None:
        """Add an item to the batch being built; queue each batch that fills up."""
        self._pending_rows += 1
        for batch in batcher.add(item):
            await self._enqueue_new(batch)

    async def _enqueue_new(self, items: list[PendingItem]) -> None:
        """Queue a batch read from the source, once a sender has room for it."""
        await self._room.acquire()
        self._queue.put_nowait(_Queued(items, new=True))

    def _enqueue_again(self, items: list[PendingItem]) -> None:
        """Queue rows to be sent again; never waits, so no sender can block itself."""
        if items:
            self._queue.put_nowait(_Queued(items, new=False))

    # --- stopping ------------------------------------------------------------------------------

    def stopping(self) -> bool:
        """Whether the run is stopping (the deadline passed, it was cancelled, or it failed)."""
        if self._cancel.is_set() or self._clock() >= self._deadline:
            return True
        return self._result.stop_reason not in (None, "limit")

    def may_start(self, family: EndpointFamily = "default") -> bool:
        """Whether a new request may start: not cancelled, and its rate-limit slot is due
        before the deadline (a request that would wait past it is not started at all)."""
        if self._cancel.is_set():
            return False
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            return False
        return self._next_wait is None or self._next_wait(family) < remaining

    def out_of_time(self, family: EndpointFamily = "default") -> bool:
        """Whether no new request may start; records why (the deadline, a cancellation)."""
        return not self._admit(family)

    def _admit(self, family: EndpointFamily = "default") -> bool:
        if self.may_start(family):
            return True
        if self._cancel.is_set():
            self._stop("cancelled", _CANCELLED)
        else:
            self._stop("deadline", self._deadline_text())
        return False

    def _deadline_text(self) -> str:
        return (
            f"the deadline ({self._options.limits.deadline}) came before every row was sent "
            "and settled"
        )

    def _stop(self, reason: StopReason, detail: str, error: BaseException | None = None) -> None:
        """Record why the run stops; the first cause is the one reported.

        ``"limit"`` stops reading, not sending, so a later cause replaces it.
        """
        if self._result.stop_reason not in (None, "limit"):
            return
        if reason not in ("error", "limit"):  # errors are logged where they are met
            logger.info("stopping the export: %s", detail)
        self._result.stop_reason = reason
        self._result.error = detail
        self._result.error_type = type(error).__name__ if error is not None else None
        self._moved.set()  # whoever waits for rows to move must look again

    def _failed(self, error: OmnisendError) -> None:
        """Omnisend's error (after the client's retries) stops sending."""
        logger.error("stopping the export: %s", error)
        self._stop("error", f"{type(error).__name__}: {error}", error)

    def _crashed(self, error: BaseException) -> None:
        """A task failed for a local reason (the journal, a bug): stop everything at once.

        The run raises the error once its tasks have stopped; a later failure (the same full
        disk, met by another task) adds nothing.
        """
        if self._crash is not None:
            return
        self._crash = error
        logger.error("stopping the export: %s", error)
        self._result.stop_reason = None  # this cause wins over any other: it is why run() raises
        self._stop("error", _error_text(error), error)

    def _raise_crash(self) -> None:
        if self._crash is not None:
            raise self._crash

    def _stopped_by(self, error: BaseException) -> None:
        """Record why run() ends with ``error``."""
        if isinstance(error, Exception) and error is not self._crash:
            self._crashed(error)
        elif not isinstance(error, Exception):  # Ctrl-C, or the task was cancelled
            self._stop("cancelled", _CANCELLED)

    def _stopping(self) -> bool:
        """Whether reading must stop (the cap stops it too); records a cancel or the deadline."""
        if self._result.stop_reason not in (None, "limit"):
            return True
        if self._cancel.is_set():
            self._stop("cancelled", _CANCELLED)
        elif self._clock() >= self._deadline:
            self._stop("deadline", self._deadline_text())
        return self._result.stop_reason is not None

    def _settled(self) -> bool:
        return self._pending_rows == 0 and self._queue.empty()

    async def _wait_until_settled(self) -> None:
        folded = False
        while not self._settled():
            if self._sending_stopped():
                await self._follow_in_flight()
                return
            if not folded:
                # The source is read; only the last batches are left, and Omnisend takes a
                # while over each: fold what it confirmed so far, so that the run's end has only
                # the rest to do. The posts this holds up are made up after it: the limiter
                # lets late requests catch up with its pace (up to a tenth of a window).
                folded = True
                self._journal.fold_confirmed()
            self._moved.clear()
            try:
                timeout = self._until_deadline(self._poll_interval)
                await asyncio.wait_for(self._moved.wait(), timeout=timeout)
            except TimeoutError:
                continue

    async def _follow_in_flight(self) -> None:
        """After Omnisend's error, follow what is in flight while it still answers.

        After the deadline, a cancellation or a local failure nothing new starts, so there is
        nothing to wait for: the next run settles the batches in flight.
        """
        settle_by = self._clock() + SETTLE_WINDOWS * self._facts.window
        while len(self._tracker) and self._clock() < settle_by and self._may_poll():
            self._moved.clear()  # set by every poll, so a failed one ends the wait at once
            with contextlib.suppress(TimeoutError):
                timeout = self._until_deadline(self._poll_interval)
                await asyncio.wait_for(self._moved.wait(), timeout=timeout)

    def _until_deadline(self, seconds: float) -> float:
        """``seconds``, or less when the deadline comes sooner: no wait outlasts it."""
        return max(_MIN_WAIT, min(seconds, self._deadline - self._clock()))

    def _may_poll(self) -> bool:
        """Whether the tracker may poll: not after the deadline, a cancellation or a local
        failure; after Omnisend's error, only while its polls still get answers."""
        if self._crash is not None:
            return False
        if self._result.stop_reason == "error" and self._failed_polls:
            return False
        if self._result.stop_reason not in (None, "limit", "error"):
            return False
        return self._admit()

    def _judge_poll(self, failure: OmnisendError | None) -> None:
        """A poll that fails for good (a refused key), or several in a row, stops the export:
        otherwise an unreachable Omnisend would hold the run until the deadline."""
        self._moved.set()
        if failure is None:
            self._failed_polls = 0
            return
        self._failed_polls += 1
        if isinstance(failure, _HOPELESS) or self._failed_polls >= MAX_FAILED_POLLS:
            self._failed(failure)

    # --- sending -------------------------------------------------------------------------------

    def _sending_stopped(self) -> bool:
        # Reaching the cap stops reading, not sending: rows under the cap still go.
        return self._stopping() and self._result.stop_reason != "limit"

    async def _send_loop(self) -> None:
        while (queued := await self._queue.get()) is not None:
            if queued.new:
                self._room.release()
            if self._sending_stopped() or not self._admit():
                continue  # left for a resumed run: the rows stay pending, so count as not sent
            try:
                await self._send(queued.items)
            except Exception as error:  # the journal, or a bug: stop the run, then raise it
                self._crashed(error)

    async def _send(self, items: list[PendingItem]) -> None:
        seq = self._journal.batch_built(
            [BatchRow(i.row, i.email, i.fingerprint, i.tag, i.record) for i in items]
        )
        sent_at = datetime.now(UTC)
        self._journal.batch_sent(seq, sent_at)
        for item in items:
            item.sends += 1
        self._posting += 1
        try:
            batch = await self._gateway.create_batch([i.body for i in items])
        except OutcomeUnknownError:
            logger.warning(
                "a batch of %d may or may not have been created; looking it up", len(items)
            )
            self._tracker.track(TrackedBatch(seq, items, sent_at, lost=True))
        except (BadRequestError, InvalidRequestError) as error:
            self._journal.batch_dropped(seq)
            await self._refused(items, error)
        except OmnisendError as error:
            # Retries are spent (or the key was refused): stop cleanly, leave a resumable run.
            self._journal.batch_dropped(seq)
            self._failed(error)
        else:
            self._result.batches += 1
            self._journal.batch_accepted(seq, batch.batch_id)
            self._tracker.track(TrackedBatch(seq, items, sent_at, batch.batch_id))
            self._progress.batch_sent(len(items))
        finally:
            self._posting -= 1
            if self._all_posted():
                self._wake_tracker.set()  # the budget is free now: follow the last batches closely

    async def _refused(self, items: list[PendingItem], error: OmnisendError) -> None:
        """Omnisend refused a whole batch: halve it until the bad rows stand alone."""
        if len(items) > 1:
            for half in _halves(items):
                self._enqueue_again(half)
            return
        (item,) = items
        reason = error.problem.detail if isinstance(error, APIStatusError) else None
        issue = failure_issue(
            item,
            code="rejected_by_omnisend",
            message=f"Omnisend refused the contact: {reason or error}",
        )
        done = [DoneRow(item.row, item.email, "failed", issue_to_dict(issue))]
        self._journal.rows_finished(done)
        self._finish_rows(done, [issue], to_tag=0)

    # --- following batches ---------------------------------------------------------------------

    async def _track_loop(self) -> None:
        # Only the tagger needs settled rows early (a contact must exist before its tag call);
        # without it the first look waits for the slow pace, since every poll spends a request
        # of the budget the batches need. The last batches are followed closely either way.
        interval = self._first_poll if self._tagger is not None else self._poll_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_tracker.wait(), timeout=interval)
            self._wake_tracker.clear()
            if not self._may_poll():
                self._moved.set()  # nothing more will settle: whoever waits must know
                return
            if len(self._tracker):
                try:
                    self._judge_poll(await self._tracker.poll_safely())
                except Exception as error:  # the journal, or a bug: stop, then raise it
                    self._crashed(error)
                    return
            self._report_throttling()
            # Poll sooner when nothing is being followed, or when everything has been sent (the
            # budget is free then, and only the last batches stand between us and the end).
            slow_down = len(self._tracker) > 0 and not self._all_posted()
            interval = min(interval * 2, self._poll_interval) if slow_down else self._first_poll
            interval = self._until_deadline(interval)

    def _all_posted(self) -> bool:
        return self._produced and self._queue.empty() and self._posting == 0

    def _report_throttling(self) -> None:
        throttled = self._gateway.stats().throttled_seconds
        if throttled > self._throttled_seen:
            self._progress.throttled(throttled - self._throttled_seen)
            self._throttled_seen = throttled

    async def _settle_batch(
        self, tracked: TrackedBatch, batch: Batch, answers: BatchItems | None
    ) -> None:
        if tracked.lost:
            self._result.batches += 1  # found after its answer was lost
        items = tracked.items
        if answers is None and batch.status == "finished" and batch.errors_count == 0:
            settlement = (
                settle(items, await self._gateway.batch_items(batch.batch_id))
                if self._options.detailed
                else settle_clean(items)
            )
        else:
            settlement = settle(items, answers or await self._gateway.batch_items(batch.batch_id))
        await self._apply(tracked, batch, settlement)

    async def _apply(self, tracked: TrackedBatch, batch: Batch, settlement: Settlement) -> None:
        done = list(settlement.done)
        issues = list(settlement.issues)
        again: list[PendingItem] = []
        released = 0
        for item in settlement.retry:
            item.attempts += 1  # Omnisend processed it and answered "not now"
        for item in (*settlement.retry, *settlement.unprocessed):
            if not item.body:
                released += 1  # an earlier run's row: this run's source pass sends it again
            elif item.attempts >= self._options.max_item_attempts or item.sends >= MAX_ITEM_SENDS:
                issue = failure_issue(
                    item,
                    code="gave_up",
                    message=f"Omnisend could not process the contact (sent {item.sends} times)",
                )
                issues.append(issue)
                done.append(DoneRow(item.row, item.email, "failed", issue_to_dict(issue)))
            else:
                again.append(item)
        self._journal.batch_reconciled(tracked.seq, done)
        self._pending_rows -= released
        needs_tag = {item.row for item in tracked.items if item.tag}
        to_tag = sum(1 for d in done if d.outcome != "failed" and d.row in needs_tag)
        self._finish_rows(done, issues, to_tag=to_tag)
        # A stopped batch goes again in halves, so its bad rows stop less of the rest.
        for part in _halves(again) if batch.status == "stopped" else [again]:
            self._enqueue_again(part)

    async def _resend_lost(self, tracked: TrackedBatch) -> None:
        """A lost batch was never created (or is gone): send its rows again."""
        self._journal.batch_dropped(tracked.seq)
        resendable = [i for i in tracked.items if i.body]
        self._pending_rows -= len(tracked.items) - len(resendable)
        self._enqueue_again(resendable)

    def _finish_rows(
        self, done: Sequence[DoneRow], issues: Sequence[RowIssue], *, to_tag: int
    ) -> None:
        """Count rows that reached their outcome (already journaled); tag the ``to_tag`` ones."""
        for row in done:
            self._result.outcomes[row.outcome] += 1
        self._result.issues.extend(issues)
        self._pending_rows -= len(done)
        failed = sum(1 for d in done if d.outcome == "failed")
        exported = len(done) - failed
        if self._tagger is not None and to_tag:
            self._tagger.add(to_tag)
        self._progress.batch_done(exported, failed)
        self._moved.set()

    async def _close_tagger(self) -> None:
        if self._tagger is None:
            return
        await self._tagger.close(flush=not self._sending_stopped())
        self._result.tagged = self._journal.tagged_count()
        self._result.tag_failed = self._tagger.failed


_CANCELLED = "cancelled (Ctrl-C, or the cancel event was set) before every row was sent"
#: The shortest wait of a loop that watches the deadline: never a busy loop just before it.
_MIN_WAIT = 0.001


@attrs.frozen
class _Queued:
    """A batch waiting for a sender; ``new`` ones came from the source and hold a room slot."""

    items: list[PendingItem]
    new: bool


@attrs.frozen
class _Skip:
    """Rows an earlier run settled (done) or left in flight (open), with their email keys."""

    done: DoneRows
    open: RowSet
    keys: array[int]  # by row number: the email key the earlier run had there, 0 for none

    def __bool__(self) -> bool:
        """Whether any row is to skip (a first run, the usual case, checks no row)."""
        return bool(len(self.done) or len(self.open))

    def same_row(self, row: int, email: str | None) -> bool:
        """Whether ``row`` holds the email the earlier run had there.

        Rows are skipped by number on resume; a source that changed in between (an edited
        file, a query without ORDER BY) would otherwise have its new rows skipped unsent.
        """
        if row >= len(self.keys) or self.keys[row] == 0:
            return True  # the earlier run did not reach it: nothing to skip either way
        same = email is not None and self.keys[row] == email_key(email)
        if not same:
            logger.warning("row %d is not the row an earlier run sent; sending it", row)
        return same


def _with_key(keys: array[int], row: int, key: int) -> array[int]:
    if row >= len(keys):
        keys.extend(array("q", [0]) * (row + 1 - len(keys)))
    keys[row] = key
    return keys


def _error_text(error: BaseException) -> str:
    """A local failure as the report says it: a full disk by its cause, not SQLite's words."""
    said = error.summary if isinstance(error, ExportStateError) else str(error)
    return f"{type(error).__name__}: {said}"


def _halves(items: list[PendingItem]) -> list[list[PendingItem]]:
    if len(items) < 2:
        return [items] if items else []
    middle = len(items) // 2
    return [items[:middle], items[middle:]]
