"""``export_segment()``: the one call that sends a segment to Omnisend and reports every row."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import attrs

from omnisend_sdk._client import AsyncOmnisendClient, ClientStats, OmnisendClient
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk.export._connection import (
    Connection,
    PrivacyAcknowledgement,
    current_user,
    default_state_dir,
    require_privacy_acknowledgement,
)
from omnisend_sdk.export._engine import (
    DEFAULT_CONCURRENCY,
    Engine,
    EngineOptions,
    EngineResult,
)
from omnisend_sdk.export._gateway import ExportGateway, ThreadedClientGateway, gateway_for
from omnisend_sdk.export._journal import Journal
from omnisend_sdk.export._limits import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_PROFILES,
    ExportLimits,
    OnLimit,
)
from omnisend_sdk.export._plan import plan_export
from omnisend_sdk.export._progress import ExportProgress, ProgressCallbacks, default_progress
from omnisend_sdk.export._report import ExportReport, ExportStatus, Membership
from omnisend_sdk.export._seen import DiskSeenEmails
from omnisend_sdk.export._sync import run_sync
from omnisend_sdk.mapping import ContactMapping, RowSource, map_rows
from omnisend_sdk.sources import open_source

Client = OmnisendClient | AsyncOmnisendClient

_STATUS: Mapping[str | None, ExportStatus] = {
    None: "completed",
    "deadline": "partial",
    "error": "partial",
    "cancelled": "cancelled",
    "limit": "limit_exceeded",
}


class ExportInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an export; ``report`` says what was done. Rerun the export to resume it.

    A ``KeyboardInterrupt``, so code that catches ``Exception`` does not swallow the user's stop.
    """

    def __init__(self, report: ExportReport) -> None:
        super().__init__(
            f"export interrupted: {report.exported:,} of {report.rows_read:,} rows done"
        )
        self.report = report


@attrs.frozen(kw_only=True)
class Target:
    """Who the export talks to and under whose acknowledgement."""

    client: Client
    owned: bool
    connection_name: str | None
    privacy: PrivacyAcknowledgement | None


def resolve_target(
    client: Client | None,
    connection: Connection | None,
    *,
    run_by: str | None,
    state_dir: Path | None,
    client_options: Mapping[str, Any],
    prefer_async: bool,
) -> Target:
    if (client is None) == (connection is None):
        raise ConfigurationError("pass exactly one of client= or connection=")
    if connection is not None:
        privacy = connection.check_can_export(run_by)
        made: Client = (
            connection.async_client(**client_options)
            if prefer_async
            else connection.client(**client_options)
        )
        return Target(client=made, owned=True, connection_name=connection.name, privacy=privacy)
    assert client is not None
    privacy = require_privacy_acknowledgement(client, state_dir=state_dir)
    return Target(client=client, owned=False, connection_name=None, privacy=privacy)


def journal_path(state_dir: Path, segment: str, source: object, target: Client) -> Path:
    """Where the journal of one export lives: the same segment, source and store resume it."""
    identity = (
        str(Path(source).resolve())
        if isinstance(source, str | os.PathLike)
        else type(source).__name__
    )
    key = f"{segment}\0{identity}\0{target.key_fingerprint}\0{target.base_url}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", segment).strip("-").lower()[:40] or "segment"
    return state_dir / "exports" / f"{slug}-{digest}.sqlite"


