"""Duplicate emails inside one export: each address is sent once, every dropped row reported.

Two policies:

- ``"first"``: the first row with an address is sent, later ones are dropped. Streams: each row is
  decided as it arrives.
- ``"last"``: the last row is sent (the newest data, when a segment is appended to). This needs
  to know the future, so it reads the source twice: a first pass notes, for each address, the last
  row that will be sent; the second pass maps and sends only those rows. Both passes keep one entry
  per distinct address (the address and a row number, about 120 bytes), never the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, Protocol

from omnisend_sdk.mapping._first_rows import CompactSeenEmails
from omnisend_sdk.mapping._issues import RowIssue
from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._row import Row
from omnisend_sdk.mapping._spec import DuplicatePolicy

#: The code of the issue that drops a repeated email.
DUPLICATE_CODE: Final = "duplicate_email"


def is_duplicate(row: MappedRow) -> bool:
    """Whether a row was dropped for repeating an email sent from another row."""
    return any(issue.code == DUPLICATE_CODE for issue in row.issues)


def _dropped(row: MappedRow, kept: int, policy: DuplicatePolicy) -> MappedRow:
    issue = RowIssue(
        row=row.row,
        field="email",
        severity="error",
        code=DUPLICATE_CODE,
        message=f"same email as row {kept}, which is sent instead ({policy} row wins)",
        related_row=kept,
    )
    return MappedRow(row.row, row.email, (*row.issues, issue))


class SeenEmails(Protocol):
    """Where the "first" policy remembers the emails it has sent.

    The default keeps a 64-bit key for each address and knows its row by its place
    (:class:`CompactSeenEmails`, about 15 bytes an address); :class:`InMemorySeenEmails` keeps
    the addresses themselves in a dict (about 180 bytes an address); the export engine passes
    one kept on disk. One that also has a ``first_rows(emails, first)`` method, as
    :class:`CompactSeenEmails` has, is handed a record batch's emails at once (see
    :func:`first_rows`).
    """

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new."""
        ...


def first_rows(seen: SeenEmails, emails: Sequence[str | None], first: int) -> list[int | None]:
    """``seen.first_row`` for the emails of consecutive rows numbered from ``first`` (``None``
    for a row without one), through ``seen.first_rows`` when it has one."""
    batch = getattr(seen, "first_rows", None)
    if batch is not None:
        kept: list[int | None] = batch(emails, first)
        return kept
    first_row = seen.first_row
    return [
        None if email is None else first_row(email, row) for row, email in enumerate(emails, first)
    ]


class InMemorySeenEmails:
    """Emails seen so far, in a dict."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def first_row(self, email: str, row: int) -> int:
        return self._first.setdefault(email, row)


def keep_first(rows: Iterable[MappedRow], seen: SeenEmails | None = None) -> Iterator[MappedRow]:
    """Pass rows through, dropping (and reporting) each repeat of an email already sent."""
    return map(first_wins((CompactSeenEmails() if seen is None else seen).first_row), rows)


def first_wins(first_row: Callable[[str, int], int]) -> Callable[[MappedRow], MappedRow]:
    """The "first" policy, a row at a time: a repeat of an email ``first_row`` has seen comes
    back dropped and reported; any other row as it is (a new email is recorded)."""

    def keep(row: MappedRow) -> MappedRow:
        email = row.email
        if email is not None and row.ok:
            kept = first_row(email, row.row)
            if kept != row.row:
                return _dropped(row, kept, "first")
        return row

    return keep


def last_rows(mapper: RowMapper, rows: Iterable[Row]) -> dict[str, int]:
    """First pass of the "last" policy: each email -> the number of the last row sent for it.

    Only rows that will be sent count, so an invalid last row never hides a valid earlier one.
    When nothing but the email can reject a row, only emails are normalised (much faster).
    """
    last: dict[str, int] = {}
    emails_only = mapper.rejects_only_on_email
    for number, values, source_issues in rows:
        if values is None:
            continue
        if emails_only:
            email = mapper.email_of(values)
        else:
            mapped = mapper.map(number, values, source_issues)
            email = mapped.email if mapped.ok else None
        if email is not None:
            last[email] = number
    return last


def keep_last(rows: Iterable[MappedRow], last: dict[str, int]) -> Iterator[MappedRow]:
    """Second pass of the "last" policy: drop (and report) every row that is not the last."""
    for row in rows:
        email = row.email
        if email is not None and row.ok:
            kept = last.get(email, row.row)
            if kept != row.row:
                row = _dropped(row, kept, "last")  # noqa: PLW2901 - the row as it is reported
        yield row
