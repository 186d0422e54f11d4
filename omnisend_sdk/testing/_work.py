"""A queue of deferred work run in emulator-time order: batch items and tag operations.

Omnisend processes batches and tag changes asynchronously. The emulator does the same work lazily:
whenever a request arrives (or a test inspects state), every job whose due time has passed runs, in
due-time order, each seeing its own due time as "now". This gives the same result as background
workers without threads, and it is deterministic under a manual clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

# A job runs at its due time and returns when it wants to run next (None: finished).
Job = Callable[[float], float | None]


class WorkQueue:
    """Jobs ordered by due time; ties keep their scheduling order."""

    def __init__(self) -> None:
        """Create an empty queue."""
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()

    def schedule(self, due: float, job: Job) -> None:
        """Run ``job`` once emulator time reaches ``due``."""
        heapq.heappush(self._heap, (due, next(self._order), job))

    def run_due(self, now: float) -> None:
        """Run every job due at or before ``now``, rescheduling those that ask for it."""
        while self._heap and self._heap[0][0] <= now:
            due, _, job = heapq.heappop(self._heap)
            following = job(due)
            if following is not None:
                # A job may not go back in time: that would reorder work already done.
                self.schedule(max(following, due), job)

    def next_due(self) -> float | None:
        """When the earliest job is due, or None when the queue is empty."""
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        """The number of scheduled jobs."""
        return len(self._heap)
