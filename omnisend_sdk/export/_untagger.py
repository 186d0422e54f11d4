"""Releasing members who left the segment: their segment tag removed, nothing else touched.

``DELETE /contacts/tags`` removes only the tags named, 250 contacts a call, in the same 60-a-minute
window as adding them. A member stays in the state, marked as leaving, until Omnisend accepts the
call that removes its tag; a failed or interrupted call is simply made again by the next run
(removing a tag twice is harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs

from omnisend_sdk._constants import LOGGER_NAME, MAX_TAG_SELECTORS
from omnisend_sdk._errors import OmnisendError
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import Journal

logger = logging.getLogger(LOGGER_NAME)


@attrs.define
class UntagResult:
    """What removing the tag of leaving members did in one run."""

    untagged: int = 0
    failed: int = 0


async def untag_leavers(
    gateway: ExportGateway, journal: Journal, tag: str, *, stopping: Callable[[], bool]
) -> UntagResult:
    """Remove ``tag`` from every member marked as leaving, 250 at a time, in key order.

    Args:
        gateway: Where to send the calls.
        journal: The export's state: which members are leaving.
        tag: The segment tag.
        stopping: Checked between calls: the deadline or a cancellation stops the removal (the
            rest is left for the next run).
    """
    result = UntagResult()
    after: int | None = None
    while not stopping():
        chunk = journal.leaving(after, MAX_TAG_SELECTORS)
        if not chunk:
            break
        after = chunk[-1][0]
        try:
            await gateway.remove_tags([tag], [email for _, email in chunk])
        except OmnisendError as error:
            result.failed += len(chunk)
            logger.warning(
                "removing the segment tag from %d members who left failed (the next run tries "
                "again): %s",
                len(chunk),
                error,
            )
            continue
        journal.members_untagged([key for key, _ in chunk])
        result.untagged += len(chunk)
    return result
