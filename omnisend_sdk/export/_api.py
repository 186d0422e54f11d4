"""``export_segment()``: the one call that sends a segment to Omnisend and reports every row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from omnisend_sdk._client import ClientStats
from omnisend_sdk._connection import Connection
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk.export._destination import Client, Destination, open_destination
from omnisend_sdk.export._engine import Engine, EngineOptions, EngineResult
from omnisend_sdk.export._journal import Journal, journal_path
from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.export._plan import read_without_sending
from omnisend_sdk.export._report import ExportReport
from omnisend_sdk.export._seen import DiskSeenEmails
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.export._sync import run_sync
from omnisend_sdk.mapping import ContactMapping, RowSource, map_rows
from omnisend_sdk.sources import open_source


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
        row_source = open_source(self.source, **self.settings.source_options)
        # The same count check as a real run, so a dry run refuses what the export would refuse.
        self.settings.limits.check_count(_count_rows(row_source, self.settings.limits))
        result, _ = read_without_sending(
            row_source, self.mapping, self.settings, destination.gateway.api_version
        )
        return self._report(result, destination, started, ClientStats(), dry_run=True)

    async def _export(self, destination: Destination) -> ExportReport:
        settings = self.settings
        gateway = destination.gateway
        row_source = open_source(self.source, **settings.source_options)
        total = _count_rows(row_source, settings.limits)
        settings.limits.check_count(total)
        seen = DiskSeenEmails()
        # Checks the columns before reading a row.
        rows = map_rows(self.mapping, row_source, seen=seen)
        path = journal_path(
            settings.state_directory(), self.segment, self.source, destination.client
        )
        journal = Journal(path if settings.resume else None, export_key=path.stem)
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
        progress.started(total)
        try:
            result = await engine.run(rows)
        except BaseException:
            if self.on_interrupt is not None:
                self.on_interrupt(self._report(engine.result, destination, started, stats_before))
            raise
        finally:
            journal.close()
            seen.close()
        report = self._report(result, destination, started, stats_before)
        progress.finished(report)
        return report

    def _report(
        self,
        result: EngineResult,
        destination: Destination,
        started: datetime,
        stats_before: ClientStats,
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
