"""An in-memory :class:`ExportGateway` for unit tests of the export engine, its tracker and tagger.

The fake plays Omnisend from a script: which item answer each email gets on each of its sends,
after how many item errors a batch stops, which ``POST /batches`` calls fail (and whether the batch
was created anyway), how many looks a batch takes to finish, which batches the listing leaves out,
which tag calls fail. It records every call so tests can count requests and read what was sent.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from omnisend_sdk import ClientStats, _json
from omnisend_sdk._errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProblemDetails,
    ServerError,
)
from omnisend_sdk._models import (
    Batch,
    BatchItem,
    BatchItems,
    BatchStatus,
    ContactInput,
    UpsertResult,
)
from omnisend_sdk.export._gateway import GatewayFacts

#: Which answer an item gets: called with its email and how many created batches carried it so far
#: (1 on its first batch); returns the item's response code.
Answer = Callable[[str, int], int | None]


@attrs.frozen
class CreateFault:
    """How one ``POST /batches`` fails.

    Attributes:
        error: What the call raises.
        created: Whether the fake created the batch before raising (an answer lost on the way
            back, as opposed to a request that never arrived).
    """

    error: Exception
    created: bool = False


#: Decides the fate of one ``POST /batches``: called with the call's number (1-based) and the
#: emails it carries; ``None`` lets it through.
CreatePlan = Callable[[int, list[str]], CreateFault | None]


def always_created(code: int = 201) -> Answer:
    """Every item answered with ``code``."""
    return lambda _email, _attempt: code


def problem_body(status: int, detail: str, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem as Omnisend puts it in a batch item's answer."""
    body: dict[str, Any] = {"type": "about:blank", "title": "Error", "status": status}
    body["detail"] = detail
    if field is not None:
        body["errors"] = [{"field": field, "message": f"{field} is not valid"}]
    return body


def request_body(email: str) -> dict[str, Any]:
    """A contact request body identified by ``email`` (the engine's mapped shape)."""
    return {"identifiers": [{"type": "email", "id": email, "sendWelcomeMessage": False}]}


def answer_item(email: str, code: int | None, *, detail: str = "refused") -> BatchItem:
    """A batch item's answer for ``email``."""
    ok = code is not None and 200 <= code < 300
    response: dict[str, Any] | None
    if code is None:
        response = None
    elif ok:
        response = {"contactID": f"c-{email}"}
    else:
        response = problem_body(code, detail, "email" if code == 400 else None)
    return BatchItem(
        item_id=f"i-{email}",
        request=request_body(email),
        response_code=code,
        response=response,
        status="success" if ok else "error",
    )


def batch_items(batch: Batch, answers: Sequence[BatchItem]) -> BatchItems:
    """Answers split as Omnisend splits them: successes in ``responses``, the rest in ``errors``."""
    return BatchItems(
        batch=batch,
        responses=tuple(a for a in answers if a.ok),
        errors=tuple(a for a in answers if not a.ok),
    )


def auth_error() -> AuthenticationError:
    problem = ProblemDetails(status=401, title="Unauthorized", detail="the API key is invalid")
    return AuthenticationError(problem, method="POST", path="/batches")


def bad_request(detail: str = "items[3].identifiers: invalid") -> BadRequestError:
    problem = ProblemDetails(status=400, title="Bad Request", detail=detail)
    return BadRequestError(problem, method="POST", path="/batches")


def server_error(path: str = "/contacts/tags") -> ServerError:
    problem = ProblemDetails(status=503, title="Service Unavailable", detail="try later")
    return ServerError(problem, method="POST", path=path)


def outcome_unknown() -> OutcomeUnknownError:
    return OutcomeUnknownError("the read timed out", method="POST", path="/batches")


@attrs.define
class _Stored:
    batch: Batch
    answers: tuple[BatchItem, ...]
    final_status: BatchStatus
    looks_left: int  # status reads (list or get) before the batch shows its final status
    listed: bool


