"""``client.tags``: add tags to contacts, or remove them, without touching their other tags.

A contact body's ``tags`` replaces every tag the contact has; ``/contacts/tags`` adds or removes
only the ones named, which is how an export marks segment membership. Omnisend applies the change
later (202 Accepted). Adding is idempotent, so retrying is safe.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from omnisend_sdk._constants import MAX_TAG_SELECTORS, MAX_TAGS
from omnisend_sdk._errors import InvalidRequestError
from omnisend_sdk._http import Operation, RequestSpec, json_body

if TYPE_CHECKING:
    from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient

TagMethod = Literal["POST", "DELETE"]


def tag_operations(
    method: TagMethod,
    tags: Sequence[str],
    *,
    emails: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> Iterator[Operation[None]]:
    """The ``/contacts/tags`` calls that apply ``tags`` to every selected contact.

    Each call names at most 250 contacts of one kind; all calls are checked before the first one
    is yielded, so a bad argument sends nothing.
    """
    if isinstance(tags, str):
        raise InvalidRequestError("tags must be a sequence of strings, not one string")
    tag_list = list(dict.fromkeys(tags))  # dedupe, keep order
    if not tag_list:
        raise InvalidRequestError("name at least one tag")
    if len(tag_list) > MAX_TAGS:
        raise InvalidRequestError(f"at most {MAX_TAGS} tags per call, got {len(tag_list)}")
    if any(not isinstance(tag, str) or not tag.strip() for tag in tag_list):
        raise InvalidRequestError("every tag must be a non-empty string")
    selectors = {"emails": emails, "contactIDs": contact_ids, "phones": phones}
    for name, values in selectors.items():
        if isinstance(values, str):
            raise InvalidRequestError(f"{name} must be a sequence of strings, not one string")
    if not any(selectors.values()):
        raise InvalidRequestError("select contacts with emails, contact_ids or phones")
    return _chunked_operations(method, tag_list, selectors)


def _chunked_operations(
    method: TagMethod, tags: list[str], selectors: dict[str, Sequence[str]]
) -> Iterator[Operation[None]]:
    for name, values in selectors.items():
        for start in range(0, len(values), MAX_TAG_SELECTORS):
            chunk = list(values[start : start + MAX_TAG_SELECTORS])
            spec = RequestSpec(
                method=method,
                path="/contacts/tags",
                body=json_body({"tags": tags, name: chunk}),
                family="tags",
            )
            yield Operation(spec, lambda _: None)


class Tags:
    """Contact tags: ``client.tags``."""

    def __init__(self, client: OmnisendClient) -> None:
        self._client = client

    def add(
        self,
        tags: Sequence[str],
        *,
        emails: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        phones: Sequence[str] = (),
    ) -> int:
        """Add tags to the selected contacts (unknown emails are ignored by Omnisend).

        Returns:
            The number of requests sent (one per 250 contacts of each kind).
        """
        operations = tag_operations(
            "POST", tags, emails=emails, contact_ids=contact_ids, phones=phones
        )
        return self._run(operations)

    def remove(
        self,
        tags: Sequence[str],
        *,
        emails: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        phones: Sequence[str] = (),
    ) -> int:
        """Remove tags from the selected contacts; returns the number of requests sent."""
        operations = tag_operations(
            "DELETE", tags, emails=emails, contact_ids=contact_ids, phones=phones
        )
        return self._run(operations)

    def _run(self, operations: Iterator[Operation[None]]) -> int:
        sent = 0
        for operation in operations:
            self._client.execute(operation)
            sent += 1
        return sent


class AsyncTags:
    """Contact tags: ``client.tags`` of :class:`AsyncOmnisendClient`."""

    def __init__(self, client: AsyncOmnisendClient) -> None:
        self._client = client

    async def add(
        self,
        tags: Sequence[str],
        *,
        emails: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        phones: Sequence[str] = (),
    ) -> int:
        """Like :meth:`Tags.add`."""
        operations = tag_operations(
            "POST", tags, emails=emails, contact_ids=contact_ids, phones=phones
        )
        return await self._run(operations)

    async def remove(
        self,
        tags: Sequence[str],
        *,
        emails: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        phones: Sequence[str] = (),
    ) -> int:
        """Like :meth:`Tags.remove`."""
        operations = tag_operations(
            "DELETE", tags, emails=emails, contact_ids=contact_ids, phones=phones
        )
        return await self._run(operations)

    async def _run(self, operations: Iterator[Operation[None]]) -> int:
        sent = 0
        for operation in operations:
            await self._client.execute(operation)
            sent += 1
        return sent
