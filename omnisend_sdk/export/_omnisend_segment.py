"""The export's segment inside Omnisend: "tags any of [the segment tag]", kept in step.

Omnisend's own segments are what campaigns and automations target, so a segment whose only rule is
the export's tag turns the tagged contacts into something a marketer can pick. It is created once
and its id kept in the export's state; if someone deletes it, the next run makes it again.
"""

from __future__ import annotations

import attrs

from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import Journal


@attrs.frozen
class OmnisendSegmentStatus:
    """The Omnisend segment after a run.

    Attributes:
        segment_id: Its id.
        contacts_count: Omnisend's ``contactsCount``, or ``None`` while the segment is building
            (Omnisend applies tag changes with a delay, so the count catches up later).
        expected: The members the export's state holds, which the count should reach.
    """

    segment_id: str
    contacts_count: int | None
    expected: int


async def keep_omnisend_segment(
    gateway: ExportGateway, journal: Journal, *, name: str, tag: str
) -> OmnisendSegmentStatus | None:
    """Make sure the export's segment exists in Omnisend, and read its count."""
    raise NotImplementedError  # filled in once the client's Segments resource lands
