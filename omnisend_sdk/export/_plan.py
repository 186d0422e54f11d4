"""``plan_export``: read and map a whole segment, send nothing, and say what an export would do."""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from typing import Any

import attrs

from omnisend_sdk._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TAG_REQUESTS_PER_MINUTE,
    MAX_BATCH_ITEMS,
    MAX_TAG_SELECTORS,
    ApiVersion,
)
from omnisend_sdk.export._admission import Admission
from omnisend_sdk.export._batcher import Batcher, PendingItem
from omnisend_sdk.export._engine import POLLS_PER_WINDOW, EngineResult
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.mapping import ContactMapping, RowIssue, map_rows
from omnisend_sdk.sources import open_source


@attrs.frozen(kw_only=True)
class ExportPlan:
    """What an export of a segment would do, found without sending anything.

    Attributes:
        rows: Rows in the source.
        to_send: Valid, unique rows within the limits.
        invalid: Rows the mapper rejects.
        duplicates: Rows repeating an earlier email.
        over_limit: Valid rows beyond the profile cap.
        batches: ``POST /batches`` requests needed (100 contacts, about 1 MB at most, each).
        tag_requests: ``/contacts/tags`` calls to mark segment membership (0 without).
        polls: Requests spent following batches (estimated).
        estimated_duration: The time Omnisend's rate limits impose: contacts and tags run side
            by side, so the slower of the two.
        issues: Every row issue found.
    """

    rows: int
    to_send: int
    invalid: int
    duplicates: int
    over_limit: int
    batches: int
    tag_requests: int
    polls: int
    estimated_duration: timedelta
    issues: tuple[RowIssue, ...]

    @property
    def requests(self) -> int:
        """Every request the export would send, polls included."""
        return self.batches + self.tag_requests + self.polls

    def __str__(self) -> str:
        minutes = self.estimated_duration.total_seconds() / 60
        return "\n".join(
            [
                f"rows             {self.rows:>12,}",
                f"to send          {self.to_send:>12,}",
                f"invalid          {self.invalid:>12,}",
                f"duplicates       {self.duplicates:>12,}",
                f"over the limit   {self.over_limit:>12,}",
                f"batch requests   {self.batches:>12,}",
                f"tag requests     {self.tag_requests:>12,}",
                f"polls (est.)     {self.polls:>12,}",
                f"duration (est.)  {minutes:>12,.1f} min",
            ]
        )


def read_without_sending(
    source: object, mapping: ContactMapping, settings: ExportSettings, api_version: ApiVersion
) -> tuple[EngineResult, int]:
    """Decide every row as the export would and pack the batches, sending nothing.

    Returns:
        The counts as the engine keeps them (rows that would be sent are ``not_sent``, and
        ``stop_reason`` is ``"limit"`` when ``on_limit="fail"`` would stop the export), and the
        number of batches the rows to send make.
    """
    tally = EngineResult()
    admission = Admission(settings.limits)
    batcher = Batcher(MAX_BATCH_ITEMS[api_version])
    batches = 0
    for mapped in map_rows(mapping, open_source(source, **settings.source_options)):
        tally.rows_read += 1
        decision = admission.decide(mapped)
        tally.record(decision)
        if decision.outcome == "send":
            tally.not_sent += 1
            body = mapped.to_json(api_version)
            assert body is not None
            batches += len(batcher.add(PendingItem.of(mapped.row, mapped.email or "", body)))
    batches += 1 if batcher.flush() else 0
    if admission.limit_reached:
        tally.stop_reason = "limit"
    return tally, batches


def plan_export(
    source: object,
    mapping: ContactMapping,
    *,
    settings: ExportSettings | None = None,
    api_version: ApiVersion = DEFAULT_API_VERSION,
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    tag_requests_per_minute: int = DEFAULT_TAG_REQUESTS_PER_MINUTE,
    **options: Any,
) -> ExportPlan:
    """Read and map the whole segment, send nothing, and count what an export would do.

    Takes the same options as :func:`~omnisend_sdk.export_segment` (``max_profiles``,
    ``on_limit``, ``membership``, ``source_options``...) and decides each row exactly as the
    export will.

    Args:
        source: A path (CSV, JSON Lines), an iterable of mappings, a DataFrame or Arrow table.
        mapping: Where each contact field comes from.
        settings: The export's settings, as a whole; keyword options override them.
        api_version: Sets the batch size.
        requests_per_minute: The brand's general limit, for the estimate.
        tag_requests_per_minute: The ``/contacts/tags`` limit, for the estimate.
        **options: See :class:`~omnisend_sdk.export.ExportSettings`.

    Raises:
        MappingError: A column the mapping needs is missing (before any row is read).
    """
    if isinstance(options.get("membership"), bool):
        warnings.warn(
            'plan_export(membership=True/False) is deprecated: pass membership="tag" or "none", '
            "as export_segment takes it",
            DeprecationWarning,
            stacklevel=2,
        )
        options["membership"] = "tag" if options["membership"] else "none"
    settings = ExportSettings.from_options(settings, **options)
    tally, batches = read_without_sending(source, mapping, settings, api_version)
    to_send = tally.not_sent
    membership = settings.membership == "tag"
    tag_requests = math.ceil(to_send / MAX_TAG_SELECTORS) if membership else 0
    minutes = max(batches / requests_per_minute, tag_requests / tag_requests_per_minute)
    polls = math.ceil(minutes * POLLS_PER_WINDOW)  # a window is a minute at Omnisend's pace
    minutes = max(minutes, (batches + polls) / requests_per_minute)
    return ExportPlan(
        rows=tally.rows_read,
        to_send=to_send,
        batches=batches,
        tag_requests=tag_requests,
        polls=polls,
        estimated_duration=timedelta(minutes=minutes),
        issues=tuple(tally.issues),
        **tally.skipped_counts(),
    )
