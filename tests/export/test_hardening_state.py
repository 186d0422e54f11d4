"""The export's state on disk and its reports when a run stops early (issue 12, sections 4, 5, 7).

A disk that fills up is played by the journal's own SQLite connection refusing its Nth write (or
the first write of a chosen step) with SQLite's "database or disk is full"; everything else is
real SQLite against the emulator. Moments are chosen by events (a write's number, a progress
event), never by time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnisend_sdk import (
    ConfigurationError,
    ExportInterrupted,
    ExportReport,
    acknowledge_privacy,
    export_segment,
    export_segment_async,
)
from omnisend_sdk.cli import main as cli_main
from omnisend_sdk.export import FunctionProgress, _storage
from omnisend_sdk.export._engine import Engine, EngineOptions
from omnisend_sdk.export._gateway import gateway_for
from omnisend_sdk.export._journal import (
    DoneRow,
    Journal,
    export_key,
    journal_path,
    source_identity,
)
from omnisend_sdk.export._progress import SilentProgress
from omnisend_sdk.export._storage import ExportStateError
from omnisend_sdk.export._sync import holding_ctrl_c
from omnisend_sdk.mapping import map_rows
from omnisend_sdk.sources import open_source
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator
from tests.export.conftest import (
    MAPPING,
    expected_email,
    make_async_client,
    make_client,
    make_emulator,
    segment_rows,
)

SEGMENT = "VIP customers"
ROWS = 1_000
#: A hang fails the test instead of stalling CI; a correct run takes a second or two.
HANG_GUARD = 120.0
FULL = "database or disk is full"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "COMMIT")


class Disk:
    """The state's disk: it fills up at a chosen write, and stays full until freed.

    Args:
        writes_left: Writes that still succeed before the disk is full.
        fills_at: ``(text, n)``: the disk fills at the nth write whose SQL or parameters
            contain ``text`` (a chosen step of the journal).
        once: Only that one write fails (space freed at once by another process): then the
            part of the engine that met the failure alone must stop the export.
    """

    def __init__(
        self,
        *,
        writes_left: int | None = None,
        fills_at: tuple[str, int] | None = None,
        once: bool = False,
    ) -> None:
        self.writes = 0
        self.full = False
        self.failed = 0
        self._writes_left = writes_left
        self._fills_at = fills_at
        self._matches = 0
        self._once = once

    def write(self, sql: str, parameters: Any = ()) -> None:
        if not sql.lstrip().upper().startswith(_WRITES):
            return
        if not self.full:
            self.writes += 1
            self.full = self._writes_left is not None and self.writes > self._writes_left
            if self._fills_at is not None:
                text, nth = self._fills_at
                self._matches += text in sql or text in repr(parameters)
                self.full = self.full or self._matches == nth
        if self.full:
            self.failed += 1
            if self._once:
                self.free()
            raise sqlite3.OperationalError(FULL)

    def fill_at(self, text: str, nth: int = 1) -> None:
        """From now on, fill up at the nth write whose SQL or parameters contain ``text``."""
        self._fills_at, self._matches = (text, nth), 0

    def free(self) -> None:
        self.full, self._writes_left, self._fills_at = False, None, None


def install(monkeypatch: pytest.MonkeyPatch, disk: Disk) -> None:
    """Open every journal on ``disk``: real SQLite, whose writes fail once the disk is full."""

    class OnDisk(sqlite3.Connection):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            disk.write(sql, parameters)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
            disk.write(sql)
            return super().executemany(sql, parameters)

        def executescript(self, script: str, /) -> sqlite3.Cursor:
            disk.write(script)
            return super().executescript(script)

    def connect(database: str) -> sqlite3.Connection:
        return sqlite3.connect(database, isolation_level=None, factory=OnDisk)

    monkeypatch.setattr(_storage, "connect", connect)


async def export_async(emulator: OmnisendEmulator, state_dir: Path, **options: Any) -> ExportReport:
    async with make_async_client(emulator) as client:
        export = export_segment_async(
            segment_rows(ROWS), MAPPING, client=client, segment=SEGMENT, state_dir=state_dir,
            progress=None, **options,
        )  # fmt: skip
        return await asyncio.wait_for(export, HANG_GUARD)


def assert_each_contact_once_and_tagged(emulator: OmnisendEmulator) -> None:
    emulator.run_until_idle()
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(ROWS)}
    # No batch was accepted twice: every row went to Omnisend in exactly one batch.
    assert sum(b["totalCount"] for b in emulator.batches()) == ROWS
    assert all(c["tags"] == [SEGMENT] for c in emulator.contacts())


def state_file(state_dir: Path) -> Path:
    (found,) = (state_dir / "exports").glob("*.sqlite")
    return found


def assert_usable(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()


# --- a full disk ----------------------------------------------------------------------------------


async def test_a_full_state_directory_at_start_is_a_clear_error_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    emulator = make_emulator()
    install(monkeypatch, Disk(writes_left=0))

    with pytest.raises(ExportStateError) as caught:
        await export_async(emulator, state_dir)

    error = caught.value
    assert isinstance(error, ConfigurationError)  # a problem to fix where it runs: exit 2
    assert error.path == state_file(state_dir)
    assert str(state_file(state_dir)) in str(error)
    assert FULL in str(error)
    assert emulator.requests == []


def test_the_command_line_exits_2_with_the_cause_on_a_full_state_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segment = tmp_path / "segment.csv"
    segment.write_text("Email,First\n" + "".join(f"p{i}@example.com,F{i}\n" for i in range(5)))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('email = "Email"\nfirst_name = "First"\n')
    monkeypatch.setenv("OMNISEND_API_KEY", EMULATOR_API_KEY)
    install(monkeypatch, Disk(writes_left=0))
    emulator = make_emulator()

    with emulator.serve() as url:
        command = f"export {segment} --mapping {mapping} --segment VIP --base-url {url}"
        status = cli_main([*command.split(), "--state-dir", str(tmp_path / "state")])

    assert status == 2
    said = capsys.readouterr().err
    assert FULL in said
    assert str(tmp_path / "state") in said
    assert "Traceback" not in said


@pytest.mark.parametrize("writes_left", [9, 21, 35, 49, 65, 80, 94, 104])  # of 106 in all
async def test_a_disk_that_fills_mid_export_stops_it_at_once_and_the_rerun_resumes_exactly(
    monkeypatch: pytest.MonkeyPatch, state_dir: Path, writes_left: int
) -> None:
    emulator = make_emulator()
    disk = Disk(writes_left=writes_left)
    install(monkeypatch, disk)

    with pytest.raises(ExportStateError, match=FULL) as caught:
        await export_async(emulator, state_dir)

    stopped = caught.value.report
    if stopped is not None:  # the disk filled once the export had begun
        assert stopped.status == "partial"
        assert (stopped.stop_reason, stopped.error_type) == ("error", "ExportStateError")
        assert FULL in stopped.status_reason
    assert_usable(state_file(state_dir))

    disk.free()
    rerun = await export_async(emulator, state_dir)

    assert (rerun.status, rerun.exported, rerun.tagged) == ("completed", ROWS, ROWS)
    assert_each_contact_once_and_tagged(emulator)


#: The journal's steps, each taken by a different part of the engine: the disk fills at the
#: first (or a later) write of the step.
STEPS = {
    "batch built (a sender)": ("INSERT INTO batches", 3),
    "batch sent (a sender)": ("state = 'sent'", 2),
    "batch accepted (a sender, after the POST)": ("state = 'accepted'", 2),
    "batch settled (the tracker)": ("state = 'reconciled'", 2),
    "tag confirmed (the tagger)": ("SET tags = ?", 1),
    "members recorded (the run's end)": ("INTO members", 1),
    "run finished": ("finished", 1),
}


@pytest.mark.parametrize("once", [False, True], ids=["stays full", "one write fails"])
@pytest.mark.parametrize("step", STEPS.values(), ids=STEPS.keys())
async def test_whichever_step_meets_the_full_disk_the_rerun_resumes_exactly(
    monkeypatch: pytest.MonkeyPatch, state_dir: Path, step: tuple[str, int], once: bool
) -> None:
    emulator = make_emulator()
    disk = Disk(fills_at=step, once=once)
    install(monkeypatch, disk)

    with pytest.raises(ExportStateError, match=FULL):
        await export_async(emulator, state_dir)
    assert disk.failed  # the step was reached
    assert_usable(state_file(state_dir))

    disk.free()
    rerun = await export_async(emulator, state_dir)

    assert (rerun.status, rerun.exported, rerun.tagged) == ("completed", ROWS, ROWS)
    assert_each_contact_once_and_tagged(emulator)


def test_a_step_whose_commit_fails_leaves_nothing_half_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    disk = Disk()
    install(monkeypatch, disk)
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k")
    seq = journal.batch_built([(0, "a@example.com"), (1, "b@example.com")])
    journal.batch_sent(seq, journal.started_at)
    journal.batch_accepted(seq, "b1")
    disk.fill_at("COMMIT")  # the step's last write

    with pytest.raises(ExportStateError, match=FULL):
        journal.batch_reconciled(seq, [DoneRow(0, "a@example.com", "created")])
    disk.free()

    assert [b.state for b in journal.unresolved_batches()] == ["accepted"]
    assert journal.outcome_counts() == {}
    journal.batch_reconciled(seq, [DoneRow(0, "a@example.com", "created")])  # and it goes on
    assert journal.outcome_counts() == {"created": 1}


# --- Ctrl-C ---------------------------------------------------------------------------------------


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # what Ctrl-C does, delivered inside the export


def export(client: Any, state_dir: Path, rows: Any = None, **options: Any) -> ExportReport:
    options.setdefault("progress", None)
    return export_segment(
        segment_rows(ROWS) if rows is None else rows, MAPPING, client=client, segment=SEGMENT,
        state_dir=state_dir, **options,
    )  # fmt: skip


def cancel_after_first_batch_done(client: Any, state_dir: Path, rows: Any = None) -> ExportReport:
    """Run an export that the cancel event stops once Omnisend finished its first batch."""
    cancel = threading.Event()
    progress = FunctionProgress(on_batch_done=lambda exported, failed: cancel.set())
    stopped = export(client, state_dir, rows, cancel=cancel, progress=progress)
    assert stopped.status == "cancelled"
    assert stopped.exported > 0
    return stopped


def journal_counts(path: Path) -> tuple[int, int]:
    """Rows done, and rows in batches not yet settled, as the journal records them (read-only)."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        # Done rows: those recorded one by one, and those of batches reconciled whole.
        (done,) = db.execute(
            "SELECT (SELECT count(*) FROM rows) + (SELECT coalesce(sum(json_array_length(rows)), 0)"
            " FROM batches WHERE state = 'reconciled' AND outcome IS NOT NULL)"
        ).fetchone()
        batches = db.execute(
            "SELECT c.rows FROM batches JOIN batch_rows AS c USING (seq) "
            "WHERE state IN ('sent', 'accepted')"
        )
        return int(done), sum(len(json.loads(rows)) for (rows,) in batches)
    finally:
        db.close()


