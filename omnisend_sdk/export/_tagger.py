"""Segment membership: the segment's tag added to exported contacts through ``/contacts/tags``.

A tag in the contact body would replace every tag the contact has; ``/contacts/tags`` adds one and
leaves the rest. Calls carry 250 emails each and run beside the contact batches, so an export takes
as long as the slower of the two, not their sum. Tagging is usually the slower (60 calls a minute),
so the rows waiting for their tag are taken from the journal, 250 at a time, not kept in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from omnisend_sdk._constants import LOGGER_NAME, MAX_TAG_SELECTORS
from omnisend_sdk._errors import OmnisendError
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import Journal

logger = logging.getLogger(LOGGER_NAME)

#: Tag calls in flight at once: the tag limit (60 per minute) is low, so a few cover any latency.
TAG_CONCURRENCY = 4


class Tagger:
    """Adds the segment tag to exported contacts, 250 at a time.

    Args:
        gateway: Where to send the calls.
        journal: Holds the rows waiting for their tag.
        tag: The segment tag.
        may_start: Asked before each call: ``False`` (the deadline) leaves the rows untagged in
            the journal, for the next run.
        crashed: Told of a call that failed for another reason than Omnisend's answer (the
            journal cannot be written): the export must stop.
    """

    def __init__(
        self,
        gateway: ExportGateway,
        journal: Journal,
        tag: str,
        *,
        may_start: Callable[[], bool] = lambda: True,
        crashed: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._gateway = gateway
        self._journal = journal
        self._tag = tag
        self._may_start = may_start
        self._crashed = crashed
        self._waiting = 0  # exported rows recorded in the journal and not yet in a tag call
        self._flushing = False
        self._calls: set[asyncio.Task[None]] = set()
        self.failed = 0

    def add(self, exported: int) -> None:
        """``exported`` more rows were recorded as exported in the journal: tag them."""
        self._waiting += exported
        self._pump()

    def _pump(self) -> None:
        # Start calls while there is room and a full call's worth waiting (or anything, at the end).
        while len(self._calls) < TAG_CONCURRENCY and (
            self._waiting >= MAX_TAG_SELECTORS or (self._flushing and self._waiting > 0)
        ):
            self._waiting -= min(self._waiting, MAX_TAG_SELECTORS)
            task = asyncio.create_task(self._tag_some())
            self._calls.add(task)
            task.add_done_callback(self._call_ended)

    def _call_ended(self, task: asyncio.Task[None]) -> None:
        self._calls.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self._crashed is not None:
            self._crashed(error)  # told now, not at close: the export must not wait for it
        elif error is None:
            self._pump()

    async def _tag_some(self) -> None:
        if not self._may_start():
            return  # past the deadline: the rows stay untagged in the journal for the next run
        rows = self._journal.claim_untagged(MAX_TAG_SELECTORS)
        if not rows:
            return
        try:
            await self._gateway.add_tags([self._tag], [email for _, email in rows])
        except OmnisendError as error:
            # The contacts are in Omnisend; only the membership mark is missing. The journal
            # keeps them untagged, so a rerun tags them.
            self._journal.rows_tag_failed(row for row, _ in rows)
            self.failed += len(rows)
            logger.warning("adding the segment tag to %d contacts failed: %s", len(rows), error)
            return
        self._journal.rows_tagged(rows)

    async def close(self, *, flush: bool = True) -> None:
        """Wait for every call in flight; with ``flush``, first tag everything still waiting.

        Without ``flush`` (a stopped export) waiting rows stay untagged in the journal, and a
        rerun tags them.
        """
        if flush:
            self._flushing = True
            self._waiting = self._journal.untagged_count()
            self._pump()
        else:
            self._waiting = 0
        while self._calls:
            results = await asyncio.gather(*list(self._calls), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):  # a bug: Omnisend's errors are handled above
                    raise result

    def cancel(self) -> None:
        """Stop at once: untagged rows stay untagged in the journal for the next run."""
        self._waiting = 0
        for task in list(self._calls):
            task.cancel()
