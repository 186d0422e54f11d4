"""``POST``/``DELETE /contacts/tags``: accepted at once (202), applied after a delay.

Selectors are resolved when the change is applied, not when it is accepted, as an asynchronous
worker would do: a contact created in between is included, unknown emails and phones are ignored.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import _segments
from ._rules import require_valid, validate_tags_request
from ._state import State, StoredContact


@attrs.frozen
class TagChange:
    """One accepted tag request."""

    add: bool
    tags: tuple[str, ...]
    contact_ids: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    segment_id: str | None

    def apply(self, state: State, now: float) -> None:
        """Add or remove the tags on the union of the selected contacts."""
        for contact in self._select(state):
            if self.add:
                updated = tuple(dict.fromkeys((*contact.tags, *self.tags)))
            else:
                updated = tuple(tag for tag in contact.tags if tag not in self.tags)
            if updated != contact.tags:
                contact.tags = updated
                contact.updated_at = now

    def _select(self, state: State) -> list[StoredContact]:
        # Keyed by id: a contact matched by two selectors is changed once.
        chosen: dict[str, StoredContact] = {}
        for contact_id in self.contact_ids:
            if contact_id in state.contacts:
                chosen[contact_id] = state.contacts[contact_id]
        for kind, values in (("email", self.emails), ("phone", self.phones)):
            for value in values:
                owner = state.owner(kind, value)
                if owner is not None:
                    chosen[owner.id] = owner
        if self.segment_id is not None:
            for contact_id in _segments.members(state, self.segment_id):
                chosen[contact_id] = state.contacts[contact_id]
        return list(chosen.values())


def accept(state: State, body: Any, now: float, *, add: bool) -> None:
    """Validate a tag request and schedule it ``tag_delay`` emulator seconds later.

    Raises:
        ApiProblem: 400 when the body is invalid.
    """
    require_valid(validate_tags_request(body))
    change = TagChange(
        add=add,
        tags=tuple(body["tags"]),
        contact_ids=tuple(body.get("contactIDs", ())),
        emails=tuple(body.get("emails", ())),
        phones=tuple(body.get("phones", ())),
        segment_id=body.get("segmentID"),
    )

    def job(due: float) -> None:
        change.apply(state, due)

    state.work.schedule(now + state.settings.tag_delay, job)
