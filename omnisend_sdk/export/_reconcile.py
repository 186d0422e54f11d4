"""What a finished or stopped batch means for each of its rows (pure: no I/O).

Omnisend answers each batch item as the single ``POST /contacts`` would have. Items are matched to
rows by email, because Omnisend does not promise their order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from omnisend_sdk._constants import RETRYABLE_STATUSES
from omnisend_sdk._errors import ProblemDetails
from omnisend_sdk._models import BatchItem, BatchItems
from omnisend_sdk.export._batcher import PendingItem
from omnisend_sdk.export._journal import DoneRow
from omnisend_sdk.mapping import RowIssue, mask_email


@attrs.frozen
class Settlement:
    """A batch's rows, sorted by what happens next.

    Attributes:
        done: Rows with a final outcome (created, updated, upserted or failed).
        retry: Rows Omnisend could not process this time (429 or 5xx inside the batch).
        unprocessed: Rows a stopped batch never reached.
        issues: Why each failed row failed.
    """

    done: tuple[DoneRow, ...] = ()
    retry: tuple[PendingItem, ...] = ()
    unprocessed: tuple[PendingItem, ...] = ()
    issues: tuple[RowIssue, ...] = ()


def settle_clean(items: Sequence[PendingItem]) -> Settlement:
    """A finished batch without errors: every row is in Omnisend (created or updated, unsaid)."""
    return Settlement(done=tuple(DoneRow(i.row, i.email, "upserted") for i in items))


def settle(items: Sequence[PendingItem], answers: BatchItems) -> Settlement:
    """Match each row to its item's answer."""
    by_email = {item.email: item for item in items}
    done: list[DoneRow] = []
    retry: list[PendingItem] = []
    issues: list[RowIssue] = []
    for answer in (*answers.responses, *answers.errors):
        item = by_email.pop(answer.email or "", None)
        if item is None:
            continue  # not ours, or answered twice: the first answer stands
        code = answer.response_code
        if answer.ok:
            done.append(DoneRow(item.row, item.email, "created" if code == 201 else "updated"))
        elif code is None or code in RETRYABLE_STATUSES:
            retry.append(item)
        else:
            issue = rejection_issue(item, answer)
            issues.append(issue)
            done.append(DoneRow(item.row, item.email, "failed", issue_to_dict(issue)))
    # Items with no answer at all were never reached (a stopped batch).
    return Settlement(tuple(done), tuple(retry), tuple(by_email.values()), tuple(issues))


def rejection_issue(item: PendingItem, answer: BatchItem) -> RowIssue:
    """The row issue for an item Omnisend refused, with Omnisend's own reason."""
    problem = ProblemDetails.from_body(answer.response_code or 0, answer.response)
    reasons = [f"{e.field}: {e.message}" if e.field else e.message for e in problem.errors]
    summary = problem.detail or problem.title or "rejected"
    message = f"Omnisend answered {answer.response_code}: {summary}"
    if reasons:
        message += " (" + "; ".join(reasons) + ")"
    field = problem.errors[0].field if problem.errors and problem.errors[0].field else "contact"
    return failure_issue(item, code="rejected_by_omnisend", message=message, field=field)


def failure_issue(
    item: PendingItem, *, code: str, message: str, field: str = "contact"
) -> RowIssue:
    """A row issue for a row that was sent but did not make it."""
    return RowIssue(
        row=item.row,
        field=field,
        severity="error",
        code=code,
        message=message,
        value=mask_email(item.email),
    )


def issue_to_dict(issue: RowIssue) -> dict[str, Any]:
    """A row issue as the journal stores it."""
    return attrs.asdict(issue)


def issue_from_dict(data: Mapping[str, Any]) -> RowIssue:
    """A row issue read back from the journal."""
    return RowIssue(**data)
