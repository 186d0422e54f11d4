"""settle() and settle_clean(): what each batch item answer means for its row (pure, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from omnisend_sdk._models import Batch, BatchItem
from omnisend_sdk.export._batcher import PendingItem
from omnisend_sdk.export._journal import DoneRow
from omnisend_sdk.export._reconcile import issue_from_dict, settle, settle_clean
from omnisend_sdk.mapping import mask_email
from tests.export.fakes import answer_item, batch_items, request_body

BATCH = Batch(batch_id="b1", status="finished")


def item(row: int) -> PendingItem:
    address = f"person{row}@example.com"
    return PendingItem.of(row, address, request_body(address))


def answer(row: int, code: int | None, response: Any = None) -> BatchItem:
    made = answer_item(f"person{row}@example.com", code)
    if response is not None:
        made = BatchItem(
            item_id=made.item_id, request=made.request, response_code=code, response=response
        )
    return made


# Where each item answer code sends its row: a final outcome, or another batch.
CODE_POLICY = [
    (201, "created"),
    (200, "updated"),
    (408, "retry"),
    (429, "retry"),
    (500, "retry"),
    (502, "retry"),
    (503, "retry"),
    (504, "retry"),
    (None, "retry"),
    (400, "failed"),
    (401, "failed"),
    (403, "failed"),
    (404, "failed"),
    (409, "failed"),
    (422, "failed"),
]


@pytest.mark.parametrize(("code", "fate"), CODE_POLICY)
def test_each_item_answer_code_decides_its_rows_fate(code: int | None, fate: str) -> None:
    rows = [item(0), item(1)]

    settlement = settle(rows, batch_items(BATCH, [answer(1, 201), answer(0, code)]))

    if fate == "retry":
        assert settlement.retry == (rows[0],)
        assert [d.row for d in settlement.done] == [1]
        assert settlement.issues == ()
    else:
        assert {d.row: d.outcome for d in settlement.done} == {
            0: fate,
            1: "created",
        }
        assert settlement.retry == ()
        assert [i.row for i in settlement.issues] == ([0] if fate == "failed" else [])
    assert settlement.unprocessed == ()


def test_items_are_matched_by_email_whatever_their_order() -> None:
    rows = [item(n) for n in range(5)]
    answers = [answer(3, 201), answer(0, 200), answer(4, 201), answer(1, 200), answer(2, 201)]

    settlement = settle(rows, batch_items(BATCH, answers))

    assert {d.row: d.outcome for d in settlement.done} == {
        0: "updated",
        1: "updated",
        2: "created",
        3: "created",
        4: "created",
    }
    assert all(d.email == f"person{d.row}@example.com" for d in settlement.done)


def test_items_without_an_answer_are_unprocessed() -> None:
    rows = [item(n) for n in range(4)]

    settlement = settle(rows, batch_items(BATCH, [answer(2, 201), answer(0, 400)]))

    assert settlement.unprocessed == (rows[1], rows[3])
    assert sorted(d.row for d in settlement.done) == [0, 2]


def test_answers_for_unknown_emails_and_second_answers_are_ignored() -> None:
    rows = [item(0), item(1)]
    strangers = [answer(7, 201), answer(8, 400), BatchItem(response_code=201)]
    answers = [answer(0, 201), *strangers, answer(0, 400), answer(1, 200)]

    settlement = settle(rows, batch_items(BATCH, answers))

    assert settlement.done == (
        DoneRow(0, "person0@example.com", "created"),
        DoneRow(1, "person1@example.com", "updated"),
    )
    assert (settlement.issues, settlement.retry, settlement.unprocessed) == ((), (), ())


def test_a_rejected_row_carries_omnisends_detail_and_the_first_field_error() -> None:
    problem = {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "the contact is not valid",
        "errors": [
            {"field": "phone", "message": "not a phone number"},
            {"field": "birthdate", "message": "not a date"},
        ],
    }
    rows = [item(12)]

    settlement = settle(rows, batch_items(BATCH, [answer(12, 400, problem)]))

    (issue,) = settlement.issues
    assert (issue.row, issue.field, issue.severity, issue.code) == (
        12,
        "phone",
        "error",
        "rejected_by_omnisend",
    )
    assert "400" in issue.message
    assert "the contact is not valid" in issue.message
    assert "not a phone number" in issue.message
    assert issue.value == mask_email("person12@example.com")
    assert "person12@example.com" not in (issue.value or "")
    assert "person12@example.com" not in issue.message
    (done,) = settlement.done
    assert done.outcome == "failed"
    assert done.issue is not None
    assert issue_from_dict(done.issue) == issue  # journaled as it is reported


@pytest.mark.parametrize(
    ("response", "field", "in_message"),
    [
        (None, "contact", "rejected"),
        ({"title": "Conflict"}, "contact", "Conflict"),
        ({"error": "email taken", "fields": {"email": ["already used"]}}, "email", "email taken"),
        ({"detail": "no", "errors": [{"message": "bad"}]}, "contact", "bad"),
    ],
)
def test_a_rejected_rows_issue_reads_whatever_problem_omnisend_sent(
    response: Any, field: str, in_message: str
) -> None:
    rows = [item(0)]
    rejected = BatchItem(request=request_body("person0@example.com"), response_code=409)
    if response is not None:
        rejected = BatchItem(request=rejected.request, response_code=409, response=response)

    (issue,) = settle(rows, batch_items(BATCH, [rejected])).issues

    assert issue.field == field
    assert in_message in issue.message
    assert issue.value == mask_email("person0@example.com")


def test_settle_clean_marks_every_row_upserted() -> None:
    rows = [item(n) for n in range(3)]

    settlement = settle_clean(rows)

    assert [(d.row, d.outcome) for d in settlement.done] == [
        (0, "upserted"),
        (1, "upserted"),
        (2, "upserted"),
    ]
    assert (settlement.retry, settlement.unprocessed, settlement.issues) == ((), (), ())
