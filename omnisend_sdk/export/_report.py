"""What an export did: :class:`ExportReport`.

Every row read is accounted for exactly once::

    rows_read = exported (created + updated + upserted)
              + skipped  (invalid + duplicates + over_limit)
              + failed + not_sent

The report checks this when it is made: an engine bug raises :class:`ReportInconsistentError`
instead of handing the user a report that lies.
"""

from __future__ import annotations

import csv
import html
import json
import re
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

import attrs

from omnisend_sdk._errors import OmnisendError
from omnisend_sdk._privacy import PrivacyAcknowledgement
from omnisend_sdk.export._settings import Membership
from omnisend_sdk.export._spreadsheet import spreadsheet_cell
from omnisend_sdk.export._verdict import InvalidBudget, MaxInvalid, failures
from omnisend_sdk.mapping import RowIssue, mask_email

if TYPE_CHECKING:
    from omnisend_sdk._client import ClientStats
    from omnisend_sdk.export._destination import Destination
    from omnisend_sdk.export._engine import EngineResult, StopReason
    from omnisend_sdk.export._omnisend_segment import OmnisendSegmentStatus

ExportStatus: TypeAlias = Literal["completed", "empty", "partial", "cancelled", "limit_exceeded"]

#: Issues shown by ``str()`` and the HTML view; the CSV and ``to_dict()`` carry them all.
ISSUES_SHOWN: Final = 10
#: Columns of the issues CSV, in order.
ISSUE_COLUMNS: Final = ("row", "field", "severity", "code", "message", "value", "related_row")
#: Why an export stopped early, for messages.
_STATUS_REASONS: Final[dict[str, str]] = {
    "completed": "completed",
    "empty": "the source gave no rows: nothing to export (pass allow_empty=True if it may be)",
    "partial": "stopped early (the deadline, an error, or batches Omnisend had not finished); "
    "run it again to resume",
    "cancelled": "cancelled",
    "limit_exceeded": "stopped: the segment is over the profile limit",
}
#: The report's status for why the engine stopped (``None``: it did not stop early).
_STATUS_FOR_STOP: Final[dict[StopReason | None, ExportStatus]] = {
    None: "completed",
    "deadline": "partial",
    "error": "partial",
    "unsettled": "partial",
    "cancelled": "cancelled",
    "limit": "limit_exceeded",
}
# An address-like token. Issues hold masked values already; this is the safety net for messages
# built from Omnisend's answers, which may quote an address in full.
_EMAIL: Final = re.compile(r"[^\s@<>()\[\]\"',;:]+@[^\s@<>()\[\]\"',;:]+")


class ReportInconsistentError(OmnisendError):
    """Internal: the counts given to a report do not add up (a bug in the export engine)."""


class ExportFailedError(OmnisendError):
    """An export left rows behind; ``report`` says which and why.

    Attributes:
        report: The full :class:`ExportReport`.
    """

    def __init__(self, message: str, report: ExportReport) -> None:
        super().__init__(message)
        self.report = report


def _scrub(text: str | None) -> str | None:
    """``text`` with every unmasked address masked."""
    if not text or "@" not in text:
        return text
    return _EMAIL.sub(lambda m: m.group() if "***" in m.group() else mask_email(m.group()), text)


def _safe_issue(issue: RowIssue) -> RowIssue:
    message, value = _scrub(issue.message) or "", _scrub(issue.value)
    if message == issue.message and value == issue.value:
        return issue
    return attrs.evolve(issue, message=message, value=value)


def _sorted_issues(issues: Iterable[RowIssue]) -> tuple[RowIssue, ...]:
    # sorted() is stable: issues of one row keep the order they were found in.
    return tuple(sorted((_safe_issue(i) for i in issues), key=lambda issue: issue.row))


def _count() -> Any:
    """A count field: a non-negative int, 0 unless given."""
    return attrs.field(
        default=0, validator=[attrs.validators.instance_of(int), attrs.validators.ge(0)]
    )


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ReportInconsistentError(f"{attribute.name} must be a timezone-aware datetime")


