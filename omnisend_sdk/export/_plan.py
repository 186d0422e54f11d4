"""``plan_export``: read and map a whole segment, send nothing, and say what an export would do."""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from typing import Any

import attrs

from omnisend_sdk._auth import StoreAccess
from omnisend_sdk._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TAG_REQUESTS_PER_MINUTE,
    MAX_TAG_SELECTORS,
    ApiVersion,
)
from omnisend_sdk.export._engine import POLLS_PER_WINDOW
from omnisend_sdk.export._journal import journal_path, read_members
from omnisend_sdk.export._refresh import diff_source
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.mapping import ContactMapping, RowIssue
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
        new: Valid rows that are not members yet (all of them before a first export).
        changed: Valid rows of members whose contact changed since Omnisend confirmed it.
        unchanged: Valid rows of members Omnisend already has as they are: not sent.
        leaving: Members the source no longer holds (a refresh removes their segment tag unless
            ``on_exit="keep"``).
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
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    leaving: int = 0
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
                f"new              {self.new:>12,}",
                f"changed          {self.changed:>12,}",
                f"unchanged        {self.unchanged:>12,}",
                f"leaving          {self.leaving:>12,}",
                f"batch requests   {self.batches:>12,}",
                f"tag requests     {self.tag_requests:>12,}",
                f"polls (est.)     {self.polls:>12,}",
                f"duration (est.)  {minutes:>12,.1f} min",
            ]
        )


def plan_export(
    source: object,
    mapping: ContactMapping,
    *,
    settings: ExportSettings | None = None,
    segment: str | None = None,
    client: StoreAccess | None = None,
    api_version: ApiVersion | None = None,
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
        segment: With ``client``: the segment whose state to diff against, so the plan shows
            what a refresh would send (new, changed, unchanged, leaving). Without them (and
            without ``state_file``) every valid row counts as new.
        client: The client or :class:`~omnisend_sdk.Connection` the export goes through (only
            its store is read: nothing is sent).
        api_version: Sets the batch size: by default the client's version, else
            ``"2026-03-15"``.
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
    tag = settings.tag_for(segment or "")
    state = settings.state_file
    if state is None and segment is not None and client is not None:
        state = journal_path(settings.state_directory(), segment, client)
    members = read_members(state, tag)
    if api_version is None:
        api_version = client.api_version if client is not None else DEFAULT_API_VERSION
    read = diff_source(
        open_source(source, **settings.source_options),
        mapping,
        settings,
        members,
        segment_tag=tag,
        api_version=api_version,
    )
    tally = read.tally
    untag = len(read.left) if settings.on_exit == "untag" else 0
    tag_requests = tag_requests_for(tally.not_sent, untag) if tag is not None else 0
    duration, polls = estimate_duration(
        read.batches,
        tag_requests,
        requests_per_minute=requests_per_minute,
        tag_requests_per_minute=tag_requests_per_minute,
    )
    return ExportPlan(
        rows=tally.rows_read,
        to_send=tally.not_sent,
        batches=read.batches,
        tag_requests=tag_requests,
        polls=polls,
        estimated_duration=duration,
        issues=tuple(tally.issues),
        leaving=len(read.left),
        **tally.changes,
        **tally.skipped_counts(),
    )


def tag_requests_for(to_tag: int, to_untag: int) -> int:
    """The ``/contacts/tags`` calls that tag ``to_tag`` contacts and untag ``to_untag``."""
    return math.ceil(to_tag / MAX_TAG_SELECTORS) + math.ceil(to_untag / MAX_TAG_SELECTORS)


def estimate_duration(
    batches: int,
    tag_requests: int,
    *,
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    tag_requests_per_minute: int = DEFAULT_TAG_REQUESTS_PER_MINUTE,
) -> tuple[timedelta, int]:
    """How long Omnisend's rate limits make an export of ``batches`` and ``tag_requests`` take,
    and the polls that follow its batches meanwhile.

    The one estimate: ``plan`` shows it before an export, and ``export --emulator`` after one,
    from what it actually sent.
    """
    minutes = max(batches / requests_per_minute, tag_requests / tag_requests_per_minute)
    polls = math.ceil(minutes * POLLS_PER_WINDOW)  # a window is a minute at Omnisend's pace
    minutes = max(minutes, (batches + polls) / requests_per_minute)
    return timedelta(minutes=minutes), polls
