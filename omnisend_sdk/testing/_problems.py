"""RFC 9457 problem details, the error format of API version 2026-03-15.

Handlers raise :class:`ApiProblem`; the router turns it into an ``application/problem+json``
answer and the batch processor into the ``response`` of a failed item, so the single call and the
batched call report an error identically.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import attrs

_Resource = TypeVar("_Resource")

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Omnisend's OpenAPI examples use this base for problem types and a URN per request for `instance`.
PROBLEM_TYPE_BASE = "https://problems.omnisend.com/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@attrs.frozen
class InvalidField:
    """One invalid field of a request, an ``errors[]`` member of a 400 problem.

    It names a dot-separated path (``identifiers.0.id``), a code and a message.
    """

    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The wire form: ``{field, code, message}``."""
        return {"field": self.field, "code": self.code, "message": self.message}


class ApiProblem(Exception):  # noqa: N818 - named after the RFC's "problem", not an error class
    """An API answer that is an error, carrying everything its problem body needs."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        errors: tuple[InvalidField, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Create the problem.

        Args:
            status: the HTTP status.
            slug: the last part of the problem ``type`` URI, e.g. ``validation-failed``.
            detail: a human-readable explanation of this occurrence.
            errors: field errors (validation problems only).
            extra: extension members, e.g. ``retryAfter``.
        """
        super().__init__(f"{status} {slug}: {detail}")
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}

    def to_json(self) -> dict[str, Any]:
        """The problem body, with a fresh trace id in ``instance``."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "instance": new_trace_id(),
        }
        if self.errors:
            body["errors"] = [error.to_json() for error in self.errors]
        body.update(self.extra)
        return body


def new_trace_id() -> str:
    """A unique request trace id in the URN form Omnisend documents."""
    return f"urn:omnisend:request:{uuid.uuid4()}"


def validation_problem(errors: list[InvalidField], detail: str = "Validation failed") -> ApiProblem:
    """The 400 problem for a list of field errors."""
    return ApiProblem(400, "validation-failed", detail, errors=tuple(errors))


def not_found(what: str) -> ApiProblem:
    """The 404 problem for a missing resource."""
    return ApiProblem(404, "not-found", f"{what} not found")


def found(resource: _Resource | None, what: str) -> _Resource:
    """``resource``, which a lookup found, or the 404 problem for a missing ``what``."""
    if resource is None:
        raise not_found(what)
    return resource