class FakeGateway:
    """An :class:`ExportGateway` answering from memory.

    Args:
        answer: The item answer per email and send (default: every item 201).
        stop_after_errors: Item errors after which a batch is ``stopped`` (its later items
            unanswered), like Omnisend; ``None``: never.
        create_plan: Which ``POST /batches`` calls fail, and how.
        looks_until_done: Status reads a new batch stays ``inProgress`` for.
        unlisted: Whether a created batch is left out of ``GET /batches`` (by creation number).
        tag_fails: Which ``/contacts/tags`` calls (1-based) raise a server error.
        window: The rate window in seconds (small: polls come every ``window / 6``).
    """

    def __init__(
        self,
        *,
        answer: Answer | None = None,
        stop_after_errors: int | None = None,
        create_plan: CreatePlan | None = None,
        looks_until_done: int = 0,
        unlisted: Callable[[int], bool] | None = None,
        tag_fails: Callable[[int], bool] | None = None,
        window: float = 0.06,
    ) -> None:
        self.facts = GatewayFacts(
            api_version="2026-03-15",
            key_fingerprint="fake-fingerprint",
            window=window,
            requests_per_window=400,
            batch_size=100,
        )
        self._answer = answer or always_created()
        self._stop_after_errors = stop_after_errors
        self._create_plan = create_plan
        self._looks_until_done = looks_until_done
        self._unlisted = unlisted or (lambda _n: False)
        self._tag_fails = tag_fails or (lambda _n: False)
        self._ids = itertools.count(1)
        self._sends: Counter[str] = Counter()
        self.stored: dict[str, _Stored] = {}
        #: Every ``POST /batches`` body's emails, in call order (failed calls included).
        self.posted: list[list[str]] = []
        #: How many ``GET /batches`` calls had been made when each ``POST /batches`` went out.
        self.lists_at_post: list[int] = []
        #: The emails of every batch the fake created, in creation order.
        self.created: list[list[str]] = []
        #: Every tag call: (tags, emails).
        self.tag_calls: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self.calls: Counter[str] = Counter()

    # --- scripting helpers ---------------------------------------------------------------------

    def add_batch(
        self,
        batch: Batch,
        answers: Sequence[BatchItem] = (),
        *,
        listed: bool = True,
        looks_left: int = 0,
    ) -> None:
        """Put a batch in Omnisend's hands directly (for tracker tests)."""
        shown = attrs.evolve(batch, status="inProgress") if looks_left else batch
        self.stored[batch.batch_id] = _Stored(
            shown, tuple(answers), batch.status, looks_left, listed
        )

    def sends_of(self, email: str) -> int:
        """How many created batches carried ``email``."""
        return self._sends[email]

    # --- the Protocol --------------------------------------------------------------------------

    def stats(self) -> ClientStats:
        return ClientStats()

    async def create_batch(self, items: Sequence[bytes]) -> Batch:
        self.calls["create_batch"] += 1
        emails = [_email_of(_json.loads(body)) for body in items]
        self.posted.append(emails)
        self.lists_at_post.append(self.calls["list_batches"])
        fault = self._create_plan(len(self.posted), emails) if self._create_plan else None
        if fault is not None and not fault.created:
            raise fault.error
        batch = self._create(emails)
        if fault is not None:
            raise fault.error
        return Batch(batch_id=batch.batch_id, total_count=batch.total_count)

    def _create(self, emails: list[str]) -> Batch:
        number = next(self._ids)
        self.created.append(emails)
        answers: list[BatchItem] = []
        errors = 0
        status: BatchStatus = "finished"
        for email in emails:
            self._sends[email] += 1
            code = self._answer(email, self._sends[email])
            item = answer_item(email, code)
            answers.append(item)
            if not item.ok:
                errors += 1
                if self._stop_after_errors is not None and errors >= self._stop_after_errors:
                    status = "stopped"
                    break
        batch = Batch(
            batch_id=f"b{number}",
            status=status,
            method="POST",
            endpoint="contacts",
            total_count=len(emails),
            finished_count=len(answers),
            errors_count=errors,
            created_at=datetime.now(UTC),
        )
        # Omnisend does not promise item order: answer newest first.
        self.add_batch(
            batch,
            list(reversed(answers)),
            listed=not self._unlisted(number),
            looks_left=self._looks_until_done,
        )
        return batch

    def _look(self, stored: _Stored) -> Batch:
        if stored.looks_left:
            stored.looks_left -= 1
            if not stored.looks_left:
                stored.batch = attrs.evolve(stored.batch, status=stored.final_status)
        return stored.batch

    async def list_batches(
        self, *, created_from: datetime, offset: int, limit: int
    ) -> tuple[Batch, ...]:
        self.calls["list_batches"] += 1
        # Omnisend filters by day (``dateFrom``) and lists newest first.
        found = [
            s
            for s in reversed(self.stored.values())
            if s.listed
            and (s.batch.created_at is None or s.batch.created_at.date() >= created_from.date())
        ]
        return tuple(self._look(s) for s in found[offset : offset + limit])

    async def get_batch(self, batch_id: str) -> Batch:
        self.calls["get_batch"] += 1
        stored = self.stored.get(batch_id)
        if stored is None:
            problem = ProblemDetails(status=404, title="Not Found", detail="no such batch")
            raise NotFoundError(problem, method="GET", path="/batches/{id}")
        return self._look(stored)

    async def batch_items(self, batch_id: str) -> BatchItems:
        self.calls["batch_items"] += 1
        stored = self.stored[batch_id]
        answered = stored.answers if stored.batch.done else ()
        return batch_items(stored.batch, answered)

    async def add_tags(self, tags: Sequence[str], emails: Sequence[str]) -> int:
        self.calls["add_tags"] += 1
        self.tag_calls.append((tuple(tags), tuple(emails)))
        if self._tag_fails(len(self.tag_calls)):
            raise server_error()
        return len(emails)

    async def upsert(self, contact: ContactInput) -> UpsertResult:
        raise NotImplementedError("the engine never upserts single contacts")


def _email_of(body: Mapping[str, Any]) -> str:
    for identifier in body.get("identifiers", ()):
        if identifier.get("type") == "email":
            return str(identifier["id"])
    raise AssertionError(f"a body without an email identifier: {body}")