class CtrlCOnListing(httpx.BaseTransport):
    """Omnisend, reached through a transport where Ctrl-C lands as the first listing is read."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self.pressed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.pressed and request.method == "GET" and request.url.path.endswith("/batches"):
            self.pressed = True
            raise KeyboardInterrupt
        return self._inner.handle_request(request)


class HoldsBatchesFromTheSecond(httpx.BaseTransport):
    """Omnisend, except that from the second batch posted on, batch listings and lookups fail
    (503): the second batch and those after it stay in flight, however fast Omnisend is.

    Posts and reads of batches pass one at a time, so no listing can be under way when the
    second batch is posted and report it finished.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._posted = 0
        self.held = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/batches" not in request.url.path:
            return self._inner.handle_request(request)
        with self._lock:
            if request.method == "POST":
                self._posted += 1
                if self._posted == 2:
                    self.held.set()
            elif self.held.is_set():
                return httpx.Response(503, json={"title": "held by the test"}, request=request)
            return self._inner.handle_request(request)


def cancel_with_batches_in_flight(emulator: OmnisendEmulator, state_dir: Path) -> ExportReport:
    """An export cancelled once its second batch is posted, with that batch still in flight."""
    transport = HoldsBatchesFromTheSecond(emulator.transport())
    cancel = threading.Event()
    progress = FunctionProgress(
        on_batch_sent=lambda rows: cancel.set() if transport.held.is_set() else None
    )
    with make_client(emulator, http_client=httpx.Client(transport=transport)) as first:
        stopped = export(first, state_dir, cancel=cancel, progress=progress)
    assert stopped.status == "cancelled"
    return stopped