class ExportOptions(TypedDict, total=False):
    """The keyword options of :func:`export_segment` and :func:`export_segment_async`.

    Attributes:
        membership: ``"tag"`` (default): add the segment's tag to every exported contact;
            ``"none"``: do not mark membership.
        segment_tag: The tag to add; defaults to the segment's name.
        max_profiles: Profiles one export may send (1,000,000).
        contract_cap: A lower cap from your Omnisend contract.
        on_limit: ``"fail"`` (default): refuse an over-cap segment before sending when it can be
            counted first; ``"truncate"``: send up to the cap, report the rest.
        deadline: Stop sending after this long (seconds or timedelta; 4 hours); rerun to resume.
        dry_run: Read and map everything, send nothing, report what would happen.
        resume: Keep a journal so a rerun resumes an interrupted export (default True).
        state_dir: Where journals and acknowledgements live (``$OMNISEND_SDK_STATE_DIR`` or
            ``~/.omnisend_sdk``).
        progress: ``"auto"`` (a tqdm bar on a terminal or in a notebook, when tqdm is
            installed), ``None``, or your own :class:`ExportProgress`.
        run_by: Who runs the export, for the report and ``allowed_users`` (default: the OS user).
        concurrency: Batch requests in flight at most (16), to use the rate budget at any latency.
        detailed: Fetch every batch's items to tell created from updated contacts (costs one
            request per batch).
        client_options: Options for the client a connection makes (``rate_limiter``, ``retry``...).
        source_options: Options for the source (``delimiter``, ``encoding``...).
    """

    membership: Membership
    segment_tag: str | None
    max_profiles: int
    contract_cap: int | None
    on_limit: OnLimit
    deadline: timedelta | float
    dry_run: bool
    resume: bool
    state_dir: str | Path | None
    progress: ExportProgress | Literal["auto"] | None
    run_by: str | None
    concurrency: int
    detailed: bool
    client_options: Mapping[str, Any] | None
    source_options: Mapping[str, Any] | None