@attrs.frozen(kw_only=True)
class ExportReport:
    """What happened to every row of one export.

    Attributes:
        segment: The segment's name.
        connection_name: The connection exported through, or ``None`` for a bare client.
        key_fingerprint: Which API key was used (its fingerprint, never the key).
        privacy: The privacy acknowledgement the export ran under; ``None`` for a loopback
            emulator.
        run_by: Who ran it, if known.
        dry_run: Nothing was sent: the counts say what would have happened.
        status: ``"completed"``; ``"empty"`` (the source gave no rows: a broken query looks
            like this, so it is not a success); ``"partial"`` (stopped by the deadline or an
            error, or rows left in batches Omnisend had not finished: resumable);
            ``"cancelled"``; ``"limit_exceeded"`` (over ``max_profiles`` with
            ``on_limit="fail"``).
        stop_reason: Why the run stopped early: ``"deadline"``, ``"cancelled"``, ``"error"``
            (Omnisend's error after the client's retries, or the local state: see
            ``error_type``), ``"unsettled"`` (batches Omnisend had not finished) or
            ``"limit"``; ``None`` when it did not.
        stop_detail: The cause in words: the error's message, the deadline passed...
        error_type: The class of the error that stopped the run (``"AuthenticationError"``,
            ``"APIConnectionError"``, ``"ExportStateError"``...), for a pipeline to act on.
        rows_read: Rows read from the source.
        created: Contacts Omnisend created.
        updated: Existing contacts Omnisend updated.
        upserted: Contacts Omnisend accepted without saying whether it created or updated them
            (the engine does not fetch the items of batches without errors, to save rate budget).
        invalid: Rows the mapper rejected (see ``issues``).
        duplicates: Rows whose email appeared earlier in the segment.
        over_limit: Rows beyond ``max_profiles`` or the contract cap.
        failed: Rows Omnisend rejected, or given up on after retries.
        not_sent: Valid rows never attempted (deadline, cancellation, limit, dry run).
        tagged: Contacts given the segment tag.
        tag_failed: Contacts whose segment tag could not be added.
        refresh: The run was a refresh: its rows were compared with the members an earlier run
            confirmed, and only new and changed ones were sent.
        new: Valid rows whose email was not a member (every valid row of a first export).
        changed: Valid rows of members whose contact body (or tag) differs from what Omnisend
            confirmed last; with ``full=True``, every member.
        unchanged: Valid rows of members whose body Omnisend already has: not sent.
        exited: Members of the last runs that this refresh's source no longer holds.
        untagged: Members whose segment tag this run removed (``on_exit="untag"``), including
            leavers of earlier runs whose removal had failed.
        untag_failed: Members whose tag removal failed; the next run tries again.
        omnisend_segment_id: The Omnisend segment kept for the export (``omnisend_segment``).
        segment_count: That segment's ``contactsCount`` as Omnisend reported it after the run;
            ``None`` while the segment is building or when not asked.
        expected_members: The members the state holds after the run, to compare with
            ``segment_count`` (Omnisend counts tag changes with a delay).
        omnisend_segment_problem: Why the Omnisend segment could not be kept or counted (the
            export itself is not affected; the next run tries again).
        membership: ``"tag"`` (the segment tag was added) or ``"none"``.
        segment_tag: The tag that marks segment membership, when ``membership="tag"``.
        requests: Requests sent to Omnisend, retries included.
        retries: Requests sent again after a retryable failure.
        rate_limited: 429 answers met.
        batches: Batches posted.
        started_at: When the export started (timezone-aware).
        finished_at: When it finished (timezone-aware).
        max_contacts_per_minute: The most Omnisend's rate limits allow in a minute, for
            comparison.
        time_scale: Omnisend seconds per real second: 1 against Omnisend, 60 against the
            command line's built-in emulator. Rates count in Omnisend minutes, so a run at
            the emulator's pace compares with the limits as a real one does.
        issues: Every row issue, sorted by row.
    """

    segment: str
    connection_name: str | None
    key_fingerprint: str
    privacy: PrivacyAcknowledgement | None
    run_by: str | None
    dry_run: bool
    status: ExportStatus = attrs.field(validator=attrs.validators.in_(_STATUS_REASONS))
    stop_reason: StopReason | None = None
    stop_detail: str | None = attrs.field(default=None, converter=_scrub)
    error_type: str | None = None
    rows_read: int = _count()
    created: int = _count()
    updated: int = _count()
    upserted: int = _count()
    invalid: int = _count()
    duplicates: int = _count()
    over_limit: int = _count()
    failed: int = _count()
    not_sent: int = _count()
    tagged: int = _count()
    tag_failed: int = _count()
    refresh: bool = False
    new: int = _count()
    changed: int = _count()
    unchanged: int = _count()
    exited: int = _count()
    untagged: int = _count()
    untag_failed: int = _count()
    omnisend_segment_id: str | None = None
    segment_count: int | None = None
    expected_members: int | None = None
    omnisend_segment_problem: str | None = None
    membership: Membership = attrs.field(validator=attrs.validators.in_(get_args(Membership)))
    segment_tag: str | None
    requests: int = _count()
    retries: int = _count()
    rate_limited: int = _count()
    batches: int = _count()
    started_at: datetime = attrs.field(validator=_aware)
    finished_at: datetime = attrs.field(validator=_aware)
    max_contacts_per_minute: float
    time_scale: float = 1.0
    # The repr gives the number of issues: an export may have a million, and a REPL prints reprs.
    issues: tuple[RowIssue, ...] = attrs.field(
        default=(), converter=_sorted_issues, repr=lambda issues: f"<{len(issues)} issues>"
    )

    @classmethod
    def from_result(
        cls,
        result: EngineResult,
        *,
        segment: str,
        membership: Membership,
        segment_tag: str | None,
        run_by: str | None,
        destination: Destination,
        started_at: datetime,
        stats_before: ClientStats,
        dry_run: bool = False,
        omnisend_segment: OmnisendSegmentStatus | None = None,
    ) -> ExportReport:
        """The report of one export (or dry run) from what the engine counted.

        Args:
            result: The engine's counts and issues.
            segment: The segment's name.
            membership: How membership was marked.
            segment_tag: The tag added, with ``membership="tag"``.
            run_by: Who ran it.
            destination: The store it went to (connection, acknowledgement, client stats).
            started_at: When the export started (a resumed one: when its first run started).
            stats_before: The client's counters when this run started, so the report counts
                this run's requests only.
            dry_run: Nothing was sent.
            omnisend_segment: The Omnisend segment's id and count, when one is kept.
        """
        gateway = destination.gateway
        stats = gateway.stats()
        facts = gateway.facts
        time_scale = 60.0 / facts.window  # the limiter's window is an Omnisend minute
        return cls(
            segment=segment,
            connection_name=destination.connection_name,
            key_fingerprint=facts.key_fingerprint,
            privacy=destination.privacy,
            run_by=run_by,
            dry_run=dry_run,
            status=_status(result),
            stop_reason=result.stop_reason,
            stop_detail=result.error,
            error_type=result.error_type,
            rows_read=result.rows_read,
            not_sent=result.not_sent,
            tagged=result.tagged,
            tag_failed=result.tag_failed,
            refresh=result.refresh,
            exited=result.exited,
            untagged=result.untagged,
            untag_failed=result.untag_failed,
            omnisend_segment_id=omnisend_segment.segment_id if omnisend_segment else None,
            segment_count=omnisend_segment.contacts_count if omnisend_segment else None,
            expected_members=omnisend_segment.expected if omnisend_segment else None,
            omnisend_segment_problem=omnisend_segment.problem if omnisend_segment else None,
            membership=membership,
            segment_tag=segment_tag,
            requests=stats.requests - stats_before.requests,
            retries=stats.retries - stats_before.retries,
            rate_limited=stats.rate_limited - stats_before.rate_limited,
            batches=result.batches,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            max_contacts_per_minute=facts.batch_size * facts.requests_per_window,
            time_scale=time_scale,
            issues=tuple(result.issues),
            **result.outcomes,  # created, updated, upserted, failed
            **result.changes,  # new, changed, unchanged
            **result.skipped_counts(),
        )

    def __attrs_post_init__(self) -> None:
        accounted = self.exported + self.skipped + self.failed + self.not_sent + self.unchanged
        problems = []
        if accounted != self.rows_read:
            problems.append(
                f"rows_read {self.rows_read} != exported {self.exported} + skipped "
                f"{self.skipped} + failed {self.failed} + not_sent {self.not_sent} + unchanged "
                f"{self.unchanged} (= {accounted})"
            )
        if self.refresh and self.new + self.changed + self.unchanged != self.valid:
            problems.append(
                f"new {self.new} + changed {self.changed} + unchanged {self.unchanged} != "
                f"valid rows {self.valid}"
            )
        if self.tagged + self.tag_failed > self.exported:
            problems.append(
                f"tagged {self.tagged} + tag_failed {self.tag_failed} > exported {self.exported}"
            )
        if self.membership == "none" and (self.tagged or self.tag_failed):
            problems.append("contacts were tagged although membership is 'none'")
        if self.finished_at < self.started_at:
            problems.append("finished_at is before started_at")
        if problems:
            raise ReportInconsistentError("export report does not add up: " + "; ".join(problems))

    @property
    def exported(self) -> int:
        """Contacts Omnisend accepted: created + updated + upserted."""
        return self.created + self.updated + self.upserted

    @property
    def skipped(self) -> int:
        """Rows not sent on purpose: invalid + duplicates + over_limit (not ``unchanged``)."""
        return self.invalid + self.duplicates + self.over_limit

    @property
    def valid(self) -> int:
        """Rows that passed mapping, duplicate and limit checks (in a dry run: would be sent)."""
        return self.rows_read - self.skipped

    @property
    def duration(self) -> timedelta:
        """How long the export took."""
        return self.finished_at - self.started_at

    @property
    def contacts_per_minute(self) -> float:
        """Exported contacts per (Omnisend) minute of the run; 0 when no time passed."""
        minutes = self.duration.total_seconds() * self.time_scale / 60
        return self.exported / minutes if minutes > 0 else 0.0

    @property
    def status_reason(self) -> str:
        """The status in words: why the export stopped, when it did not complete."""
        if self.stop_detail is None or self.status not in ("partial", "cancelled"):
            return _STATUS_REASONS[self.status]
        # The real cause (a refused key, an unreachable host, the deadline...), not a list of
        # what it might have been.
        stopped = "" if self.status == "cancelled" else "stopped early: "
        return f"{stopped}{self.stop_detail}; run it again to resume"

    def failures(
        self, *, max_invalid: MaxInvalid | InvalidBudget = None, allow_empty: bool = False
    ) -> list[str]:
        """What makes this export a failure, one phrase each; empty when it succeeded.

        Rows Omnisend rejected or never got, tags not added or removed, a run that stopped
        early, and an empty source fail it. Invalid and duplicate rows are only reported, unless
        there are more than ``max_invalid``.

        Args:
            max_invalid: The most invalid and duplicate rows a success may have: a count
                (``100``) or a share of the rows read (``"2%"``). ``None``: any number.
            allow_empty: Tolerate a source that gave no rows (status ``"empty"``).
        """
        return failures(self, max_invalid=max_invalid, allow_empty=allow_empty)

    def raise_for_failures(
        self,
        *,
        max_invalid: MaxInvalid | InvalidBudget = None,
        allow_empty: bool = False,
        allow_invalid: bool | None = None,
    ) -> ExportReport:
        """Raise if the export failed (see :meth:`failures` for the rule).

        Args:
            max_invalid: The most invalid and duplicate rows a success may have: a count
                (``100``) or a share of the rows read (``"2%"``). ``None``: any number, each
                still listed in ``issues``.
            allow_empty: Tolerate a source that gave no rows (status ``"empty"``).
            allow_invalid: Deprecated and ignored: invalid rows fail an export only past
                ``max_invalid`` now.

        Returns:
            The report itself, so calls can be chained.

        Raises:
            ExportFailedError: The export failed; the report is attached as ``error.report``.
        """
        if allow_invalid is not None:
            warnings.warn(
                "raise_for_failures(allow_invalid=...) is deprecated: invalid rows no longer "
                "fail an export unless there are more than max_invalid (pass max_invalid=0 to "
                "fail on any)",
                DeprecationWarning,
                stacklevel=2,
            )
        troubles = self.failures(max_invalid=max_invalid, allow_empty=allow_empty)
        if troubles:
            raise ExportFailedError(
                f"export of segment {self.segment!r}: {'; '.join(troubles)} "
                f"({self.exported:,} of {self.rows_read:,} rows exported)",
                self,
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data: datetimes in ISO 8601, the duration in seconds."""
        data: dict[str, Any] = {
            field.name: getattr(self, field.name)
            for field in attrs.fields(ExportReport)
            if field.name not in {"privacy", "issues", "started_at", "finished_at"}
        }
        data.update(
            privacy=self.privacy.to_dict() if self.privacy else None,
            started_at=self.started_at.isoformat(),
            finished_at=self.finished_at.isoformat(),
            exported=self.exported,
            skipped=self.skipped,
            duration_seconds=self.duration.total_seconds(),
            contacts_per_minute=self.contacts_per_minute,
            issues=[attrs.asdict(issue) for issue in self.issues],
        )
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def write_issues_csv(self, path: str | Path) -> Path:
        """Write every issue to a CSV file, one per line, with a header row.

        Values are masked; no full email address is ever written. A cell a spreadsheet would
        run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
        gets a single quote in front, so that opening the file runs nothing; plain negative
        numbers are left as they are.

        Returns:
            The path written.
        """
        path = Path(path)
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(ISSUE_COLUMNS)
            for issue in self.issues:
                writer.writerow([spreadsheet_cell(value) for value in attrs.astuple(issue)])
        return path

    def _lines(self) -> list[tuple[str, str, str]]:
        """(label, count, detail) rows shared by ``str()`` and the HTML view."""
        rows = [
            ("rows read", f"{self.rows_read:,}", ""),
            ("exported", f"{self.exported:,}", self._exported_split()),
            (
                "skipped",
                f"{self.skipped:,}",
                f"invalid {self.invalid:,}, duplicates {self.duplicates:,}, "
                f"over limit {self.over_limit:,}",
            ),
            ("failed", f"{self.failed:,}", "rejected by Omnisend or given up after retries"),
            ("not sent", f"{self.not_sent:,}", "never attempted"),
        ]
        if self.refresh:
            rows.insert(
                1,
                (
                    "changes",
                    f"{self.new + self.changed:,}",
                    f"new {self.new:,}, changed {self.changed:,}, unchanged {self.unchanged:,}"
                    " (not sent)",
                ),
            )
            rows.append(
                (
                    "left",
                    f"{self.exited:,}",
                    f"tag removed from {self.untagged:,}, {self.untag_failed:,} failed",
                )
            )
        if self.expected_members is not None:
            count = "pending" if self.segment_count is None else f"{self.segment_count:,}"
            detail = (
                f"segment {self.omnisend_segment_id}, {self.expected_members:,} expected"
                if self.omnisend_segment_problem is None
                else f"segment not kept: {self.omnisend_segment_problem}"
            )
            rows.append(("in Omnisend", count, detail))
        if self.membership == "tag":
            rows.append(
                (
                    "tagged",
                    f"{self.tagged:,}",
                    f"tag {self.segment_tag!r}, {self.tag_failed:,} failed",
                )
            )
        rows.append(
            (
                "requests",
                f"{self.requests:,}",
                f"{self.batches:,} batches, {self.retries:,} retries, "
                f"{self.rate_limited:,} rate limited (429)",
            )
        )
        return rows

    def _exported_split(self) -> str:
        # Omnisend tells created from updated only where a batch's items were fetched; name only
        # the parts that are known, so a clean export does not read "created 0, updated 0".
        parts = [
            f"{label} {count:,}"
            for label, count in (("created", self.created), ("updated", self.updated))
            if count
        ]
        if self.upserted:
            parts.append(f"created or updated {self.upserted:,}")
        return ", ".join(parts)

    def _rate(self) -> str:
        share = (
            f" ({self.contacts_per_minute / self.max_contacts_per_minute:.0%})"
            if self.max_contacts_per_minute > 0
            else ""
        )
        scaled = (
            f", in emulator minutes ({self.time_scale:g}x real time)"
            if self.time_scale != 1
            else ""
        )
        return (
            f"{self.contacts_per_minute:,.0f} contacts/min of "
            f"{self.max_contacts_per_minute:,.0f} allowed{share}{scaled}"
        )

    def _privacy_text(self) -> str:
        return str(self.privacy) if self.privacy else "not needed (loopback emulator)"

    def _title(self) -> str:
        mode = "Dry run" if self.dry_run else "Export"
        return f"{mode} of segment {self.segment!r} to Omnisend: {self.status}"

    def __str__(self) -> str:
        rows = self._lines()
        label_width = max(len(label) for label, _, _ in rows)
        count_width = max(len(count) for _, count, _ in rows)
        table = [
            f"  {label:<{label_width}}  {count:>{count_width}}  {detail}".rstrip()
            for label, count, detail in rows
        ]
        lines = [
            self._title(),
            f"  connection: {self.connection_name or '(client)'}, key {self.key_fingerprint}",
            f"  privacy: {self._privacy_text()}; run by {self.run_by or 'unknown'}",
            *table,
            f"  time: {_seconds(self.duration)}, "
            f"{self.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
            f"  rate: {self._rate()}",
        ]
        if self.status != "completed":
            lines.append(f"  note: {self.status_reason}")
        if self.issues:
            lines.append(f"Issues ({len(self.issues):,}):")
            lines.extend(f"  {issue}" for issue in self.issues[:ISSUES_SHOWN])
            if len(self.issues) > ISSUES_SHOWN:
                lines.append(f"  ... {len(self.issues) - ISSUES_SHOWN:,} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        counts = "".join(
            f"<tr><th style='text-align:left'>{e(label)}</th>"
            f"<td style='text-align:right'>{e(count)}</td><td>{e(detail)}</td></tr>"
            for label, count, detail in self._lines()
        )
        facts = [
            ("connection", f"{self.connection_name or '(client)'}, key {self.key_fingerprint}"),
            ("privacy", self._privacy_text()),
            ("run by", self.run_by or "unknown"),
            ("time", _seconds(self.duration)),
            ("rate", self._rate()),
        ]
        counts += "".join(
            f"<tr><th style='text-align:left'>{e(label)}</th><td colspan='2'>{e(text)}</td></tr>"
            for label, text in facts
        )
        parts = [f"<h4>{e(self._title())}</h4>", f"<table>{counts}</table>"]
        if self.issues:
            header = "".join(f"<th>{e(column)}</th>" for column in ISSUE_COLUMNS)
            body = "".join(
                "<tr>"
                + "".join(
                    f"<td>{e('' if value is None else str(value))}</td>"
                    for value in attrs.astuple(issue)
                )
                + "</tr>"
                for issue in self.issues[:ISSUES_SHOWN]
            )
            more = len(self.issues) - ISSUES_SHOWN
            tail = f"<p>... {more:,} more issues</p>" if more > 0 else ""
            parts.append(
                f"<p>Issues ({len(self.issues):,}):</p><table><tr>{header}</tr>{body}</table>{tail}"
            )
        return "<div>" + "".join(parts) + "</div>"


def _status(result: EngineResult) -> ExportStatus:
    status = _STATUS_FOR_STOP[result.stop_reason]
    # Zero rows read is how a broken upstream query looks: never report it as a success.
    return "empty" if status == "completed" and result.rows_read == 0 else status


def _seconds(duration: timedelta) -> str:
    total = duration.total_seconds()
    minutes, seconds = divmod(total, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{seconds:04.1f}"
