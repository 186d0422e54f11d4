"""Following batches to the end, economically.

Polling each batch would cost a request per batch per look, from the same per-brand budget the
batches themselves need. Instead one ``GET /batches`` page (100 batches, newest first) answers for
every batch the export has in flight; a batch missing from the list is looked up alone. Batches
whose ``POST`` answer was lost are found in the same list: a batch of the same size, created after
it was sent, whose items carry the same emails *and the same bodies*. The bodies matter: a
refresh sends the same emails as the run before it, minutes apart, and taking that run's batch
for the lost one would record the old bodies as the new ones. A batch whose items Omnisend
echoes differently is never matched; it is sent again, which an upsert by email makes safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import attrs

from omnisend_sdk import _json
from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import NotFoundError, OmnisendError
from omnisend_sdk._models import Batch, BatchItems
from omnisend_sdk.export._batcher import PendingItem
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._members import body_fingerprint
from omnisend_sdk.export._storage import ExportStateError

logger = logging.getLogger(LOGGER_NAME)

#: Batches per ``GET /batches`` page: the most Omnisend allows (its published OpenAPI of
#: 2026-03-15 gives ``limit`` 1 to 250, default 100). Batches are listed newest first, and those
#: posted while a poll waits for its rate-limit slot push the oldest in flight further down: with
#: pages of 100, most polls of a full-speed export needed a second request.
LIST_PAGE_SIZE = 250
#: Clocks differ (ours, Omnisend's, a time-scaled emulator's): look this far before a send time.
CLOCK_MARGIN = timedelta(minutes=5)


@attrs.define
class TrackedBatch:
    """A batch the export has sent and not yet settled.

    Attributes:
        seq: Its journal sequence number.
        items: What it carries.
        sent_at: When its ``POST`` went out (UTC).
        batch_id: Omnisend's id; ``None`` while the ``POST`` answer is lost and the batch unfound.
        lost: Whether the ``POST`` answer was lost (the batch had to be looked up).
        lost_polls: Polls that have not found a lost batch yet.
    """

    seq: int
    items: list[PendingItem]
    sent_at: datetime
    batch_id: str | None = None
    lost: bool = False
    lost_polls: int = 0


Settle = Callable[[TrackedBatch, Batch, BatchItems | None], Awaitable[None]]
Resend = Callable[[TrackedBatch], Awaitable[None]]


class Tracker:
    """Keeps the batches in flight and settles each once Omnisend is done with it.

    Args:
        gateway: Where to ask.
        settle: Called with a batch that is ``finished`` or ``stopped`` (and its items, when they
            were fetched to find it).
        resend: Called with a lost batch that Omnisend never created; its rows must be sent again.
        lost_polls: Polls after which a lost batch counts as never created.
    """

    def __init__(
        self, gateway: ExportGateway, settle: Settle, resend: Resend, *, lost_polls: int = 6
    ) -> None:
        self._gateway = gateway
        self._settle = settle
        self._resend = resend
        self._max_lost_polls = lost_polls
        self._batches: dict[int, TrackedBatch] = {}
        self._ours: set[str] = set()
        # The (email, body fingerprint) pairs each candidate batch answered for, fetched once: a
        # candidate that is not one lost batch may still be another.
        self._answered: dict[str, tuple[frozenset[tuple[str, int]], BatchItems]] = {}

    def track(self, batch: TrackedBatch) -> None:
        """Follow a batch until it is settled."""
        self._batches[batch.seq] = batch
        if batch.batch_id is not None:
            self._ours.add(batch.batch_id)

    def __len__(self) -> int:
        return len(self._batches)

    def searching(self) -> bool:
        """Whether a batch whose ``POST`` answer was lost is still being looked for."""
        return any(b.batch_id is None for b in self._batches.values())

    def rows(self) -> int:
        """Rows in batches still followed."""
        return sum(len(b.items) for b in self._batches.values())

    async def poll(self) -> None:
        """Look once at every batch in flight; settle those Omnisend is done with."""
        if not self._batches:
            return
        # Only batches known before the listing: one sent while it was under way may be missing
        # from it, and is better looked at in the next poll than fetched alone.
        known = list(self._batches.values())
        since = min(b.sent_at for b in known) - CLOCK_MARGIN
        listed = await self._list(since, known)
        for tracked in known:
            if tracked.batch_id is None:
                await self._find_lost(tracked, listed)
            else:
                await self._check(tracked, listed.get(tracked.batch_id))

    async def _list(self, since: datetime, known: list[TrackedBatch]) -> dict[str, Batch]:
        wanted = {b.batch_id for b in known if b.batch_id is not None}
        want_any_lost = any(b.batch_id is None for b in known)
        listed: dict[str, Batch] = {}
        offset = 0
        while True:
            page = await self._gateway.list_batches(
                created_from=since, offset=offset, limit=LIST_PAGE_SIZE
            )
            listed.update((b.batch_id, b) for b in page)
            if len(page) < LIST_PAGE_SIZE or (wanted <= listed.keys() and not want_any_lost):
                return listed
            offset += LIST_PAGE_SIZE

    async def _check(self, tracked: TrackedBatch, listed: Batch | None) -> None:
        assert tracked.batch_id is not None
        batch = listed
        if batch is None:
            try:
                batch = await self._gateway.get_batch(tracked.batch_id)
            except NotFoundError:
                # Gone (past Omnisend's retention): its rows' fate is unknown, so send them again;
                # a contact upsert by email is safe to repeat.
                logger.warning("batch %s is gone; its rows will be sent again", tracked.batch_id)
                del self._batches[tracked.seq]
                await self._resend(tracked)
                return
        if batch.done:
            await self._settle(tracked, batch, None)
            del self._batches[tracked.seq]

    async def _find_lost(self, tracked: TrackedBatch, listed: dict[str, Batch]) -> None:
        sent = {(item.email, item.fingerprint) for item in tracked.items}
        waiting = False
        for candidate in listed.values():
            if not self._could_be(candidate, tracked):
                continue
            if not candidate.done:
                waiting = True  # its items answer only once it is done: look again next poll
                continue
            answered, answers = await self._answers_of(candidate.batch_id)
            if answered and answered <= sent:
                logger.info("found batch %s, whose answer was lost", candidate.batch_id)
                tracked.batch_id = candidate.batch_id
                self._ours.add(candidate.batch_id)
                del self._answered[candidate.batch_id]
                del self._batches[tracked.seq]
                await self._settle(tracked, candidate, answers)
                return
        if waiting:
            return
        tracked.lost_polls += 1
        if tracked.lost_polls >= self._max_lost_polls:
            del self._batches[tracked.seq]
            await self._resend(tracked)

    async def _answers_of(self, batch_id: str) -> tuple[frozenset[tuple[str, int]], BatchItems]:
        if batch_id not in self._answered:
            answers = await self._gateway.batch_items(batch_id)
            carried = frozenset(
                (i.email or "", body_fingerprint(_json.dumps(i.request)))
                for i in (*answers.responses, *answers.errors)
            )
            self._answered[batch_id] = (carried, answers)
        return self._answered[batch_id]

    def _could_be(self, candidate: Batch, tracked: TrackedBatch) -> bool:
        return (
            candidate.batch_id not in self._ours
            and candidate.total_count == len(tracked.items)
            and (
                candidate.created_at is None
                or candidate.created_at >= tracked.sent_at - CLOCK_MARGIN
            )
        )

    async def poll_safely(self) -> OmnisendError | None:
        """:meth:`poll`, with Omnisend's failures logged and left for the next poll.

        Returns:
            Omnisend's failure, for the caller to judge (a refused key will not get better),
            or ``None`` when the poll went through.

        Raises:
            ExportStateError: The journal could not record a settled batch: that failure is
                the disk's, not Omnisend's, and stops the export.
        """
        try:
            await self.poll()
        except ExportStateError:
            raise
        except OmnisendError as error:
            logger.warning("following batches failed, trying again at the next poll: %s", error)
            return error
        return None