def test_ctrl_c_while_a_resumed_export_reconciles_reports_the_journals_true_counts(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    cancel_with_batches_in_flight(emulator, state_dir)
    done, in_flight = journal_counts(state_file(state_dir))
    assert in_flight > 0  # the rerun has batches to reconcile before it reads a row

    transport = CtrlCOnListing(emulator.transport())
    with (
        make_client(emulator, http_client=httpx.Client(transport=transport)) as interrupted,
        pytest.raises(ExportInterrupted) as caught,
    ):
        export(interrupted, state_dir)

    assert transport.pressed
    report = caught.value.report
    assert report.status == "cancelled"
    assert "cancelled" in report.status_reason
    # What the journal knows, not "0 rows read": the rows done, and those still in flight.
    assert (report.exported, report.not_sent) == (done, in_flight)
    assert report.rows_read == done + in_flight

    rerun = export(client, state_dir)
    assert (rerun.status, rerun.exported) == ("completed", ROWS)
    assert_each_contact_once_and_tagged(emulator)


def test_ctrl_c_during_a_refresh_gives_a_report_that_adds_up(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    # More changed rows than the engine queues ahead (two batches per sender): when Ctrl-C
    # comes, part of the work list has not been reached, and the report must count it.
    rows, changed = 4_000, 3_600
    export(client, state_dir, segment_rows(rows))
    edited = [dict(row, First=f"{row['First']}-v2") for row in segment_rows(changed)]
    sent: list[int] = []

    def second_batch_sent(count: int) -> None:
        sent.append(count)
        if len(sent) == 2:
            interrupt()

    with pytest.raises(ExportInterrupted) as caught:
        export(
            client, state_dir, edited + segment_rows(rows - changed, start=changed),
            progress=FunctionProgress(on_batch_sent=second_batch_sent),
        )  # fmt: skip

    report = caught.value.report  # made at all: its counts add up, or it could not be
    assert (report.status, report.refresh, report.rows_read) == ("cancelled", True, rows)
    assert (report.changed, report.unchanged) == (changed, rows - changed)
    assert report.exported + report.not_sent == changed
    assert report.not_sent > changed - 32 * 100  # the rows never reached are among them


def test_a_second_ctrl_c_cannot_interrupt_the_report_of_the_first() -> None:
    assert threading.current_thread() is threading.main_thread()
    # A handler of the test's own, so the check does not hang on whatever handler the run
    # before left (asyncio's, pytest's): what matters is that it is held off, then back.
    received: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        handler = signal.getsignal(signal.SIGINT)
        with holding_ctrl_c():
            signal.raise_signal(signal.SIGINT)  # the impatient second Ctrl-C: held off
            assert received == []
        assert signal.getsignal(signal.SIGINT) is handler
        signal.raise_signal(signal.SIGINT)  # and Ctrl-C reaches its handler again afterwards
        assert received == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)


# --- a report that gives the real cause -----------------------------------------------------------


class BreaksAfter(httpx.BaseTransport):
    """Omnisend that answers normally until it has taken ``batches`` batches, then ``fail``."""

    def __init__(
        self, inner: httpx.BaseTransport, batches: int, fail: Callable[[httpx.Request], Any]
    ) -> None:
        self._inner = inner
        self._batches_left = batches
        self._fail = fail

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._batches_left <= 0:
            answer: httpx.Response = self._fail(request)
            return answer
        if request.method == "POST" and request.url.path.endswith("/batches"):
            self._batches_left -= 1
        return self._inner.handle_request(request)


def refused_key(request: httpx.Request) -> httpx.Response:
    problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "revoked"}
    return httpx.Response(401, json=problem, request=request)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize(
    ("fail", "error_type", "cause"),
    [
        (refused_key, "AuthenticationError", "401"),
        (unreachable, "APIConnectionError", "APIConnectionError"),
    ],
    ids=["key revoked", "host unreachable"],
)
def test_a_stop_mid_export_is_reported_with_its_real_cause(
    state_dir: Path, fail: Callable[[httpx.Request], Any], error_type: str, cause: str
) -> None:
    emulator = make_emulator()
    transport = BreaksAfter(emulator.transport(), 3, fail)

    with make_client(emulator, http_client=httpx.Client(transport=transport)) as client:
        report = export(client, state_dir)

    assert report.status == "partial"
    assert (report.stop_reason, report.error_type) == ("error", error_type)
    assert cause in report.status_reason
    assert "deadline" not in str(report)
    assert report.to_dict()["error_type"] == error_type