async def export_segment_async(
    source: object,
    mapping: ContactMapping,
    *,
    segment: str,
    client: Client | None = None,
    connection: Connection | None = None,
    cancel: threading.Event | None = None,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Export a segment to Omnisend; the asyncio form of :func:`export_segment`.

    Pass an :class:`AsyncOmnisendClient` (or a sync client, driven from threads) or a
    :class:`Connection`. Cancelling the task stops the export; the journal keeps what was done.
    """
    export = _Export(
        source, mapping, segment=segment, cancel=cancel or threading.Event(), **_resolved(options)
    )
    return await export.run(client, connection, options.get("client_options") or {}, True)


def export_segment(
    source: object,
    mapping: ContactMapping,
    *,
    segment: str,
    client: Client | None = None,
    connection: Connection | None = None,
    cancel: threading.Event | None = None,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Export a segment to Omnisend as contacts and report what happened to every row.

    Rows stream from the source through the mapper (invalid rows and repeated emails are reported,
    not sent) into batches of up to 100 contacts, sent as fast as Omnisend's rate limits allow.
    New contacts get no welcome message and no subscription status unless the mapping gives one
    with its time. By default every exported contact also gets the segment's tag (added, never
    replacing its other tags). An interrupted export resumes when run again with the same
    segment, source and store.

    Works in scripts and inside a running event loop (a Jupyter cell). Pass a sync
    :class:`OmnisendClient` or a :class:`Connection`; use :func:`export_segment_async` with an
    :class:`AsyncOmnisendClient`.

    Args:
        source: A path (CSV, JSON Lines), an iterable of mappings, a DataFrame or Arrow table.
        mapping: Where each contact field comes from.
        segment: The segment's name (also its tag, unless ``segment_tag`` says otherwise).
        client: The client to send through (its key must have a privacy acknowledgement, unless
            its base URL is a loopback emulator).
        connection: Or a :class:`Connection`, which checks the acknowledgement and the user.
        cancel: A ``threading.Event``: set it to stop the export cleanly (status "cancelled").
        **options: See :class:`ExportOptions`.

    Returns:
        The report: every row counted once, every issue with its source row.

    Raises:
        PrivacyAcknowledgementError: Nobody acknowledged that data leaves for Omnisend.
        ExportLimitError: A counted segment is over the cap and ``on_limit="fail"``.
        MappingError: A column the mapping needs is missing (nothing is sent).
        ExportInterrupted: Ctrl-C outside a notebook; ``.report`` holds the partial report.
    """
    stop = cancel or threading.Event()
    interrupted: list[ExportReport] = []

    async def run() -> ExportReport:
        export = _Export(source, mapping, segment=segment, cancel=stop, **_resolved(options))
        export.on_interrupt = interrupted.append
        return await export.run(client, connection, options.get("client_options") or {}, False)

    try:
        return run_sync(run, stop)
    except KeyboardInterrupt as interrupt:
        if interrupted:
            raise ExportInterrupted(interrupted[-1]) from interrupt
        raise


def _resolved(options: ExportOptions) -> dict[str, Any]:
    """The keyword options with their defaults, as ``_Export`` takes them."""
    unknown = set(options) - set(ExportOptions.__annotations__)
    if unknown:
        raise TypeError(f"export_segment() got unexpected options: {', '.join(sorted(unknown))}")
    deadline = options.get("deadline", DEFAULT_DEADLINE)
    progress = options.get("progress", "auto")
    state_dir = options.get("state_dir")
    return {
        "membership": options.get("membership", "tag"),
        "segment_tag": options.get("segment_tag"),
        "limits": ExportLimits(
            max_profiles=options.get("max_profiles", DEFAULT_MAX_PROFILES),
            contract_cap=options.get("contract_cap"),
            on_limit=options.get("on_limit", "fail"),
            deadline=deadline if isinstance(deadline, timedelta) else timedelta(seconds=deadline),
        ),
        "dry_run": options.get("dry_run", False),
        "resume": options.get("resume", True),
        "state_dir": Path(state_dir).expanduser() if state_dir else None,
        "progress": default_progress() if progress == "auto" else progress or ProgressCallbacks(),
        "run_by": options.get("run_by") or current_user(),
        "concurrency": options.get("concurrency", DEFAULT_CONCURRENCY),
        "detailed": options.get("detailed", False),
        "source_options": options.get("source_options") or {},
    }


class _Export:
    """One call of ``export_segment``, its options resolved."""

    def __init__(
        self,
        source: object,
        mapping: ContactMapping,
        *,
        segment: str,
        membership: Membership,
        segment_tag: str | None,
        limits: ExportLimits,
        dry_run: bool,
        resume: bool,
        state_dir: Path | None,
        progress: ExportProgress,
        cancel: threading.Event,
        run_by: str | None,
        concurrency: int,
        detailed: bool,
        source_options: Mapping[str, Any],
    ) -> None:
        if not segment or not segment.strip():
            raise ConfigurationError("name the segment: segment='VIP customers'")
        if membership not in ("tag", "none"):
            raise ConfigurationError(f'membership must be "tag" or "none", got {membership!r}')
        if concurrency < 1:
            raise ConfigurationError("concurrency must be at least 1")
        self.source = source
        self.mapping = mapping
        self.segment = segment.strip()
        self.membership = membership
        self.segment_tag = (segment_tag or self.segment) if membership == "tag" else None
        self.limits = limits
        self.dry_run = dry_run
        self.resume = resume
        self.state_dir = state_dir
        self.progress = progress
        self.cancel = cancel
        self.run_by = run_by
        self.concurrency = concurrency
        self.detailed = detailed
        self.source_options = source_options
        self.on_interrupt: Callable[[ExportReport], None] | None = None

    async def run(
        self,
        client: Client | None,
        connection: Connection | None,
        client_options: Mapping[str, Any],
        prefer_async: bool,
    ) -> ExportReport:
        target = resolve_target(
            client,
            connection,
            run_by=self.run_by,
            state_dir=self.state_dir,
            client_options=client_options,
            prefer_async=prefer_async,
        )
        gateway = gateway_for(target.client)
        try:
            if self.dry_run:
                return self._dry_run(target, gateway)
            return await self._export(target, gateway)
        finally:
            if isinstance(gateway, ThreadedClientGateway):
                gateway.close()
            await close_owned(target)

    def _dry_run(self, target: Target, gateway: ExportGateway) -> ExportReport:
        started = datetime.now(UTC)
        plan = plan_export(
            open_source(self.source, **self.source_options),
            self.mapping,
            limits=self.limits,
            membership=self.membership == "tag",
            api_version=gateway.api_version,
        )
        result = EngineResult(
            rows_read=plan.rows,
            invalid=plan.invalid,
            duplicates=plan.duplicates,
            over_limit=plan.over_limit,
            not_sent=plan.to_send,
            issues=list(plan.issues),
        )
        return self._report(target, gateway, result, started, ClientStats(), dry_run=True)

    async def _export(self, target: Target, gateway: ExportGateway) -> ExportReport:
        row_source = open_source(self.source, **self.source_options)
        total = _count_rows(row_source, self.limits)
        self.limits.check_count(total)
        seen = DiskSeenEmails()
        # Checks the columns before reading a row.
        rows = map_rows(self.mapping, row_source, seen=seen)
        state_dir = self.state_dir or default_state_dir()
        path = journal_path(state_dir, self.segment, self.source, target.client)
        journal = Journal(path if self.resume else None, export_key=path.stem)
        started = journal.started_at if journal.resumed else datetime.now(UTC)
        stats_before = gateway.stats()
        engine = Engine(
            gateway,
            journal,
            EngineOptions(
                segment_tag=self.segment_tag,
                limits=self.limits,
                concurrency=self.concurrency,
                detailed=self.detailed,
            ),
            progress=self.progress,
            cancel=self.cancel,
        )
        self.progress.started(total)
        try:
            result = await engine.run(rows)
        except BaseException:
            if self.on_interrupt is not None:
                partial = self._report(target, gateway, engine.result, started, stats_before)
                self.on_interrupt(partial)
            raise
        finally:
            journal.close()
            seen.close()
        report = self._report(target, gateway, result, started, stats_before)
        self.progress.finished(report)
        return report

    def _report(
        self,
        target: Target,
        gateway: ExportGateway,
        result: EngineResult,
        started: datetime,
        stats_before: ClientStats,
        *,
        dry_run: bool = False,
    ) -> ExportReport:
        stats = gateway.stats()
        per_minute = 60.0 / gateway.window
        return ExportReport(
            segment=self.segment,
            connection_name=target.connection_name,
            key_fingerprint=gateway.key_fingerprint,
            privacy=target.privacy,
            run_by=self.run_by,
            dry_run=dry_run,
            status=_STATUS[result.stop_reason],
            rows_read=result.rows_read,
            created=result.outcomes["created"],
            updated=result.outcomes["updated"],
            upserted=result.outcomes["upserted"],
            invalid=result.invalid,
            duplicates=result.duplicates,
            over_limit=result.over_limit,
            failed=result.outcomes["failed"],
            not_sent=result.not_sent,
            tagged=result.tagged,
            tag_failed=result.tag_failed,
            membership=self.membership,
            segment_tag=self.segment_tag,
            requests=stats.requests - stats_before.requests,
            retries=stats.retries - stats_before.retries,
            rate_limited=stats.rate_limited - stats_before.rate_limited,
            batches=result.batches,
            started_at=started,
            finished_at=datetime.now(UTC),
            max_contacts_per_minute=gateway.batch_size * gateway.requests_per_window * per_minute,
            issues=tuple(result.issues),
        )


def _count_rows(source: RowSource, limits: ExportLimits) -> int | None:
    """The number of rows, when it can be had before sending anything.

    A file that does not know its length is read once more just to count (about a second per
    million rows) when an over-limit segment must fail before anything is sent.
    """
    if source.row_count is not None:
        return source.row_count
    if limits.on_limit == "fail" and source.reiterable:
        return sum(1 for _ in source)
    return None


async def close_owned(target: Target) -> None:
    """Close the client, if the export made it (from a connection)."""
    if not target.owned:
        return
    if isinstance(target.client, AsyncOmnisendClient):
        await target.client.aclose()
    else:
        target.client.close()
