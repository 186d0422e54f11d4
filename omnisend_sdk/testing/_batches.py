"""Batches: accepted at once, processed asynchronously item by item at a configurable pace.

Each item goes through :func:`._contacts.upsert`, the same function as ``POST /contacts``, so an
item's ``responseCode`` and ``response`` are what the single call would have answered.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from . import _contacts
from ._problems import ApiProblem, found
from ._rules import BatchQuery, require_valid, validate_batch_request
from ._state import Batch, BatchItem, State
from ._times import format_time
from ._work import Job

_COMPACT = (",", ":")


def create(state: State, body: Any, now: float) -> dict[str, Any]:
    """``POST /batches``: store the batch as ``pending`` and schedule its processing.

    Raises:
        ApiProblem: 400 when the envelope is invalid (items are checked one by one later).
    """
    require_valid(validate_batch_request(body))
    items = [
        BatchItem(item_id=state.new_id(), request_json=json.dumps(item, separators=_COMPACT))
        for item in body["items"]
    ]
    order = list(range(len(items)))
    if state.settings.batches.shuffle_items:
        state.rng.shuffle(order)
    batch = Batch(
        id=state.new_id(),
        method=body["method"],
        endpoint=body["endpoint"],
        origin=body.get("origin"),
        created_at=now,
        items=items,
        report_order=order,
    )
    state.batches[batch.id] = batch
    state.stats.batches_created += 1
    state.work.schedule(now + state.settings.batches.start_delay, _processor(state, batch))
    return {"batchID": batch.id, "totalCount": len(items)}


def _processor(state: State, batch: Batch) -> Job:
    settings = state.settings.batches
    step = 1.0 / settings.items_per_second

    def next_due() -> float:
        # Multiplying instead of adding a step per item keeps float error from piling up.
        assert batch.started_at is not None
        return batch.started_at + (batch.finished_count + 1) * step

    def job(due: float) -> float | None:
        if batch.status == "pending":
            batch.status = "inProgress"
            batch.started_at = due
            return next_due()
        item = batch.items[batch.finished_count]
        try:
            item.response_code, answer = _contacts.upsert(state, json.loads(item.request_json), due)
            item.contact_id = answer["id"]
        except ApiProblem as problem:
            item.response_code = problem.status
            item.problem_json = json.dumps(problem.to_json(), separators=_COMPACT)
            batch.errors_count += 1
        batch.finished_count += 1
        threshold = settings.stop_after_errors
        if threshold is not None and batch.errors_count >= threshold:
            batch.status, batch.ended_at = "stopped", due
            return None
        if batch.finished_count == len(batch.items):
            batch.status, batch.ended_at = "finished", due
            return None
        return next_due()

    return job


def find(state: State, batch_id: str, now: float) -> Batch:
    """The batch with ``batch_id``; batches past their retention are forgotten.

    Raises:
        ApiProblem: 404 when there is no such batch (or no longer).
    """
    batch = state.batches.get(batch_id)
    if batch is not None and _expired(state, batch, now):
        del state.batches[batch_id]
        batch = None
    return found(batch, "batch")


def _expired(state: State, batch: Batch, now: float) -> bool:
    return now - batch.created_at > state.settings.batches.retention


def render(batch: Batch) -> dict[str, Any]:
    """The ``Batch`` body without its items."""
    body: dict[str, Any] = {
        "batchID": batch.id,
        "method": batch.method,
        "endpoint": batch.endpoint,
        "status": batch.status,
        "createdAt": format_time(batch.created_at),
        "totalCount": len(batch.items),
        "finishedCount": batch.finished_count,
        "errorsCount": batch.errors_count,
    }
    if batch.origin is not None:
        body["origin"] = batch.origin
    if batch.started_at is not None:
        body["startedAt"] = format_time(batch.started_at)
    if batch.ended_at is not None:
        body["endedAt"] = format_time(batch.ended_at)
    return body


def render_items(state: State, batch: Batch) -> dict[str, Any]:
    """The ``Batch`` body plus processed items: ``responses`` (successes) and ``errors``."""
    responses: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index in batch.report_order:
        item = batch.items[index]
        if item.response_code is None:
            continue  # not processed yet
        failed = item.problem_json is not None
        if item.problem_json is not None:
            response = json.loads(item.problem_json)
        else:
            assert item.contact_id is not None
            response = _contacts.render(state, state.contacts[item.contact_id])
        (errors if failed else responses).append(
            {
                "itemID": item.item_id,
                "request": json.loads(item.request_json),
                "responseCode": item.response_code,
                "response": response,
                "status": "failed" if failed else "finished",
            },
        )
    return {**render(batch), "responses": responses, "errors": errors}


def list_batches(state: State, query: BatchQuery, now: float, url: httpx.URL) -> dict[str, Any]:
    """``GET /batches``: newest first, offset paging with ``next``/``previous`` links."""
    for batch_id in [b.id for b in state.batches.values() if _expired(state, b, now)]:
        del state.batches[batch_id]
    matches = sorted(
        (
            batch
            for batch in state.batches.values()
            if batch.endpoint == query.endpoint
            and (query.status is None or batch.status == query.status)
            and (query.date_from is None or batch.created_at >= query.date_from)
            and (query.date_to is None or batch.created_at < query.date_to)
        ),
        key=lambda batch: batch.created_at,
        reverse=True,
    )
    page = matches[query.offset : query.offset + query.limit]
    paging: dict[str, Any] = {"offset": query.offset, "limit": query.limit}
    if query.offset + query.limit < len(matches):
        paging["next"] = str(url.copy_merge_params({"offset": query.offset + query.limit}))
    if query.offset > 0:
        previous = max(query.offset - query.limit, 0)
        paging["previous"] = str(url.copy_merge_params({"offset": previous}))
    return {"batches": [render(batch) for batch in page], "paging": paging}
