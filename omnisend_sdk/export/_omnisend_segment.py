"""The export's segment inside Omnisend: "tags any of [the segment tag]", kept in step.

Omnisend's own segments are what campaigns and automations target, so a segment whose only rule is
the export's tag turns the tagged contacts into something a marketer can pick. It is created once
and its id kept in the export's state; if someone deletes it, the next run makes it again. Its
name is only set when it is created: a marketer may rename it in Omnisend.

Omnisend applies tag changes and rebuilds segments with a delay, so the count read after a run is
eventually consistent: while the segment is building it is reported as pending.
"""

from __future__ import annotations

import logging

import attrs

from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import NotFoundError, OmnisendError, SegmentBuildingError
from omnisend_sdk._models import ConditionGroup, Segment
from omnisend_sdk._segments import tag_rule
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import Journal
from omnisend_sdk.export._storage import ExportStateError

logger = logging.getLogger(LOGGER_NAME)

#: Where the state file keeps the segment's id.
_SEGMENT_ID = "omnisend_segment_id"


@attrs.frozen
class OmnisendSegmentStatus:
    """The Omnisend segment after a run.

    Attributes:
        segment_id: Its id, or ``None`` when it could not be made.
        contacts_count: Omnisend's ``contactsCount``, or ``None`` while the segment is building
            (or could not be read).
        expected: The members the export's state holds, which the count should reach.
        problem: Why the segment could not be made, updated or counted, if so; the export
            itself is not affected, and the next run tries again.
    """

    segment_id: str | None
    contacts_count: int | None
    expected: int
    problem: str | None = None


async def keep_omnisend_segment(
    gateway: ExportGateway, journal: Journal, *, name: str, tag: str
) -> OmnisendSegmentStatus:
    """Make sure the export's segment exists in Omnisend with the tag's rule, and read its count.

    Never raises for Omnisend's answers: the contacts are exported by now, and a segment that
    could not be kept is reported (``problem``) and tried again by the next run.
    """
    expected = journal.member_count()
    segment: Segment | None = None
    try:
        segment = await _ensure(gateway, journal, name, tag)
        count = (
            (await gateway.segment_statistics(segment.segment_id)).contacts_count
            if segment.status != "building"
            else None
        )
    except ExportStateError:
        raise  # the local disk's failure, not Omnisend's: it stops the export
    except OmnisendError as error:
        logger.warning("could not keep the export's segment in Omnisend: %s", error)
        segment_id = segment.segment_id if segment else journal.kept(_SEGMENT_ID)
        return OmnisendSegmentStatus(segment_id, None, expected, problem=str(error))
    return OmnisendSegmentStatus(segment.segment_id, count, expected)


async def _ensure(gateway: ExportGateway, journal: Journal, name: str, tag: str) -> Segment:
    rule = tag_rule(tag)
    known = journal.kept(_SEGMENT_ID)
    segment = await _existing(gateway, known) if known else None
    if segment is None:
        # A create whose answer was lost may have made it: look before making a second one.
        segment = await _made_before(gateway, name, rule)
    if segment is None:
        segment = await gateway.create_segment(name, rule)
        logger.info("created segment %s in Omnisend for tag %r", segment.segment_id, tag)
    if segment.segment_id != known:
        journal.keep(_SEGMENT_ID, segment.segment_id)
        return segment
    if segment.condition_groups != rule:  # the tag changed, or someone edited the rule
        try:
            return await gateway.update_segment(segment.segment_id, segment.name or name, rule)
        except SegmentBuildingError:
            # Omnisend refuses changes while it rebuilds the segment: the next run updates it.
            logger.info("segment %s is building; its rule is updated next run", known)
    return segment


async def _made_before(
    gateway: ExportGateway, name: str, rule: tuple[ConditionGroup, ...]
) -> Segment | None:
    """A segment of this name and rule already in Omnisend (one read per 50 segments)."""
    after: str | None = None
    while True:
        page = await gateway.list_segments(after)
        for segment in page.segments:
            if segment.name == name and segment.condition_groups == rule:
                return segment
        if not page.has_more or page.after is None:
            return None
        after = page.after


async def _existing(gateway: ExportGateway, segment_id: str) -> Segment | None:
    try:
        return await gateway.get_segment(segment_id)
    except NotFoundError:
        logger.info("segment %s was deleted in Omnisend; making it again", segment_id)
        return None