# --- resuming: progress and issues ----------------------------------------------------------------


def rows_with_issues() -> list[dict[str, Any]]:
    """Rows that carry warnings (an unknown country) while exported, plus invalid and repeated."""
    rows = segment_rows(ROWS)
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["Country"] = "Atlantis"
        if i % 97 == 0:
            row["Email"] = "not-an-email"
    rows.append(dict(rows[5]))  # a duplicate
    return rows


def issue_set(report: ExportReport) -> list[tuple[int, str, str, str]]:
    return sorted((i.row, i.field, i.code, i.severity) for i in report.issues)


def test_a_resumed_export_reports_the_same_issues_as_a_clean_run(
    client: Any, state_dir: Path, tmp_path: Path
) -> None:
    with make_client(make_emulator()) as clean_client:
        clean = export(clean_client, tmp_path / "clean-state", rows_with_issues())
    cancel_after_first_batch_done(client, state_dir, rows_with_issues())

    resumed = export(client, state_dir, rows_with_issues())

    assert resumed.status == clean.status == "completed"
    assert issue_set(resumed) == issue_set(clean)
    assert sum(1 for i in clean.issues if i.code == "unknown_country") > 300


def test_the_progress_of_a_resumed_export_starts_at_the_rows_already_done(
    client: Any, state_dir: Path
) -> None:
    stopped = cancel_after_first_batch_done(client, state_dir)
    done: list[tuple[int, int]] = []

    resumed = export(
        client, state_dir, progress=FunctionProgress(on_batch_done=lambda *d: done.append(d))
    )

    assert done[0] == (stopped.exported, 0)  # first of all, what the earlier run did
    assert sum(exported + failed for exported, failed in done) == resumed.exported == ROWS


