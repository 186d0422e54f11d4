"""Segments: ``/segments``, ``/segments/{id}``, ``/segments/{id}/statistics``, and membership.

Only tag rules are emulated (see :func:`._rules.parse_segment_request`): groups are OR-ed, a
group's conditions AND-ed, a condition's filters combined by its ``junction``.

A segment is ``building`` for ``segment_build_delay`` emulator seconds after it is created or
updated, then ``ready``. While ready, its members are the contacts whose tags match its rules now;
while building, the members it had when the build started, i.e. as of the last time it was ready
(none for a new segment). How soon Omnisend shows a change is unconfirmed ("eventually
consistent"); showing the last finished build is what a segment engine that publishes a build only
when it completes does, and it keeps ``contactsCount`` from counting half-applied new rules.

Membership is answered in one place, :func:`contains`/:func:`members`, for every reader: the
statistics, a contact's ``segments``, ``GET /contacts?segmentID=`` and the ``segmentID`` selector
of ``/contacts/tags``. Segments seeded by hand (``add_to_segment``) are members-only: they have no
rules and are not listed by ``GET /segments``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from ._paging import SortKey, cursor_page
from ._problems import ApiProblem, found
from ._rules import (
    TAG_PROPERTY,
    SegmentDefinition,
    SegmentQuery,
    TagCondition,
    parse_segment_request,
)
from ._state import State, StoredContact, StoredSegment
from ._times import format_time


def create(state: State, body: Any, now: float) -> dict[str, Any]:
    """``POST /segments``: store the segment and start building it.

    Raises:
        ApiProblem: 400 when the body is invalid or has rules the emulator does not evaluate.
    """
    segment = StoredSegment(
        id=state.new_id(),
        seq=state.next_seq(),
        created_at=now,
        updated_at=now,
        definition=parse_segment_request(body),
    )
    state.segments[segment.id] = segment
    start_build(state, segment, now + state.settings.segment_build_delay)
    return render(segment)


def update(state: State, segment_id: str, body: Any, now: float) -> dict[str, Any]:
    """``PUT /segments/{id}``: replace the name and rules, and build again.

    Raises:
        ApiProblem: 404 unknown, 400 invalid body, 409 while the segment is building.
    """
    segment = find(state, segment_id)
    definition = parse_segment_request(body)
    _refuse_while_building(segment)
    # Before the rules change: the members shown while building are those of the old rules.
    start_build(state, segment, now + state.settings.segment_build_delay)
    segment.definition = definition
    segment.updated_at = now
    return render(segment)


def delete(state: State, segment_id: str, *, out_of_band: bool = False) -> None:
    """``DELETE /segments/{id}``, or (``out_of_band``) a deletion in the Omnisend app.

    Raises:
        ApiProblem: 404 unknown, 409 while the segment is building (through the API only).
    """
    segment = find(state, segment_id)
    if not out_of_band:
        _refuse_while_building(segment)
    del state.segments[segment_id]


def statistics(state: State, segment_id: str) -> dict[str, Any]:
    """``GET /segments/{id}/statistics``: ``{contactsCount}``.

    Raises:
        ApiProblem: 404 unknown.
    """
    return {"contactsCount": len(members(state, find(state, segment_id).id))}


def find(state: State, segment_id: str) -> StoredSegment:
    """The segment with ``segment_id``.

    Raises:
        ApiProblem: 404 when there is none.
    """
    return found(state.segments.get(segment_id), "segment")


def start_build(state: State, segment: StoredSegment, until: float | None) -> None:
    """Make ``segment`` ``building`` until emulator time ``until`` (None: until told otherwise).

    The members are frozen as they are now, unless it is already building: then they already are
    those of its last ready moment.
    """
    if segment.status == "ready":
        segment.members_while_building = frozenset(members(state, segment.id))
        segment.status = "building"
    segment.build += 1
    if until is None:
        return
    build = segment.build

    def job(due: float) -> None:
        # A deleted segment, or one rebuilt since, is not this build's to finish.
        if state.segments.get(segment.id) is segment and segment.build == build:
            finish_build(segment)

    state.work.schedule(until, job)


def finish_build(segment: StoredSegment) -> None:
    """Make ``segment`` ``ready``: its members are computed from its rules again."""
    segment.status = "ready"
    segment.members_while_building = frozenset()


def _refuse_while_building(segment: StoredSegment) -> None:
    if segment.status == "building":
        raise ApiProblem(409, "conflict", "the segment is building; retry once it is ready")


def render(segment: StoredSegment) -> dict[str, Any]:
    """The ``Segment`` body; archiving and starring are not emulated."""
    return {
        "segmentID": segment.id,
        "name": segment.definition.name,
        "conditionGroups": [
            {"conditions": [_render_condition(condition) for condition in group]}
            for group in segment.definition.condition_groups
        ],
        "status": segment.status,
        "createdAt": format_time(segment.created_at),
        "updatedAt": format_time(segment.updated_at),
        "archivedAt": None,
        "isStarred": False,
    }


def _render_condition(condition: TagCondition) -> dict[str, Any]:
    return {
        "entity": "contact",
        "junction": condition.junction,
        "filters": [
            {"operator": item.operator, "property": TAG_PROPERTY, "value": list(item.tags)}
            for item in condition.filters
        ],
    }


def list_segments(state: State, query: SegmentQuery) -> dict[str, Any]:
    """``GET /segments``: sorted by ``createdAt`` or ``name``, paged with opaque cursors."""

    def key(segment: StoredSegment) -> SortKey:
        value = segment.definition.name if query.sort == "name" else segment.created_at
        return (value, segment.seq)

    page, paging = cursor_page(
        state.segments.values(),
        key,
        query,
    )
    return {"segments": [render(segment) for segment in page], "paging": paging}


# -- membership ---------------------------------------------------------------------------------


def contains(state: State, segment_id: str, contact: StoredContact) -> bool:
    """Whether ``contact`` is a member of segment ``segment_id`` (False for an unknown segment)."""
    fixed = _fixed_members(state, segment_id)
    if fixed is not None:
        return contact.id in fixed
    return matches(state.segments[segment_id].definition, contact.tags)


def members(state: State, segment_id: str) -> Collection[str]:
    """The ids of the members of segment ``segment_id`` (none for an unknown segment)."""
    fixed = _fixed_members(state, segment_id)
    if fixed is not None:
        return fixed
    definition = state.segments[segment_id].definition
    return [c.id for c in state.contacts.values() if matches(definition, c.tags)]


def segment_ids_of(state: State, contact: StoredContact) -> list[str]:
    """The segments ``contact`` belongs to, sorted: a contact's ``segments``."""
    ids = {*state.segments, *state.seeded_segments}
    return sorted(segment_id for segment_id in ids if contains(state, segment_id, contact))


def _fixed_members(state: State, segment_id: str) -> Collection[str] | None:
    """Members that are not computed from rules now: a seeded segment's, a building segment's,
    or none for an unknown segment. None when they are to be computed from rules."""
    segment = state.segments.get(segment_id)
    if segment is None:
        return state.seeded_segments.get(segment_id, frozenset())
    if segment.status == "building":
        return segment.members_while_building
    return None


def matches(definition: SegmentDefinition, tags: Iterable[str]) -> bool:
    """Whether a contact with ``tags`` satisfies the rules (groups OR-ed, conditions AND-ed)."""
    present = set(tags)
    return any(
        all(_holds(condition, present) for condition in group)
        for group in definition.condition_groups
    )


def _holds(condition: TagCondition, present: set[str]) -> bool:
    results = (
        present.isdisjoint(item.tags) == (item.operator == "noneOf") for item in condition.filters
    )
    return all(results) if condition.junction == "and" else any(results)
