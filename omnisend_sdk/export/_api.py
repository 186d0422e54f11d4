"""``export_segment()``: the one call that sends a segment to Omnisend and reports every row."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omnisend_sdk._client import ClientStats
from omnisend_sdk._connection import Connection
from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError, OmnisendError
from omnisend_sdk.export._destination import Client, Destination, open_destination
from omnisend_sdk.export._engine import Engine, EngineOptions, EngineResult
from omnisend_sdk.export._gateway import ExportGateway
from omnisend_sdk.export._journal import (
    Journal,
    export_key,
    journal_path,
    read_members,
    source_identity,
)
from omnisend_sdk.export._lock import RunLock
from omnisend_sdk.export._omnisend_segment import OmnisendSegmentStatus, keep_omnisend_segment
from omnisend_sdk.export._refresh import (
    RunInput,
    check_count_first,
    check_shrink,
    diff_source,
    prepare_run,
)
from omnisend_sdk.export._report import ExportReport
from omnisend_sdk.export._seen import DiskSeenEmails
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.export._storage import ExportStateError, private_directory
from omnisend_sdk.export._sync import holding_ctrl_c, run_sync
from omnisend_sdk.export._untagger import untag_leavers
from omnisend_sdk.mapping import ContactMapping, RowSource, SeenEmails
from omnisend_sdk.sources import open_source

logger = logging.getLogger(LOGGER_NAME)


class ExportInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an export; ``report`` says what was done. Rerun the export to resume it.

    A ``KeyboardInterrupt``, so code that catches ``Exception`` does not swallow the user's stop.
    """

    def __init__(self, report: ExportReport) -> None:
        super().__init__(
            f"export interrupted: {report.exported:,} of {report.rows_read:,} rows done"
        )
        self.report = report


async def export_segment_async(
    source: object,
    mapping: ContactMapping,
    *,
    segment: str,
    client: Client | None = None,
    connection: Connection | None = None,
    cancel: threading.Event | None = None,
    settings: ExportSettings | None = None,
    **options: Any,
) -> ExportReport:
    """Export a segment to Omnisend; the asyncio form of :func:`export_segment`.

    Pass an :class:`AsyncOmnisendClient` (or a sync client, driven from threads) or a
    :class:`Connection`. Cancelling the task stops the export; the journal keeps what was done.
    """
    export = _Export(
        source,
        mapping,
        segment=segment,
        settings=ExportSettings.from_options(settings, **options),
        cancel=cancel or threading.Event(),
    )
    return await export.run(client, connection, prefer_async=True)


