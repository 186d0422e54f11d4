"""``OmnisendEmulator``: the public face of the emulator."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from typing import Any

import httpx

from . import _batches, _contacts, _segments, _server
from ._app import Application, Exchange, RequestRecord
from ._auth import EMULATOR_API_KEY, ScopedKey, index_keys
from ._clock import Clock, ScaledClock
from ._faults import Fault, FaultInjector, FaultPlan, ScriptedFault
from ._problems import ApiProblem
from ._ratelimit import RateLimits
from ._settings import (
    MAX_BODY_BYTES,
    SEGMENT_BUILD_DELAY,
    TAG_DELAY,
    BatchProcessing,
    Settings,
)
from ._state import EmulatorStats, SegmentStatus, State
from ._transport import EmulatorTransport


class OmnisendEmulator:
    """A stateful Omnisend (API version 2026-03-15) for tests, benchmarks and demos.

    One emulator is one brand: its contacts, segments, batches and rate-limit windows are shared
    by every key and every client talking to it. Use :meth:`transport` in-process, or
    :meth:`serve` for a real HTTP server on loopback.

    Example:
        >>> emulator = OmnisendEmulator()
        >>> with httpx.Client(transport=emulator.transport(), base_url=emulator.base_url,
        ...                   headers=emulator.headers()) as http:
        ...     http.post("/contacts", json={"identifiers": [{"type": "email", "id": "a@b.co"}]})
        <Response [201 Created]>
    """

    base_url = "https://api.omnisend.com/api"
    """A base URL for in-process use; the transport accepts any prefix before the API path."""

    def __init__(
        self,
        *,
        api_keys: Iterable[ScopedKey | str] = (EMULATOR_API_KEY,),
        clock: Clock | None = None,
        time_scale: float = 1.0,
        rate_limits: RateLimits | None = None,
        faults: FaultPlan | None = None,
        batches: BatchProcessing | None = None,
        tag_delay: float = TAG_DELAY,
        segment_build_delay: float = SEGMENT_BUILD_DELAY,
        welcome_workflow: bool = True,
        retired_versions: Iterable[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
        seed: int | None = None,
    ) -> None:
        """Configure the emulator. Every option is keyword-only and has a default.

        Args:
            api_keys: accepted keys; a plain string is a key with full access
                (:data:`FULL_ACCESS`: contacts and segments, read and write).
                Default: just :data:`EMULATOR_API_KEY`.
            clock: the emulator clock, e.g. a :class:`ManualClock` for deterministic tests.
                Default: a :class:`ScaledClock` at ``time_scale``, from the real current time.
            time_scale: emulator seconds per real second when no ``clock`` is given (60 makes a
                minute of Omnisend time pass in a second). Default 1.
            rate_limits: rate-limit settings. Default: 400/min for the brand, 60/min for tags,
                100/min for GET and DELETE of segments, 15/min for their POST and PUT, sliding
                60 s window, no ``X-Rate-Limit-*`` headers.
            faults: random faults to inject. Default: none.
            batches: batch processing pace, stop threshold and retention.
            tag_delay: emulator seconds before a ``/contacts/tags`` change is applied. Default 2.
            segment_build_delay: emulator seconds a segment stays ``building`` after it is
                created or updated. Default 2.
            welcome_workflow: whether the brand's welcome workflow is on (counts welcome messages).
            retired_versions: ``Omnisend-Version`` values answered with 410.
            max_body_bytes: larger request bodies are answered with 413. Default 1 MiB.
            seed: seed for ids and the order of batch items; None for a random one.
        """
        self._clock: Clock = clock if clock is not None else ScaledClock(time_scale)
        settings = Settings(
            api_keys=index_keys(api_keys),
            retired_versions=frozenset(retired_versions),
            welcome_workflow=welcome_workflow,
            tag_delay=tag_delay,
            segment_build_delay=segment_build_delay,
            batches=batches or BatchProcessing(),
            rate_limits=rate_limits or RateLimits(),
            max_body_bytes=max_body_bytes,
        )
        self._faults = FaultInjector(faults or FaultPlan())
        self._state = State(settings, seed)
        self._app = Application(self._state, self._clock, self._faults)

    # -- running ---------------------------------------------------------------------------------

    def transport(self) -> EmulatorTransport:
        """An httpx transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
        return EmulatorTransport(self._app)

    def serve(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/api",
        hold: float = _server.DEFAULT_HOLD,
    ) -> contextlib.AbstractContextManager[str]:
        """Run a threaded HTTP server on loopback while the ``with`` block lasts.

        Args:
            host: the address to bind.
            port: the port; 0 picks a free one.
            path: the prefix of the yielded base URL (the server accepts any prefix).
            hold: real seconds an injected timeout keeps a connection silent, unless the client
                hangs up first.

        Returns:
            A context manager yielding the base URL, e.g. ``http://127.0.0.1:54321/api``.
        """
        return _server.serve(self._app, host=host, port=port, path=path, hold=hold)

    def exchange(self, request: httpx.Request) -> Exchange:
        """The sans-I/O core: the outcome of one request (answer, failure, latency)."""
        request.read()
        return self._app.exchange(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request; injected failures raise the httpx exception, latency is skipped."""
        return self.exchange(request).deliver(request)

    def headers(self, api_key: str = EMULATOR_API_KEY) -> dict[str, str]:
        """The headers a 2026-03-15 client sends: ``Authorization`` and ``Omnisend-Version``."""
        return {"Authorization": f"Omnisend-API-Key {api_key}", "Omnisend-Version": "2026-03-15"}

    # -- time ------------------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The emulator clock."""
        return self._clock

    @property
    def now(self) -> dt.datetime:
        """The current emulator time (UTC)."""
        return dt.datetime.fromtimestamp(self._app.now(), tz=dt.UTC)

    def advance(self, seconds: float) -> None:
        """Move emulator time forward and run the work that became due."""
        with self._app.lock:
            self._clock.advance(seconds)
            self._app.now()

    def run_until_idle(self) -> float:
        """Finish every pending batch, tag change and segment build, moving the clock to when the
        last one is done.

        Returns:
            The emulator seconds the clock was moved forward.
        """
        moved = 0.0
        with self._app.lock:
            while (due := self._state.work.next_due()) is not None:
                now = self._app.now()
                if due > now:
                    self._clock.advance(due - now)
                    moved += due - now
                self._app.now()
        return moved

    # -- faults ----------------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Script ``fault`` for the next ``times`` requests matching ``method`` and ``path``.

        ``path`` is a glob over the API path without the base URL prefix, e.g. ``/batches`` or
        ``/contacts*``. Scripted faults fire before random ones, in the order they were added.
        """
        with self._app.lock:
            self._faults.script(ScriptedFault(fault, method=method, path=path, times=times))

    # -- seeding and inspection ------------------------------------------------------------------

    def add_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        """Upsert a contact as ``POST /contacts`` would, bypassing auth, rate limits and faults.

        Raises:
            ApiProblem: when the body is invalid.
        """
        with self._app.lock:
            contact = _contacts.upsert(self._state, body, self._app.now())[1]
            return _contacts.render(self._state, contact)

    def add_to_segment(self, segment_id: str, emails: Iterable[str]) -> None:
        """Make the contacts with these emails members of segment ``segment_id``.

        For a segment whose rules the emulator does not evaluate (it has members only, and
        ``GET /segments`` does not list it); a segment made with ``POST /segments`` takes its
        members from its rules: tag the contacts instead.

        Raises:
            ApiProblem: 404 when an email belongs to no contact.
            ValueError: when ``segment_id`` is a segment made with ``POST /segments``.
        """
        with self._app.lock:
            if segment_id in self._state.segments:
                msg = f"segment {segment_id} has rules: tag its contacts instead"
                raise ValueError(msg)
            members = self._state.seeded_segments.setdefault(segment_id, set())
            for email in emails:
                members.add(_contacts.get_by_email(self._state, email).id)

    def add_segment(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a segment as ``POST /segments`` would, bypassing auth, rate limits and faults.

        Raises:
            ApiProblem: when the body is invalid or its rules are not emulated.
        """
        with self._app.lock:
            return _segments.create(self._state, body, self._app.now())

    def segment(self, segment_id: str) -> dict[str, Any] | None:
        """The segment as ``GET /segments/{id}`` shows it, or None."""
        with self._app.lock:
            self._app.now()
            segment = self._state.segments.get(segment_id)
            return _segments.render(segment) if segment is not None else None

    def segments(self) -> list[dict[str, Any]]:
        """Every segment made with ``POST /segments``, oldest first."""
        with self._app.lock:
            self._app.now()
            return [_segments.render(segment) for segment in self._state.segments.values()]

    def segment_contacts_count(self, segment_id: str) -> int | None:
        """The ``contactsCount`` that ``GET /segments/{id}/statistics`` answers now, or None.

        While a segment builds that is its count as of the last time it was ready. Segments made
        with :meth:`add_to_segment` are counted too.
        """
        with self._app.lock:
            self._app.now()
            known = segment_id in self._state.segments or segment_id in self._state.seeded_segments
            return len(_segments.members(self._state, segment_id)) if known else None

    def delete_segment(self, segment_id: str) -> None:
        """Delete a segment out of band, as someone in the Omnisend app would, even while it builds.

        Raises:
            ApiProblem: 404 when there is no such segment.
        """
        with self._app.lock:
            self._app.now()
            _segments.delete(self._state, segment_id, out_of_band=True)

    def set_segment_status(self, segment_id: str, status: SegmentStatus) -> None:
        """Force a segment's status, e.g. to test how a client handles 409 while it builds.

        ``"building"`` holds it building, with its members frozen as they are, until it is set
        ``"ready"`` (a build in progress no longer ends it); ``"ready"`` ends any build now.

        Raises:
            ApiProblem: 404 when there is no such segment.
        """
        with self._app.lock:
            self._app.now()
            segment = _segments.find(self._state, segment_id)
            if status == "building":
                _segments.start_build(self._state, segment, None)
            else:
                _segments.finish_build(segment)

    def contact(self, email: str) -> dict[str, Any] | None:
        """The contact with this email identifier (exact match) as the API shows it, or None."""
        with self._app.lock:
            self._app.now()
            try:
                return _contacts.render(self._state, _contacts.get_by_email(self._state, email))
            except ApiProblem:
                return None

    def contacts(self) -> list[dict[str, Any]]:
        """Every contact, oldest first."""
        with self._app.lock:
            self._app.now()
            return [_contacts.render(self._state, c) for c in self._state.contacts.values()]

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        """A batch with its items, as ``GET /batches/{id}/items`` shows it, or None."""
        with self._app.lock:
            try:
                return _batches.render_items(
                    self._state,
                    _batches.find(self._state, batch_id, self._app.now()),
                )
            except ApiProblem:
                return None

    def batches(self) -> list[dict[str, Any]]:
        """Every batch still kept, oldest first, without items."""
        with self._app.lock:
            self._app.now()
            return [_batches.render(batch) for batch in self._state.batches.values()]

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first (a copy)."""
        with self._app.lock:
            return list(self._app.log)

    @property
    def stats(self) -> EmulatorStats:
        """A snapshot of the counters."""
        with self._app.lock:
            self._app.now()
            return self._state.stats.copy()