# --- owner-only state -----------------------------------------------------------------------------


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the common default: files 0644, directories 0755
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


@pytest.mark.usefixtures("loose_umask")
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_everything_in_the_state_directory_is_owner_only(
    emulator: OmnisendEmulator, state_dir: Path
) -> None:
    remote = "https://api.omnisend.com/api"  # needs an acknowledgement: it is state too
    with make_client(emulator, base_url=remote) as client:
        acknowledge_privacy(client, by="Dana Data-Owner", state_dir=state_dir)
        cancel_after_first_batch_done(client, state_dir)  # a journal left mid-export...
        export(client, state_dir)  # ...resumed to the end...
        export(client, state_dir, segment_rows(ROWS - 50))  # ...and refreshed

    found = modes(state_dir)
    names = set(found)
    assert any(name.endswith(".sqlite") for name in names)
    assert any(name.endswith(".lock") for name in names)
    assert any(name.startswith("privacy/") for name in names)
    loose = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (state_dir / name).is_dir() else 0o600)
    }
    assert loose == {}


@pytest.mark.usefixtures("loose_umask")
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_state_an_older_version_left_readable_is_made_owner_only(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    path = journal_path(state_dir, SEGMENT, client)
    path.parent.mkdir(parents=True)
    os.chmod(path.parent, 0o755)
    Journal(path, export_key(SEGMENT, client), source=source_identity([])).close()
    lock = path.with_name(path.name + ".lock")
    for loose in (path, lock, path.with_name(path.name + "-wal")):
        loose.touch()
        os.chmod(loose, 0o644)

    export(client, state_dir)

    exports = {name: mode for name, mode in modes(state_dir).items() if name != "."}
    assert exports == {name: 0o700 if name == "exports" else 0o600 for name in exports}


# --- the engine on a real client: exported rows the deadline left untagged ------------------------


class PassesDeadline:
    """The engine's clock: it passes the deadline once the journal holds ``rows`` rows done."""

    def __init__(self, journal: Journal, rows: int) -> None:
        self._journal = journal
        self._rows = rows
        self._passed = False

    def __call__(self) -> float:
        self._passed = self._passed or sum(self._journal.outcome_counts().values()) >= self._rows
        return 1e9 if self._passed else 0.0


def test_exported_rows_the_deadline_left_untagged_are_tagged_by_the_next_run(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(200)  # two batches; less than a tag call's 250, so no call before the end
    path = journal_path(state_dir, SEGMENT, client)
    journal = Journal(
        path, export_key(SEGMENT, client), source=source_identity(rows), segment_tag=SEGMENT
    )
    journal.start("export")
    engine = Engine(
        gateway_for(client),
        journal,
        EngineOptions(segment_tag=SEGMENT),
        progress=SilentProgress(),
        clock=PassesDeadline(journal, 200),
    )
    try:
        stopped = asyncio.run(engine.run(map_rows(MAPPING, open_source(rows))))
    finally:
        journal.close()
    assert stopped.stop_reason == "deadline"
    assert sum(stopped.outcomes.values()) == 200
    assert stopped.tagged == 0
    assert not any(r.path.endswith("/contacts/tags") for r in emulator.requests)

    rerun = export(client, state_dir, rows)

    assert (rerun.status, rerun.exported, rerun.tagged) == ("completed", 200, 200)
    assert len(emulator.batches()) == 2  # nothing was sent again
    emulator.run_until_idle()
    assert all(c["tags"] == [SEGMENT] for c in emulator.contacts())
