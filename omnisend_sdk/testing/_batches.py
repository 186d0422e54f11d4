"""Batches: accepted at once, processed asynchronously item by item at a configurable pace.

Each item goes through :func:`._contacts.upsert`, the same function as ``POST /contacts``, so an
item's ``responseCode`` and ``response`` are what the single call would have answered.
"""

from __future__ import annotations

import collections
import json
from typing import Any

import httpx

from . import _contacts
from ._json import decode, encode_compact
from ._problems import ApiProblem, found
from ._rules import BatchQuery, require_valid, validate_batch_request
from ._state import Batch, ItemOutcome, State
from ._times import format_time
from ._work import Job


def create(state: State, body: Any, sent: bytes, now: float) -> dict[str, Any]:
    """``POST /batches``: store the batch as ``pending`` and schedule its processing.

    Args:
        state: the store.
        body: the decoded body.
        sent: the body as sent, kept to show each item's ``request`` when the items are read.
        now: the emulator time.

    Raises:
        ApiProblem: 400 when the envelope is invalid (items are checked one by one later).
    """
    require_valid(validate_batch_request(body))
    requests = body["items"]
    # Drawn in this order (item ids, item order, batch id), a seed gives the ids it always gave.
    item_ids = tuple(state.new_id() for _ in requests)
    order = list(range(len(requests)))
    if state.settings.batches.shuffle_items:
        state.rng.shuffle(order)
    batch = Batch(
        id=state.new_id(),
        method=body["method"],
        endpoint=body["endpoint"],
        origin=body.get("origin"),
        created_at=now,
        item_ids=item_ids,
        sent=sent,
        report_order=tuple(order),
        unprocessed=collections.deque(requests),
    )
    state.batches[batch.id] = batch
    state.stats.batches_created += 1
    state.work.schedule(now + state.settings.batches.start_delay, _processor(state, batch))
    return {"batchID": batch.id, "totalCount": batch.total_count}


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
        batch.outcomes.append(_process(state, batch, batch.unprocessed.popleft(), due))
        threshold = settings.stop_after_errors
        if threshold is not None and batch.errors_count >= threshold:
            batch.status, batch.ended_at = "stopped", due
            batch.unprocessed.clear()
            return None
        if batch.finished_count == batch.total_count:
            batch.status, batch.ended_at = "finished", due
            return None
        return next_due()

    return job


def _process(state: State, batch: Batch, request: Any, now: float) -> ItemOutcome:
    """Upsert one item as ``POST /contacts`` would, counting a failure in ``batch``."""
    try:
        status, contact = _contacts.upsert(state, request, now)
    except ApiProblem as problem:
        batch.errors_count += 1
        return problem.status, None, encode_compact(problem.to_json())
    return status, contact.id, None


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
        "totalCount": batch.total_count,
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
    requests = decode(batch.sent)["items"]  # it decoded when the batch was accepted
    for index in batch.report_order:
        if index >= batch.finished_count:
            continue  # not processed yet
        status, contact_id, problem_json = batch.outcomes[index]
        if problem_json is not None:
            response = json.loads(problem_json)
        else:
            assert contact_id is not None
            response = _contacts.render(state, state.contacts[contact_id])
        failed = problem_json is not None
        (errors if failed else responses).append(
            {
                "itemID": batch.item_ids[index],
                "request": requests[index],
                "responseCode": status,
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
