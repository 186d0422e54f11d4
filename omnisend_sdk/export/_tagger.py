"""Segment membership: the segment's tag added to exported contacts through ``/contacts/tags``.

A tag in the contact body would replace every tag the contact has; ``/contacts/tags`` adds one and
leaves the rest. Calls carry 250 emails each and run beside the contact batches, so an export takes
as long as the slower of the two, not their sum.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from omnisend_sdk._constants import LOGGER_NAME, MAX_TAG_SELECTORS
from omnisend_sdk._errors import OmnisendError
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import Journal

logger = logging.getLogger(LOGGER_NAME)

#: Tag calls in flight at once: the tag limit (60 per minute) is low, so a few cover any latency.
TAG_CONCURRENCY = 4


class Tagger:
    """Adds the segment tag to exported contacts, 250 at a time."""

    def __init__(self, gateway: ExportGateway, journal: Journal, tag: str) -> None:
        self._gateway = gateway
        self._journal = journal
        self._tag = tag
        self._waiting: list[tuple[int, str]] = []
        self._calls: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(TAG_CONCURRENCY)
        self.tagged = 0
        self.failed = 0
        self.errors: list[str] = []

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """Queue exported rows (row number, email) for tagging."""
        self._waiting.extend(rows)
        while len(self._waiting) >= MAX_TAG_SELECTORS:
            self._call(self._waiting[:MAX_TAG_SELECTORS])
            del self._waiting[:MAX_TAG_SELECTORS]

    def _call(self, rows: list[tuple[int, str]]) -> None:
        task = asyncio.create_task(self._tag_rows(rows))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _tag_rows(self, rows: list[tuple[int, str]]) -> None:
        async with self._slots:
            try:
                await self._gateway.add_tags([self._tag], [email for _, email in rows])
            except OmnisendError as error:
                # The contacts are in Omnisend; only the membership mark is missing. The journal
                # keeps them untagged, so a rerun tags them.
                self.failed += len(rows)
                self.errors.append(str(error))
                logger.warning("adding the segment tag to %d contacts failed: %s", len(rows), error)
                return
        self._journal.rows_tagged(row for row, _ in rows)
        self.tagged += len(rows)

    async def close(self, *, flush: bool = True) -> None:
        """Wait for every call in flight; with ``flush``, first tag what is still waiting.

        Without ``flush`` (a cancelled export) waiting rows stay untagged in the journal, and a
        rerun tags them.
        """
        if flush and self._waiting:
            self._call(self._waiting)
        self._waiting = []
        while self._calls:
            results = await asyncio.gather(*list(self._calls), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):  # a bug: Omnisend's errors are handled above
                    raise result

    def cancel(self) -> None:
        """Stop at once: untagged rows stay untagged in the journal for the next run."""
        for task in self._calls:
            task.cancel()
        self._waiting = []
