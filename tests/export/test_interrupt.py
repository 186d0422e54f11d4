"""Ctrl-C and stale journals: what a rerun trusts, and what an interrupted export reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import ExportInterrupted, export_segment
from omnisend_sdk.export import FunctionProgress
from omnisend_sdk.export._journal import Journal, export_key, journal_path, source_identity
from omnisend_sdk.testing import OmnisendEmulator
from tests.export.conftest import MAPPING, expected_email, segment_rows


def test_ctrl_c_raises_with_the_partial_report(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    def interrupt(rows: int) -> None:
        raise KeyboardInterrupt  # what Ctrl-C does, delivered inside the export

    with pytest.raises(ExportInterrupted) as caught:
        export_segment(
            segment_rows(500), MAPPING, client=client, segment="VIP", state_dir=state_dir,
            progress=FunctionProgress(on_batch_sent=interrupt),
        )  # fmt: skip

    report = caught.value.report
    assert isinstance(caught.value, KeyboardInterrupt)  # `except Exception` does not swallow it
    assert report.status == "cancelled"
    assert report.rows_read == report.exported + report.skipped + report.failed + report.not_sent
    assert report.not_sent > 0

    rerun = export_segment(
        segment_rows(500), MAPPING, client=client, segment="VIP", state_dir=state_dir,
        progress=None,
    )  # fmt: skip
    assert (rerun.status, rerun.exported) == ("completed", 500)
    assert sum(b["totalCount"] for b in emulator.batches()) == 500


def test_a_batch_older_than_omnisends_retention_is_not_trusted(
    emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    rows = segment_rows(50)
    path = journal_path(state_dir, "VIP", client)
    stale = Journal(path, export_key("VIP", client), source=source_identity(rows))
    stale.start("export")
    seq = stale.batch_built([(i, expected_email(i)) for i in range(50)])
    stale.batch_sent(seq, datetime.now(UTC) - timedelta(days=8))
    stale.batch_accepted(seq, "batch-from-last-week")
    stale.close()

    report = export_segment(
        rows, MAPPING, client=client, segment="VIP", state_dir=state_dir, progress=None
    )

    assert (report.status, report.exported) == ("completed", 50)
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(50)}
    assert not any("batch-from-last-week" in r.path for r in emulator.requests)
