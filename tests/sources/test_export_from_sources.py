"""export_segment() from every kind of source to the emulator: every valid row lands, every
issue names its row in the source, and a capped export of a one-shot source loses no row."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import export_segment
from omnisend_sdk.testing import OmnisendEmulator
from tests.export.test_refresh import mapped_rows_spy
from tests.sources.segment import KINDS, MAPPING, OUTCOME, SENT, Files, Kind

by_kind = pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])


def export(source: object, client: Any, state_dir: Path, **options: Any) -> Any:
    return export_segment(
        source,
        MAPPING,
        client=client,
        segment="VIP",
        state_dir=state_dir,
        progress=None,
        **options,
    )


@by_kind
def test_every_valid_row_is_exported_and_each_issue_names_its_row(
    kind: Kind,
    files: Files,
    stack: ExitStack,
    emulator: OmnisendEmulator,
    client: Any,
    state_dir: Path,
) -> None:
    report = export(kind.make(files, stack), client, state_dir)
    emulator.run_until_idle()

    assert (report.status, report.rows_read, report.exported) == ("completed", 10, len(SENT))
    assert {contact["email"] for contact in emulator.contacts()} == SENT
    rejected = {i.row: i.code for i in report.issues if i.severity == "error"}
    assert rejected == {
        position + kind.first: code
        for position, (result, code) in OUTCOME.items()
        if result == "rejected"
    }


@by_kind
def test_a_capped_export_sends_the_first_rows_first_row_included(
    kind: Kind,
    files: Files,
    stack: ExitStack,
    emulator: OmnisendEmulator,
    client: Any,
    state_dir: Path,
) -> None:
    report = export(kind.make(files, stack), client, state_dir, max_profiles=3, on_limit="truncate")
    emulator.run_until_idle()

    assert report.exported == 3
    assert {contact["email"] for contact in emulator.contacts()} == {
        "ann@example.com",  # the first row: never lost to a look at the columns
        "bob@example.com",
        "zoe@example.com",
    }


@by_kind
def test_a_refresh_of_the_same_rows_knows_every_member_and_sends_nothing(
    kind: Kind,
    files: Files,
    stack: ExitStack,
    emulator: OmnisendEmulator,
    client: Any,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The export records each member's source record, a batch at a time where the source hands
    batches over; the refresh after it, reading the same rows again, must know every member by
    its record, without mapping its row again: the two fingerprint a record alike, whatever
    path each takes."""
    first = export(kind.make(files, stack), client, state_dir, membership="tag")
    emulator.run_until_idle()
    batches = len(emulator.batches())
    mapped = mapped_rows_spy(monkeypatch)
    again = export(kind.make(files, stack), client, state_dir, membership="tag")

    assert (first.status, first.exported) == ("completed", len(SENT))
    assert again.status == "completed"
    assert (again.refresh, again.new, again.changed, again.unchanged) == (True, 0, 0, len(SENT))
    assert (again.exported, again.exited) == (0, 0)
    assert len(emulator.batches()) == batches
    # Mapped again: only the rows the export reported something about (rejected, or sent with
    # a warning), which have no record to know them by.
    assert sorted(mapped) == sorted({issue.row for issue in first.issues})
