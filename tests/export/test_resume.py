"""An export killed with SIGKILL at random moments, then rerun, lands every contact exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from omnisend_sdk.testing import OmnisendEmulator
from tests.export.conftest import expected_email

ROOT = Path(__file__).resolve().parents[2]
ROWS = 6_000
KILLS = 5


def run_worker(url: str, state_dir: Path, report: Path, *, kill_after: float | None) -> int:
    """Run one export in a subprocess; SIGKILL it after ``kill_after`` seconds, if given."""
    command = [sys.executable, "-m", "tests.export.resume_worker", url, str(state_dir), str(ROWS)]
    log = report.with_suffix(".log")
    with log.open("wb") as errors:
        worker = subprocess.Popen(
            [*command, str(report)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors
        )
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(worker.pid, signal.SIGKILL)
        code = worker.wait(timeout=180)
    assert code in (0, -signal.SIGKILL), log.read_text()
    return code


def test_killed_five_times_then_resumed(tmp_path: Path) -> None:
    emulator = OmnisendEmulator(time_scale=60, seed=3)
    state_dir = tmp_path / "state"
    report_path = tmp_path / "report.json"
    rng = random.Random(20261129)
    with emulator.serve() as url:
        for _ in range(KILLS):
            # Start-up takes ~0.6 s; then batches flow. Each run must be cut short by the kill.
            kill_after = rng.uniform(0.7, 1.5)
            code = run_worker(url, state_dir, report_path, kill_after=kill_after)
            assert code == -signal.SIGKILL
        sent_before_last_run = sum(b["totalCount"] for b in emulator.batches())
        assert run_worker(url, state_dir, report_path, kill_after=None) == 0
        emulator.run_until_idle()

    report = json.loads(report_path.read_text())
    assert 0 < sent_before_last_run < ROWS  # the kills did land mid-export
    assert report["status"] == "completed"
    assert report["exported"] == ROWS
    assert report["rows_read"] == ROWS
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(ROWS)}
    # No batch was accepted twice: every row went to Omnisend in exactly one batch.
    assert sum(b["totalCount"] for b in emulator.batches()) == ROWS
    assert all(c["tags"] == ["VIP customers"] for c in emulator.contacts())
