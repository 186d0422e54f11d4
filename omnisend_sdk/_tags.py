"""``client.tags``: add tags to contacts, or remove them, without touching their other tags.

A contact body's ``tags`` replaces every tag the contact has; ``/contacts/tags`` adds or removes
only the ones named, which is how an export marks segment membership. Omnisend applies the change
later (202 Accepted). Adding is idempotent, so retrying is safe.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

import attrs

from omnisend_sdk._constants import MAX_TAG_SELECTORS, MAX_TAGS
from omnisend_sdk._errors import InvalidRequestError
from omnisend_sdk._http import Operation, RequestSpec, json_body

if TYPE_CHECKING:
    from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient

TagMethod = Literal["POST", "DELETE"]


class ContactSelection(TypedDict, total=False):
    """Which contacts a tag change applies to: any mix of the three kinds, each a sequence.

    Attributes:
        emails: Contacts by email; unknown emails are ignored by Omnisend.
        contact_ids: Contacts by Omnisend contact ID.
        phones: Contacts by phone number (E.164).
    """

    emails: Sequence[str]
    contact_ids: Sequence[str]
    phones: Sequence[str]


@attrs.frozen
class TagPlan:
    """The checked ``/contacts/tags`` calls that apply tags to the selected contacts.

    Sans-I/O: iterating builds one operation per call (at most 250 contacts of one kind), one at
    a time, so a long selection is never encoded all at once; ``len()`` is the number of calls.

    Attributes:
        method: ``POST`` adds the tags, ``DELETE`` removes them.
        tags: The tags, without repeats, in the order given.
        selectors: Each kind of contact selector (by its JSON name) with its values.
    """

    method: TagMethod
    tags: tuple[str, ...]
    selectors: tuple[tuple[str, tuple[str, ...]], ...]

    def __len__(self) -> int:
        return sum(math.ceil(len(values) / MAX_TAG_SELECTORS) for _, values in self.selectors)

    def __iter__(self) -> Iterator[Operation[None]]:
        for name, values in self.selectors:
            for start in range(0, len(values), MAX_TAG_SELECTORS):
                chunk = list(values[start : start + MAX_TAG_SELECTORS])
                spec = RequestSpec(
                    method=self.method,
                    path="/contacts/tags",
                    body=json_body({"tags": list(self.tags), name: chunk}),
                    family="tags",
                )
                yield Operation(spec, lambda _: None)


def plan_tags(
    method: TagMethod,
    tags: Sequence[str],
    *,
    emails: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> TagPlan:
    """Check a tag change and plan its calls, so that a bad argument sends nothing.

    Raises:
        InvalidRequestError: No tag, more than 100, a blank one, a single string where a
            sequence belongs, or no contact selected.
    """
    tag_list = _checked_tags(tags)
    selectors = {"emails": emails, "contactIDs": contact_ids, "phones": phones}
    for name, values in selectors.items():
        if isinstance(values, str):
            raise InvalidRequestError(f"{name} must be a sequence of strings, not one string")
    if not any(selectors.values()):
        raise InvalidRequestError("select contacts with emails, contact_ids or phones")
    return TagPlan(
        method,
        tuple(tag_list),
        tuple((name, tuple(values)) for name, values in selectors.items()),
    )


def _checked_tags(tags: Sequence[str]) -> list[str]:
    if isinstance(tags, str):
        raise InvalidRequestError("tags must be a sequence of strings, not one string")
    tag_list = list(dict.fromkeys(tags))  # dedupe, keep order
    if not tag_list:
        raise InvalidRequestError("name at least one tag")
    if len(tag_list) > MAX_TAGS:
        raise InvalidRequestError(f"at most {MAX_TAGS} tags per call, got {len(tag_list)}")
    if any(not isinstance(tag, str) or not tag.strip() for tag in tag_list):
        raise InvalidRequestError("every tag must be a non-empty string")
    return tag_list


class Tags:
    """Contact tags: ``client.tags``."""

    def __init__(self, client: OmnisendClient) -> None:
        self._client = client

    def add(self, tags: Sequence[str], **contacts: Unpack[ContactSelection]) -> int:
        """Add tags to the selected contacts (unknown emails are ignored by Omnisend).

        Returns:
            The number of requests sent (one per 250 contacts of each kind).
        """
        return self._send(plan_tags("POST", tags, **contacts))

    def remove(self, tags: Sequence[str], **contacts: Unpack[ContactSelection]) -> int:
        """Remove tags from the selected contacts; returns the number of requests sent."""
        return self._send(plan_tags("DELETE", tags, **contacts))

    def _send(self, plan: TagPlan) -> int:
        for operation in plan:
            self._client.execute(operation)
        return len(plan)


class AsyncTags:
    """Contact tags: ``client.tags`` of :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        self._client = client

    async def add(self, tags: Sequence[str], **contacts: Unpack[ContactSelection]) -> int:
        """Like :meth:`Tags.add`."""
        return await self._send(plan_tags("POST", tags, **contacts))

    async def remove(self, tags: Sequence[str], **contacts: Unpack[ContactSelection]) -> int:
        """Like :meth:`Tags.remove`."""
        return await self._send(plan_tags("DELETE", tags, **contacts))

    async def _send(self, plan: TagPlan) -> int:
        for operation in plan:
            await self._client.execute(operation)
        return len(plan)
