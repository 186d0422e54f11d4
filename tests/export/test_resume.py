"""An export killed with SIGKILL at random moments, then rerun, lands every contact exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from omnisend_sdk.testing import OmnisendEmulator
from tests.export.conftest import expected_email

ROOT = Path(__file__).resolve().parents[2]
ROWS = 6_000
KILLS = 5


def run_worker(
    url: str,
    state_dir: Path,
    report: Path,
    *,
    kill_when: Callable[[], bool] | None,
    rows: int = ROWS,
    changed: int = 0,
) -> int:
    """Run one export in a subprocess; SIGKILL it as soon as ``kill_when()`` holds, if given.

    ``kill_when`` looks at the emulator (the Nth batch accepted): the moment is picked by an
    event, so a busy machine only delays the kill, never lets the export finish first.
    """
    command = [sys.executable, "-m", "tests.export.resume_worker", url, str(state_dir), str(rows)]
    log = report.with_suffix(".log")
    with log.open("wb") as errors:
        worker = subprocess.Popen(
            [*command, str(report), str(changed)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        if kill_when is not None:
            give_up = time.monotonic() + 180
            while not kill_when() and worker.poll() is None and time.monotonic() < give_up:
                time.sleep(0.005)  # polling for the event, not guessing a duration
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
        code = worker.wait(timeout=180)
    assert code in (0, -signal.SIGKILL), log.read_text()
    return code


def batches_at_least(emulator: OmnisendEmulator, count: int) -> Callable[[], bool]:
    """An event: the emulator has accepted ``count`` batches."""
    return lambda: len(emulator.batches()) >= count


def test_killed_five_times_then_resumed(tmp_path: Path) -> None:
    emulator = OmnisendEmulator(time_scale=60, seed=3)
    state_dir = tmp_path / "state"
    report_path = tmp_path / "report.json"
    rng = random.Random(20261129)
    with emulator.serve() as url:
        for _ in range(KILLS):
            # Each run is killed once it has had between 1 and 4 batches accepted.
            wanted = len(emulator.batches()) + rng.randint(1, 4)
            kill_when = batches_at_least(emulator, wanted)
            code = run_worker(url, state_dir, report_path, kill_when=kill_when)
            assert code == -signal.SIGKILL
        sent_before_last_run = sum(b["totalCount"] for b in emulator.batches())
        assert run_worker(url, state_dir, report_path, kill_when=None) == 0
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


def test_a_refresh_killed_twice_then_rerun_sends_each_change_exactly_once(
    tmp_path: Path,
) -> None:
    rows, changed = 2_000, 1_200
    emulator = OmnisendEmulator(time_scale=60, seed=5)
    state_dir = tmp_path / "state"
    report_path = tmp_path / "report.json"
    with emulator.serve() as url:
        assert run_worker(url, state_dir, report_path, kill_when=None, rows=rows) == 0
        full_export = len(emulator.batches())
        for kill_at in (2, 6):  # batches of the refresh accepted when the kill lands
            kill_when = batches_at_least(emulator, full_export + kill_at)
            code = run_worker(
                url, state_dir, report_path, kill_when=kill_when, rows=rows, changed=changed
            )
            assert code == -signal.SIGKILL, report_path.with_suffix(".log").read_text()
        # A rerun settles what the kills left in flight; one whose lookups of lost batches
        # outlast its settling time reports "partial", and the next one finishes.
        reruns = []
        while not reruns or json.loads(report_path.read_text())["status"] != "completed":
            assert len(reruns) < 5, reruns
            code = run_worker(
                url, state_dir, report_path, kill_when=None, rows=rows, changed=changed
            )
            assert code == 0
            reruns.append(json.loads(report_path.read_text())["status"])
        emulator.run_until_idle()

    report = json.loads(report_path.read_text())
    refresh_batches = emulator.batches()[full_export:]
    assert report["status"] == "completed"
    assert (report["refresh"], report["changed"], report["unchanged"]) == (True, 1_200, 800)
    assert report["exported"] == 1_200
    # Every changed contact went to Omnisend in exactly one batch, and nothing else did.
    assert sum(b["totalCount"] for b in refresh_batches) == changed
    names = {c["email"]: c["firstName"] for c in emulator.contacts()}
    assert names == {
        expected_email(i): f"First{i}-v2" if i < changed else f"First{i}" for i in range(rows)
    }
    assert all(c["tags"] == ["VIP customers"] for c in emulator.contacts())
