"""A test send: one chosen profile goes to Omnisend, and you see Omnisend's own answer.

Before committing to a full export, send one row and look at what Omnisend made of it (or why it
refused it). The row is mapped exactly as an export would map it, and sent as a single contact
upsert (welcome message off), under the same privacy rules as an export.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from omnisend_sdk._connection import Connection, current_user
from omnisend_sdk._errors import APIStatusError, ConfigurationError
from omnisend_sdk._models import UpsertResult
from omnisend_sdk.export._destination import Client, open_destination
from omnisend_sdk.export._sync import blocking
from omnisend_sdk.mapping import (
    ContactMapping,
    InvalidValueError,
    MappedRow,
    RowIssue,
    RowMapper,
    normalise_email,
)
from omnisend_sdk.sources import open_source


@attrs.frozen(kw_only=True)
class TestSendResult:
    """What became of the one profile sent.

    Attributes:
        row: The source row that was sent (or rejected before sending).
        issues: What the mapper found in the row.
        request: The contact's request body as sent; ``None`` when the mapper rejected the row.
        result: Omnisend's answer: the stored contact and whether it was created.
        error: Omnisend's refusal, with its problem details, if it refused the contact.
    """

    __test__ = False  # not a pytest test class, whatever its name

    row: int
    issues: tuple[RowIssue, ...]
    request: Mapping[str, Any] | None
    result: UpsertResult | None = None
    error: APIStatusError | None = None

    @property
    def ok(self) -> bool:
        """True when Omnisend took the contact."""
        return self.result is not None

    def __str__(self) -> str:
        if self.request is None:
            reasons = "; ".join(str(issue) for issue in self.issues)
            return f"row {self.row} was not sent: {reasons}"
        if self.result is not None:
            verb = "created" if self.result.created else "updated"
            return f"row {self.row}: Omnisend {verb} contact {self.result.contact.id}"
        return f"row {self.row}: Omnisend refused the contact: {self.error}"


def _pick(source: object, mapping: ContactMapping, row: int | None, email: str | None,
          source_options: Mapping[str, Any]) -> MappedRow:  # fmt: skip
    """The mapped row to send: by number, by email, or the first row that maps cleanly."""
    try:
        wanted = normalise_email(email) if email is not None else None
    except InvalidValueError as error:
        raise ConfigurationError(f"not an email address to look for: {error.message}") from None
    rows = open_source(source, **source_options)
    mapper = RowMapper.bind(mapping, rows.columns)
    for number, values, issues in rows:
        if values is None:
            continue
        if row is not None and number != row:
            continue
        mapped = mapper.map(number, values, issues)
        if wanted is not None and mapped.email != wanted:
            continue
        if row is not None or wanted is not None or mapped.ok:
            return mapped
    wanted_text = f"row {row}" if row is not None else "that email" if email else "a valid row"
    raise ConfigurationError(f"the source has no {wanted_text} to send")


async def send_test_profile_async(
    source: object,
    mapping: ContactMapping,
    *,
    client: Client | None = None,
    connection: Connection | None = None,
    row: int | None = None,
    email: str | None = None,
    run_by: str | None = None,
    state_dir: str | Path | None = None,
    source_options: Mapping[str, Any] | None = None,
) -> TestSendResult:
    """Like :func:`send_test_profile`, for asyncio."""
    mapped = _pick(source, mapping, row, email, source_options or {})
    async with open_destination(
        client=client,
        connection=connection,
        run_by=run_by or current_user(),
        state_dir=state_dir,
        client_options={},
        prefer_async=True,
    ) as destination:
        contact = mapped.contact
        if contact is None:
            return TestSendResult(row=mapped.row, issues=mapped.issues, request=None)
        body = mapped.to_json(destination.gateway.facts.api_version)
        try:
            answer = await destination.gateway.upsert(contact)
        except APIStatusError as error:
            return TestSendResult(row=mapped.row, issues=mapped.issues, request=body, error=error)
        return TestSendResult(row=mapped.row, issues=mapped.issues, request=body, result=answer)


send_test_profile = blocking(
    send_test_profile_async,
    doc="""Send one profile of the segment to Omnisend and return Omnisend's actual answer.

    Args:
        source: The segment, as :func:`export_segment` takes it.
        mapping: The mapping the export will use.
        client: The client (a privacy acknowledgement is needed, unless it is a loopback
            emulator), or ``connection``.
        connection: A :class:`Connection`.
        row: The source row to send (a CSV line number, a frame index).
        email: Or the row with this email. Without either, the first row that maps cleanly.
        run_by: Who sends it (for ``allowed_users``).
        state_dir: Where privacy acknowledgements are kept.
        source_options: Options for the source (``delimiter``...).

    Returns:
        The row, its issues, the request body sent and Omnisend's answer or refusal.
    """,
)
