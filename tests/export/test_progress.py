"""Progress: no-op callbacks, plain-function adapters, the tqdm bar and when it is chosen."""

from __future__ import annotations

import io
import sys
import types
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk.export import _progress
from omnisend_sdk.export._progress import (
    ExportProgress,
    FunctionProgress,
    SilentProgress,
    TqdmProgress,
    default_progress,
)
from omnisend_sdk.export._report import ExportReport

START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def report(**changes: Any) -> ExportReport:
    values: dict[str, Any] = {
        "segment": "VIP",
        "connection_name": None,
        "key_fingerprint": "sha256:0123456789ab",
        "privacy": None,
        "run_by": None,
        "dry_run": False,
        "status": "completed",
        "rows_read": 10,
        "created": 6,
        "invalid": 2,
        "failed": 2,
        "membership": "none",
        "segment_tag": None,
        "started_at": START,
        "finished_at": START + timedelta(seconds=5),
        "max_contacts_per_minute": 40_000.0,
    }
    return ExportReport(**(values | changes))


def drive(progress: ExportProgress) -> None:
    """The calls an export of 10 rows in two batches makes."""
    progress.started(10)
    progress.batch_sent(5)
    progress.throttled(1.5)
    progress.batch_sent(3)
    progress.batch_done(4, 1)
    progress.batch_done(2, 1)
    progress.finished(report())


@pytest.mark.parametrize(
    "progress", [SilentProgress(), FunctionProgress()], ids=["no-op", "no callbacks"]
)
def test_doing_nothing_is_allowed(progress: ExportProgress) -> None:
    assert isinstance(progress, ExportProgress)
    drive(progress)


def test_callbacks_receive_every_event_in_order() -> None:
    events: list[tuple[str, object]] = []
    progress = FunctionProgress(
        on_started=lambda total: events.append(("started", total)),
        on_batch_sent=lambda rows: events.append(("sent", rows)),
        on_batch_done=lambda ok, failed: events.append(("done", (ok, failed))),
        on_throttled=lambda seconds: events.append(("throttled", seconds)),
        on_finished=lambda r: events.append(("finished", r.status)),
    )
    drive(progress)
    assert events == [
        ("started", 10),
        ("sent", 5),
        ("throttled", 1.5),
        ("sent", 3),
        ("done", (4, 1)),
        ("done", (2, 1)),
        ("finished", "completed"),
    ]


def test_a_subclass_overrides_only_what_it_needs() -> None:
    class Counting(SilentProgress):
        def __init__(self) -> None:
            self.done = 0

        def batch_done(self, exported: int, failed: int) -> None:
            self.done += exported + failed

    counting = Counting()
    drive(counting)
    assert counting.done == 8


def test_tqdm_bar_counts_rows_and_ends_full() -> None:
    pytest.importorskip("tqdm")
    output = io.StringIO()
    progress = TqdmProgress(file=output, mininterval=0)
    progress.started(10)
    progress.batch_sent(5)
    progress.throttled(1.5)
    progress.batch_done(4, 1)
    bar = progress._bar
    assert bar is not None
    assert (bar.n, bar.total) == (5, 10)
    progress.finished(report())
    # The 2 invalid rows never went through a batch; the bar counts them at the end.
    assert bar.n == 10
    text = output.getvalue()
    assert "Exporting to Omnisend" in text
    assert "10/10" in text
    assert "completed, 2 failed" in text


def test_tqdm_bar_without_a_total_and_finished_before_started() -> None:
    pytest.importorskip("tqdm")
    output = io.StringIO()
    TqdmProgress(file=output).finished(report())  # nothing to close, nothing drawn
    assert output.getvalue() == ""
    progress = TqdmProgress(file=output, desc="VIP", mininterval=0)
    progress.started(None)
    progress.batch_done(6, 2)
    progress.finished(report(status="partial", not_sent=2, created=4))
    assert progress._bar.n == 8
    assert "VIP" in output.getvalue()


def test_tqdm_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes the import fail
    with pytest.raises(ConfigurationError, match=r"omnisend-sdk\[progress\]"):
        TqdmProgress()


class Stderr(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def ipython(shell: object) -> types.ModuleType:
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("installed", "tty", "shell", "bar"),
    [
        (True, True, None, True),
        (True, False, object(), True),  # a notebook kernel
        (True, False, None, False),  # a scheduler's log: IPython loaded, no shell
        (True, False, "absent", False),
        (False, True, object(), False),
    ],
)
def test_default_progress_picks_a_bar_only_when_someone_watches(
    monkeypatch: pytest.MonkeyPatch, installed: bool, tty: bool, shell: object, bar: bool
) -> None:
    pytest.importorskip("tqdm")
    monkeypatch.setattr(_progress, "_tqdm_installed", lambda: installed)
    monkeypatch.setattr(sys, "stderr", Stderr(tty))
    if shell == "absent":
        monkeypatch.delitem(sys.modules, "IPython", raising=False)
    else:
        monkeypatch.setitem(sys.modules, "IPython", ipython(shell))
    chosen = default_progress()
    assert isinstance(chosen, TqdmProgress) is bar
    assert isinstance(chosen, ExportProgress)
