"""A refresh: send only what changed since Omnisend last confirmed the segment, release who left.

A rerun of a completed export reads the whole source first, sending nothing. Each admitted row is
looked up among the members the last runs confirmed (:mod:`omnisend_sdk.export._members`):

- not a member: **new**, sent and tagged;
- a member whose body fingerprint differs, or whose tag is not confirmed: **changed**, sent, and
  tagged only if the tag is not confirmed;
- otherwise **unchanged**: nothing is sent.

Most rows of a refresh are unchanged, and mapping a row costs several times reading it. So each
member keeps the fingerprint of the source record it was mapped from; a row whose record is the
same (and whose member needs nothing) is known unchanged without being mapped again
(:class:`KnownRow`). Every other row is mapped, and the unchanged ones teach the members their
record for the next run. A CSV file's plain lines and an Arrow source's record batches are known
so without even being made rows (:mod:`omnisend_sdk.export._known_rows`), which is most of a
refresh's rows.

Members the source no longer holds **left**. Before anything is sent the shrink guard looks at the
numbers: an empty source, or more leavers than ``max_exit_share`` of the members, refuses the
refresh (a broken upstream query must not empty a segment in Omnisend) unless ``allow_shrink``.
The rows to send are kept in the state file (the work list), so the engine sends them without a
second read of the source, and a rerun after a crash finishes the same refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias

import attrs

from omnisend_sdk import _json
from omnisend_sdk._constants import DEFAULT_API_VERSION, MAX_BATCH_ITEMS, ApiVersion
from omnisend_sdk._errors import OmnisendError
from omnisend_sdk.export._admission import Admission
from omnisend_sdk.export._batcher import Batcher, PendingItem, PreparedRow
from omnisend_sdk.export._engine import EngineResult
from omnisend_sdk.export._journal import Journal, WorkRow
from omnisend_sdk.export._known_rows import known_rows, record_order
from omnisend_sdk.export._limits import ExportLimitError, ExportLimits
from omnisend_sdk.export._members import MemberIndex, body_fingerprint, email_key
from omnisend_sdk.export._reconcile import issue_from_dict, issue_to_dict
from omnisend_sdk.export._seen import SeenEmailKeys
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.mapping import (
    ContactMapping,
    MappedRow,
    RecordFingerprints,
    RowMapper,
    RowSource,
    SeenEmails,
    map_rows,
)
from omnisend_sdk.sources import count_rows

Change: TypeAlias = Literal["new", "changed", "unchanged"]

#: Rows of the work list written to the state file at once.
_WORK_CHUNK: Final = 2_000


class ShrinkRefusedError(OmnisendError):
    """A refresh would remove too many members from the segment; nothing was sent or changed.

    Attributes:
        members: Members the earlier runs confirmed.
        leaving: Members the source no longer holds.
        rows_read: Rows the source gave.
    """

    def __init__(self, message: str, *, members: int, leaving: int, rows_read: int) -> None:
        super().__init__(message)
        self.members = members
        self.leaving = leaving
        self.rows_read = rows_read


class Diff:
    """Classifies admitted rows against the members, and marks the members the source holds.

    Args:
        members: The members the earlier runs confirmed.
        tagging: Whether membership is marked with the segment tag.
        full: Resend and retag every member (``full=True``): no row is unchanged.
        seen: The duplicate check of the same pass, where :meth:`known` counts the rows it
            answers for (a table of its own by default, for a diff without known rows).
    """

    def __init__(
        self,
        members: MemberIndex,
        *,
        tagging: bool,
        full: bool = False,
        seen: SeenEmailKeys | None = None,
    ) -> None:
        self.members = members
        self._tagging = tagging
        self._full = full
        self._seen = seen or SeenEmailKeys()
        self._needs_nothing = MemberIndex.needs_nothing(tagging=tagging)

    def known(
        self, mapper: RowMapper, number: int, values: Mapping[str, object], record: int
    ) -> KnownRow | None:
        """The row, unmapped, when its record is the one a member was mapped from and the
        member needs nothing (a :data:`~omnisend_sdk.mapping.KnownRecord`); else ``None``.

        The row's email is the member's, so it is counted as seen (by its key: the email itself
        is never normalised again). A member met before in this pass is a duplicate: that row is
        mapped, and the duplicate check reports it.
        """
        if self._full:
            return None
        members = self.members
        position = members.find_record(record)
        if position < 0:
            return None
        mask, value = self._needs_nothing
        if members.flags[position] & mask != value:
            return None  # it needs its tag (sent as changed), or its email was met: mapped
        self._seen.first_row_of_member(position, members.key(position), number)
        return KnownRow(number, position)

    def known_unchanged(self, row: KnownRow) -> None:
        """A known row passed admission: its member is unchanged, and in the source."""
        self.members.mark_seen(row.position)

    def classify(self, email: str, fingerprint: int, record: int = 0) -> tuple[Change, bool]:
        """The row's change, and whether it needs the segment tag once exported.

        ``record``: the fingerprint of the source record the row was mapped from; an unchanged
        member keeps it, so the next run may know the row by it alone.
        """
        position = self.members.find(email_key(email))
        if position < 0:
            return "new", self._tagging
        self.members.mark_seen(position)
        # A full resync repairs what may have changed inside Omnisend, the tag included.
        needs_tag = self._tagging and (self._full or not self.members.tag_confirmed(position))
        if self._full or needs_tag or self.members.fingerprint(position) != fingerprint:
            return "changed", needs_tag
        self.members.mapped_from(position, record)
        return "unchanged", False


class KnownRow(MappedRow):
    """A row known unchanged by its record alone: admitted and diffed, never mapped nor sent.

    Attributes:
        position: Its member's place in the :class:`MemberIndex`.
    """

    __slots__ = ("position",)

    def __init__(self, row: int, position: int) -> None:
        # No email: the duplicate check counted it by its member's key already.
        super().__init__(row, None, (), fields={})
        self.position = position

    def to_json(self, version: ApiVersion = DEFAULT_API_VERSION) -> dict[str, Any] | None:
        raise AssertionError("a known row is unchanged: it is never sent, so never encoded")


@attrs.define
class ReadResult:
    """What reading the source without sending found.

    Attributes:
        tally: The counts as the engine keeps them (rows to send are ``not_sent``).
        batches: The batches the rows to send make.
        left: Keys of the members the source no longer holds.
    """

    tally: EngineResult
    batches: int
    left: list[int] = attrs.field(factory=list)


def check_count_first(source: RowSource, limits: ExportLimits) -> int | None:
    """Refuse an over-cap segment before an export streams it (``on_limit="fail"``).

    Returns the number of rows when it can be had before sending anything: a file that does
    not know its length is read once more just to count.

    Raises:
        ExportLimitError: The counted rows are over the cap.
    """
    total = source.row_count
    if total is None and limits.on_limit == "fail" and source.reiterable:
        total = count_rows(source)
    limits.check_count(total)
    return total


def mapped_rows(
    mapping: ContactMapping, source: RowSource, seen: SeenEmails, records: RecordFingerprints
) -> Iterator[MappedRow]:
    """The source's mapped rows; none, without a column check, when the source has no columns.

    A source without a single column gave no row to take them from: there is nothing to map,
    and the report's ``"empty"`` status (or a refresh's shrink guard), not a missing-column
    error, must say so. Clean rows carry their record's fingerprint, for the members.
    """
    return map_rows(mapping, source, seen=seen, records=records) if source.columns else iter(())


def diff_source(
    source: RowSource,
    mapping: ContactMapping,
    settings: ExportSettings,
    members: MemberIndex,
    *,
    segment_tag: str | None,
    api_version: ApiVersion,
    work: Callable[[Sequence[WorkRow]], None] | None = None,
) -> ReadResult:
    """Read the whole source as a refresh's first pass, the dry run and the plan all do.

    With members, the result is a refresh's: ``refresh`` is set and the leavers are found.
    """
    tagging = segment_tag is not None
    seen = SeenEmailKeys(members=members)
    diff = Diff(members, tagging=tagging, full=settings.full, seen=seen)
    known = diff.known if len(members) else None
    records = RecordFingerprints(api_version, known, record_order(source))
    limits = settings.limits
    reading = _Reading(Admission(limits), diff, api_version, work=work, limits=limits)
    known_on_sight = (
        None
        if settings.full
        else known_rows(
            source,
            mapping,
            api_version,
            members=members,
            seen=seen,
            reading=reading,
            tagging=tagging,
        )
    )
    for mapped in mapped_rows(mapping, known_on_sight or source, seen, records):
        reading.add(mapped)
    read = reading.result()
    if len(members):
        read.left = list(members.leavers())
        read.tally.refresh = True
        read.tally.exited = len(read.left)
    return read


def check_shrink(settings: ExportSettings, members: MemberIndex, read: ReadResult) -> None:
    """The shrink guard, on what the first pass found.

    Raises:
        ShrinkRefusedError: The refresh must not go ahead.
    """
    guard = ShrinkGuard(max_exit_share=settings.max_exit_share, allow_shrink=settings.allow_shrink)
    guard.check(members=members.confirmed(), leaving=len(read.left), rows_read=read.tally.rows_read)


def read_and_diff(
    rows: Iterable[MappedRow],
    admission: Admission,
    diff: Diff,
    api_version: ApiVersion,
    *,
    work: Callable[[Sequence[WorkRow]], None] | None = None,
) -> ReadResult:
    """Decide and classify every row as the export would, sending nothing.

    Args:
        rows: The mapped rows.
        admission: Decides which rows are sent (the caps, duplicates, invalid rows).
        diff: Classifies the admitted rows against the members.
        api_version: Sets the batch size and the JSON spellings.
        work: Receives the rows to send, in chunks, for the work list.

    Returns:
        The counts as the engine keeps them: rows to send are ``not_sent``, ``stop_reason`` is
        ``"limit"`` when ``on_limit="fail"`` would stop the export.
    """
    reading = _Reading(admission, diff, api_version, work=work)
    for mapped in rows:
        reading.add(mapped)
    return reading.result()


class _Reading:
    """:func:`read_and_diff`, a row at a time; also told of rows known unchanged in bulk.

    Args:
        admission: Decides which rows are sent.
        diff: Classifies the admitted rows against the members.
        api_version: Sets the batch size and the JSON spellings.
        work: Receives the rows to send, in chunks, for the work list.
        limits: The limits of ``admission``, made with no row admitted: then rows may be known
            unchanged in bulk (:meth:`known_unchanged`); without them, :meth:`room` is 0.
    """

    def __init__(
        self,
        admission: Admission,
        diff: Diff,
        api_version: ApiVersion,
        *,
        work: Callable[[Sequence[WorkRow]], None] | None = None,
        limits: ExportLimits | None = None,
    ) -> None:
        self.diff = diff
        self.tally = EngineResult()
        self._admission = admission
        self._limits = limits
        self._admitted = 0  # by admission: with limits, it started with none
        self._limit_reached = False
        self._api_version = api_version
        self._batcher = Batcher(MAX_BATCH_ITEMS[api_version])
        self._batches = 0
        self._work = work
        self._chunk: list[WorkRow] = []

    def room(self) -> int:
        """Rows admission can still take (0 without the limits)."""
        return 0 if self._limits is None else max(self._limits.cap - self._admitted, 0)

    def known_unchanged(self, rows: int) -> None:
        """``rows`` rows were read, admitted and found unchanged without a :class:`MappedRow`:
        each one the first row of a member that needs nothing (see :meth:`Diff.known`), marked
        seen, with :meth:`room` for it. Admission goes on from after them."""
        assert self._limits is not None
        assert rows <= self.room()
        self.tally.rows_read += rows
        self.tally.changes["unchanged"] += rows
        self._admitted += rows
        # Admission counts the rows it admits: a new one counts these too.
        self._limit_reached = self._limit_reached or self._admission.limit_reached
        self._admission = Admission(self._limits, admitted=self._admitted)

    def add(self, mapped: MappedRow) -> None:
        """Admit and classify the next row."""
        tally = self.tally
        tally.rows_read += 1
        decision = self._admission.decide(mapped)
        tally.record(decision)
        if decision.outcome != "send":
            return
        self._admitted += 1
        if type(mapped) is KnownRow:
            self.diff.known_unchanged(mapped)
            tally.changes["unchanged"] += 1
            return
        assert mapped.email is not None
        body = mapped.to_json(self._api_version)
        assert body is not None
        encoded = _json.dumps(body)
        fingerprint = body_fingerprint(encoded)
        change, needs_tag = self.diff.classify(mapped.email, fingerprint, mapped.record)
        tally.changes[change] += 1
        if change == "unchanged":
            return
        tally.not_sent += 1
        item = PendingItem.encoded(
            mapped.row, mapped.email, encoded, tag=needs_tag, record=mapped.record
        )
        self._batches += len(self._batcher.add(item))
        if self._work is not None:
            row = (mapped.row, mapped.email, fingerprint, needs_tag, encoded, mapped.record)
            self._chunk.append(row)
            if len(self._chunk) >= _WORK_CHUNK:
                self._work(self._chunk)
                self._chunk = []

    def result(self) -> ReadResult:
        """What the rows added so far make."""
        if self._work is not None and self._chunk:
            self._work(self._chunk)
            self._chunk = []
        self._batches += 1 if self._batcher.flush() else 0
        if self._limit_reached or self._admission.limit_reached:
            self.tally.stop_reason = "limit"
        return ReadResult(self.tally, self._batches)


@attrs.frozen(kw_only=True)
class ShrinkGuard:
    """Refuses a refresh that would empty or gut the segment.

    Attributes:
        max_exit_share: The share of the members that may leave in one refresh (0.10).
        allow_shrink: Go ahead whatever the numbers.
    """

    max_exit_share: float = 0.10
    allow_shrink: bool = False

    def check(self, *, members: int, leaving: int, rows_read: int) -> None:
        """Raise :class:`ShrinkRefusedError` when the refresh must not go ahead."""
        if self.allow_shrink or members == 0:
            return
        if rows_read == 0:
            raise ShrinkRefusedError(
                f"refresh refused: the source gave no rows, which would remove all {members:,} "
                "members from the segment; check the source, or pass allow_shrink=True "
                "(CLI --allow-shrink) if the segment is really empty now",
                members=members,
                leaving=leaving,
                rows_read=rows_read,
            )
        share = leaving / members
        if share > self.max_exit_share:
            raise ShrinkRefusedError(
                f"refresh refused: {leaving:,} of {members:,} members ({share:.1%}) left the "
                f"segment, more than max_exit_share={self.max_exit_share:.0%}; nothing was sent "
                "or changed. Check the source, or pass allow_shrink=True (CLI --allow-shrink)",
                members=members,
                leaving=leaving,
                rows_read=rows_read,
            )


@attrs.define
class RunInput:
    """What the engine sends in this run, and what the first pass counted.

    Attributes:
        rows: The mapped source (an export), or the work list (a refresh).
        counted: A refresh's first-pass counts, which the engine completes; ``None`` for an
            export, which counts as it reads.
        to_send: Rows the work list holds, for progress; ``None`` when unknown.
        limit_reached: The first pass met a row over the cap with ``on_limit="fail"``.
    """

    rows: Iterable[MappedRow | PreparedRow]
    counted: EngineResult | None = None
    to_send: int | None = None
    limit_reached: bool = False

    def account(self, result: EngineResult) -> None:
        """Complete the engine's counts: work-list rows a stopped run never reached are not sent.

        The first pass counted them as read; the engine counts only the rows it reaches.
        """
        if self.counted is None or self.to_send is None:
            return
        reached = sum(result.outcomes.values()) + result.not_sent
        result.not_sent += self.to_send - reached
        if self.limit_reached and result.stop_reason is None:
            result.stop_reason = "limit"


def prepare_run(
    journal: Journal,
    source: RowSource,
    mapping: ContactMapping,
    settings: ExportSettings,
    *,
    segment_tag: str | None,
    api_version: ApiVersion,
    seen: SeenEmails,
) -> RunInput:
    """Decide what this run sends: the whole source (a first export), or a refresh's work list.

    ``seen`` is an export's duplicate check; a refresh's first pass keeps its own, in memory.

    A run that resumes an interrupted one takes the same path: an export resumes by row, a
    refresh finishes the work list its first pass kept (or plans it again if the crash came
    before it was whole).

    Raises:
        ShrinkRefusedError: The shrink guard refused the refresh (nothing was sent or changed).
    """
    if journal.resumed and journal.kind == "export":
        total = check_count_first(source, settings.limits)
        return RunInput(_export_rows(mapping, source, seen, api_version), to_send=total)
    if journal.resumed and journal.kind == "refresh":
        planned = journal.planned_work()
        if planned is not None:
            return _work_input(journal, _tally_from_dict(*planned))
    if not journal.resumed and not journal.has_members():
        total = check_count_first(source, settings.limits)
        journal.start("export")
        return RunInput(_export_rows(mapping, source, seen, api_version), to_send=total)
    journal.start("refresh")
    members = journal.member_index()
    read = diff_source(
        source,
        mapping,
        settings,
        members,
        segment_tag=segment_tag,
        api_version=api_version,
        work=journal.add_work,
    )
    try:
        # Counted by the pass itself: a refresh sends nothing before it ends, so the source is
        # not read once more just to count it, as an export that streams must.
        settings.limits.check_count(read.tally.rows_read)
        check_shrink(settings, members, read)
    except (ShrinkRefusedError, ExportLimitError):
        journal.refused()
        raise
    journal.refresh_planned(
        _tally_to_dict(read.tally),
        (issue_to_dict(issue) for issue in read.tally.issues),
        left=read.left,
        rejoined=list(members.rejoined()),
        untag=settings.on_exit == "untag" and segment_tag is not None,
        new_records=members.new_records(),
    )
    return _work_input(journal, read.tally)


def _export_rows(
    mapping: ContactMapping, source: RowSource, seen: SeenEmails, api_version: ApiVersion
) -> Iterator[MappedRow]:
    """An export's rows: mapped, with their records' fingerprints for the members."""
    records = RecordFingerprints(api_version, columns=record_order(source))
    return mapped_rows(mapping, source, seen, records)


def _work_input(journal: Journal, tally: EngineResult) -> RunInput:
    to_send = tally.not_sent
    limit_reached = tally.stop_reason == "limit"
    # The engine counts the work list's rows as they reach an outcome, and stops on its own
    # limit only when reading a source: the work list holds rows under the cap alone.
    tally.not_sent = 0
    tally.stop_reason = None
    rows = (PreparedRow(*work) for work in journal.work())
    return RunInput(rows, tally, to_send, limit_reached)


_TALLY_COUNTS: Final = ("rows_read", "invalid", "duplicates", "over_limit", "not_sent", "exited")


def _tally_to_dict(tally: EngineResult) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(tally, name) for name in _TALLY_COUNTS}
    data["changes"] = dict(tally.changes)
    data["limit"] = tally.stop_reason == "limit"
    return data


def _tally_from_dict(data: Mapping[str, Any], issues: Iterable[Mapping[str, Any]]) -> EngineResult:
    tally = EngineResult(
        changes={name: int(count) for name, count in data["changes"].items()},
        issues=[issue_from_dict(issue) for issue in issues],
        refresh=True,
    )
    for name in _TALLY_COUNTS:
        setattr(tally, name, int(data[name]))
    tally.stop_reason = "limit" if data.get("limit") else None
    return tally