def export_segment(
    source: object,
    mapping: ContactMapping,
    *,
    segment: str,
    client: Client | None = None,
    connection: Connection | None = None,
    cancel: threading.Event | None = None,
    settings: ExportSettings | None = None,
    **options: Any,
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
        settings: The options as one :class:`ExportSettings` value; keyword options override it.
        **options: Any option of :class:`ExportSettings` (``membership``, ``max_profiles``,
            ``contract_cap``, ``on_limit``, ``deadline``, ``dry_run``, ``progress``...).

    Returns:
        The report: every row counted once, every issue with its source row.

    Raises:
        TypeError: An unknown option.
        ConfigurationError: An option value that cannot work.
        PrivacyAcknowledgementError: Nobody acknowledged that data leaves for Omnisend.
        ExportLimitError: A counted segment is over the cap and ``on_limit="fail"``.
        MappingError: A column the mapping needs is missing (nothing is sent).
        ExportInterrupted: Ctrl-C outside a notebook; ``.report`` holds the partial report.
    """
    stop = cancel or threading.Event()
    interrupted: list[ExportReport] = []
    export = _Export(
        source,
        mapping,
        segment=segment,
        settings=ExportSettings.from_options(settings, **options),
        cancel=stop,
    )
    export.on_interrupt = interrupted.append
    try:
        return run_sync(lambda: export.run(client, connection, prefer_async=False), stop)
    except KeyboardInterrupt as interrupt:
        if interrupted:
            raise ExportInterrupted(interrupted[-1]) from interrupt
        raise


class _Export:
    """One call of ``export_segment``, its settings checked."""

    def __init__(
        self,
        source: object,
        mapping: ContactMapping,
        *,
        segment: str,
        settings: ExportSettings,
        cancel: threading.Event,
    ) -> None:
        if not segment or not segment.strip():
            raise ConfigurationError("name the segment: segment='VIP customers'")
        self.source = source
        self.mapping = mapping
        self.segment = segment.strip()
        self.settings = settings
        self.segment_tag = settings.tag_for(self.segment)
        self.run_by = settings.user()
        self.cancel = cancel
        self.on_interrupt: Callable[[ExportReport], None] | None = None

    async def run(
        self, client: Client | None, connection: Connection | None, *, prefer_async: bool
    ) -> ExportReport:
        async with open_destination(
            client=client,
            connection=connection,
            run_by=self.run_by,
            state_dir=self.settings.state_dir,
            client_options=self.settings.client_options,
            prefer_async=prefer_async,
        ) as destination:
            if self.settings.dry_run:
                return self._dry_run(destination)
            return await self._export(destination)

    def _dry_run(self, destination: Destination) -> ExportReport:
        started = datetime.now(UTC)
        stats_before = destination.gateway.stats()
        row_source = open_source(self.source, **self.settings.source_options)
        members = read_members(self._state_file(destination), self.segment_tag)
        # The same checks as a real run, so a dry run refuses what the export would refuse.
        if not len(members):
            check_count_first(row_source, self.settings.limits)
        read = diff_source(
            row_source,
            self.mapping,
            self.settings,
            members,
            segment_tag=self.segment_tag,
            api_version=destination.gateway.facts.api_version,
        )
        if len(members):
            self.settings.limits.check_count(read.tally.rows_read)
        check_shrink(self.settings, members, read)
        return self._report(read.tally, destination, started, stats_before, dry_run=True)

    def _state_file(self, destination: Destination) -> Path:
        return self.settings.state_file or journal_path(
            self.settings.state_directory(), self.segment, destination.client
        )

    async def _export(self, destination: Destination) -> ExportReport:
        settings = self.settings
        row_source = open_source(self.source, **settings.source_options)
        path = self._state_file(destination)
        holder = f"process {os.getpid()} on {socket.gethostname()}, run by {self.run_by}"
        if settings.resume and settings.state_file is None:
            # Every level from the state directory down is the SDK's: owner-only.
            private_directory(path.parent, top=settings.state_directory())
        with RunLock(path, holder=holder) if settings.resume else contextlib.nullcontext():
            journal = Journal(
                path if settings.resume else None,
                export_key=export_key(self.segment, destination.client),
                source=source_identity(self.source),
                segment_tag=self.segment_tag,
                store=destination.client,
            )
            seen = DiskSeenEmails(row_source.row_count or settings.limits.cap)
            try:
                return await self._send(destination, journal, row_source, seen)
            finally:
                journal.close()
                seen.close()

    async def _send(
        self, destination: Destination, journal: Journal, row_source: RowSource, seen: SeenEmails
    ) -> ExportReport:
        settings = self.settings
        gateway = destination.gateway
        started = journal.started_at if journal.resumed else datetime.now(UTC)
        stats_before = gateway.stats()
        progress = settings.progress_listener()
        engine = Engine(
            gateway,
            journal,
            EngineOptions(
                segment_tag=self.segment_tag,
                limits=settings.limits,
                concurrency=settings.concurrency,
                detailed=settings.detailed,
            ),
            progress=progress,
            cancel=self.cancel,
        )
        work: RunInput | None = None
        try:
            # Checks the columns before reading a row; a refresh reads the whole source here.
            work = prepare_run(
                journal,
                row_source,
                self.mapping,
                settings,
                segment_tag=self.segment_tag,
                api_version=gateway.facts.api_version,
                seen=seen,
            )
            progress.started(work.to_send)
            result = await engine.run(work.rows, counted=work.counted)
            work.account(result)
            work = None  # accounted for
            segment = await self._after_sending(engine, journal, gateway, result)
        except BaseException as error:
            self._report_stop(
                error,
                engine,
                work,
                destination=destination,
                started=started,
                stats_before=stats_before,
            )
            raise
        report = self._report(result, destination, started, stats_before, segment)
        progress.finished(report)
        return report

    async def _after_sending(
        self, engine: Engine, journal: Journal, gateway: ExportGateway, result: EngineResult
    ) -> OmnisendSegmentStatus | None:
        """Release the members who left, and keep the Omnisend segment; a run that stopped
        early does neither (the next run does)."""
        if self.segment_tag is None or result.stop_reason not in (None, "limit"):
            return None
        removed = await untag_leavers(
            gateway,
            journal,
            self.segment_tag,
            # The deadline ends the removal too; out_of_time() records it for the report.
            stopping=lambda: engine.out_of_time("tags") or engine.stopping(),
        )
        result.untagged, result.untag_failed = removed.untagged, removed.failed
        if not self.settings.omnisend_segment or result.stop_reason not in (None, "limit"):
            return None
        return await keep_omnisend_segment(
            gateway, journal, name=self.segment, tag=self.segment_tag
        )

    def _report_stop(
        self,
        error: BaseException,
        engine: Engine,
        work: RunInput | None,
        *,
        destination: Destination,
        started: datetime,
        stats_before: ClientStats,
    ) -> None:
        """Give the report of a run that raised to whoever reports it: the caller of an
        interrupted export, or the error that stopped it (a full disk)."""
        interrupted = not isinstance(error, Exception)  # Ctrl-C, or the task was cancelled
        if not (interrupted and self.on_interrupt) and not isinstance(error, ExportStateError):
            return
        with holding_ctrl_c():  # a second Ctrl-C must not lose the report of the first
            result = engine.partial_result(error)
            if work is not None:
                work.account(result)  # a refresh's rows the run never reached are not sent
            try:
                report = self._report(result, destination, started, stats_before)
            except OmnisendError:  # a report that cannot be made must not hide the stop's cause
                logger.exception("the report of the stopped export could not be made")
                return
            if isinstance(error, ExportStateError):
                error.report = report
            elif self.on_interrupt is not None:
                self.on_interrupt(report)

    def _report(
        self,
        result: EngineResult,
        destination: Destination,
        started: datetime,
        stats_before: ClientStats,
        omnisend_segment: OmnisendSegmentStatus | None = None,
        *,
        dry_run: bool = False,
    ) -> ExportReport:
        return ExportReport.from_result(
            result,
            segment=self.segment,
            membership=self.settings.membership,
            segment_tag=self.segment_tag,
            run_by=self.run_by,
            destination=destination,
            started_at=started,
            stats_before=stats_before,
            dry_run=dry_run,
            omnisend_segment=omnisend_segment,
        )
