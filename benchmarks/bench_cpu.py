"""CPU per exported contact: ``export_segment`` against a lean batch poster doing the same I/O.

Run from the repository root::

    python benchmarks/bench_cpu.py                  # 200,000 rows
    python benchmarks/bench_cpu.py --rows 1000000

Both read the same generated CSV segment (the eight seed fields, 2% defective rows) and send it to
the emulator served on loopback in its own process at 1000 times real time, so that Omnisend's
rate limits do not bind and only the client's own work is measured. Each runs in a fresh process,
with a fresh emulator, and prints the CPU seconds (user + system) of that process and its peak
resident memory.

- **export**: ``export_segment(csv_path, ...)`` with the segment tag on and the journal on: the SDK
  as a user runs it.
- **lean poster**: the least a correct exporter must do. It reads the file with :mod:`csv`, maps
  and validates each row with ``RowMapper``, encodes batches of 100 with the mapper's fast path,
  posts them through one ``httpx.Client`` from 4 threads, writes one SQLite row per batch, tags
  the contacts 250 emails a call, and at the end lists the batches until every one has finished.
  It has no duplicate check, no journal of rows, no retry, no pacing and no report.

The figure is the ratio of the two CPU costs per exported contact (issue 13's goal: at most 1.2).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402
import httpx  # noqa: E402
from bench_export import EmulatorServer  # noqa: E402

from omnisend_sdk import OmnisendClient, RateLimiter, export_segment  # noqa: E402
from omnisend_sdk._json import dumps  # noqa: E402
from omnisend_sdk.mapping import RowMapper  # noqa: E402
from omnisend_sdk.testing import EMULATOR_API_KEY  # noqa: E402

TIME_SCALE = 1000.0
TAG = "Benchmark"
BATCH = 100
TAG_CALL = 250
THREADS = 4


def run_export(url: str, csv_path: Path, state_dir: str, rows: int) -> int:
    limiter = RateLimiter(window=60.0 / TIME_SCALE)
    with OmnisendClient(EMULATOR_API_KEY, base_url=url, rate_limiter=limiter) as client:
        report = export_segment(
            csv_path,
            _segment_gen.MAPPING,
            client=client,
            segment=TAG,
            membership="tag",
            state_dir=state_dir,
            progress=None,
            max_profiles=rows,
        )
    assert report.status == "completed", report.status
    assert report.tagged == report.exported, (report.tagged, report.exported)
    return report.exported


class LeanPoster:
    """Batches of 100 and tag calls of 250 through one client from a few threads."""

    def __init__(self, url: str, state_dir: str) -> None:
        headers = {
            "Authorization": f"Omnisend-API-Key {EMULATOR_API_KEY}",
            "Omnisend-Version": "2026-03-15",
            "Content-Type": "application/json",
        }
        self._http = httpx.Client(base_url=url, headers=headers, timeout=30.0)
        self._db = sqlite3.connect(Path(state_dir) / "lean.sqlite3", check_same_thread=False)
        self._db.execute("create table batches (batch_id text primary key, items integer)")
        self._db_lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(THREADS)
        self._in_flight: set[concurrent.futures.Future[None]] = set()

    def post_batch(self, items: list[dict[str, object]]) -> None:
        self._submit(self._send_batch, items)

    def tag(self, emails: list[str]) -> None:
        self._submit(self._send_tags, emails)

    def _submit(self, function: Callable[[Any], None], argument: object) -> None:
        if len(self._in_flight) >= 2 * THREADS:  # keep memory bounded, as an exporter must
            done, self._in_flight = concurrent.futures.wait(
                self._in_flight, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                future.result()
        self._in_flight.add(self._pool.submit(function, argument))

    def _send_batch(self, items: list[dict[str, object]]) -> None:
        body = dumps({"method": "POST", "endpoint": "contacts", "items": items})
        response = self._http.post("/batches", content=body)
        response.raise_for_status()
        with self._db_lock:
            batch_id = response.json()["batchID"]
            self._db.execute("insert into batches values (?, ?)", (batch_id, len(items)))
            self._db.commit()

    def _send_tags(self, emails: list[str]) -> None:
        body = dumps({"tags": [TAG], "emails": emails})
        response = self._http.post("/contacts/tags", content=body)
        response.raise_for_status()

    def _unfinished(self) -> bool:
        for status in ("pending", "inProgress"):
            params = {"endpoint": "contacts", "status": status, "limit": 1}
            if self._http.get("/batches", params=params).json()["batches"]:
                return True
        return False

    def finish(self) -> None:
        for future in concurrent.futures.as_completed(self._in_flight):
            future.result()
        self._pool.shutdown()
        while self._unfinished():  # list the batches until every one has finished
            time.sleep(0.01)
        self._http.close()
        self._db.close()


def run_lean(url: str, csv_path: Path, state_dir: str) -> int:
    poster = LeanPoster(url, state_dir)
    exported = 0
    with csv_path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        mapper = RowMapper.bind(_segment_gen.MAPPING, reader.fieldnames or ())
        items: list[dict[str, object]] = []
        emails: list[str] = []
        for number, values in enumerate(reader, start=1):
            row = mapper.map(number, values)
            body = row.to_json()
            if body is None:
                continue
            items.append(body)
            emails.append(row.email)  # type: ignore[arg-type]
            if len(items) == BATCH:
                poster.post_batch(items)
                exported += len(items)
                items = []
            if len(emails) == TAG_CALL:
                poster.tag(emails)
                emails = []
        if items:
            poster.post_batch(items)
            exported += len(items)
        if emails:
            poster.tag(emails)
    poster.finish()
    return exported


def child(mode: str, url: str, csv_path: Path, rows: int) -> None:
    with tempfile.TemporaryDirectory() as state_dir:
        cpu_before = time.process_time()
        wall_before = time.perf_counter()
        if mode == "export":
            exported = run_export(url, csv_path, state_dir, rows)
        else:
            exported = run_lean(url, csv_path, state_dir)
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"exported": exported, "cpu": cpu, "wall": wall, "peak_mb": peak_mb}))


def measure(mode: str, csv_path: Path, rows: int) -> dict[str, float]:
    with EmulatorServer(time_scale=TIME_SCALE, latency=0.0) as server:
        command = [sys.executable, __file__, "--child", mode, "--url", server.url]
        command += ["--csv", str(csv_path), "--rows", str(rows)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two this many times")
    parser.add_argument("--child", choices=("export", "lean"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.csv, args.rows)
        return

    print(f"{args.rows:,} rows, emulator at {TIME_SCALE:g}x on loopback, segment tag on")
    with tempfile.TemporaryDirectory() as work:
        csv_path = Path(work) / "segment.csv"
        _segment_gen.write_csv(csv_path, _segment_gen.rows(args.rows))
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for mode in ("lean", "export"):
                result = measure(mode, csv_path, args.rows)
                per_contact = result["cpu"] / result["exported"] * 1e6
                print(
                    f"  {mode:<7} exported {result['exported']:,.0f} "
                    f"in {result['wall']:.1f} s wall, "
                    f"{result['cpu']:.1f} s CPU = {per_contact:.1f} µs a contact; "
                    f"peak {result['peak_mb']:.0f} MB"
                )
                if mode not in best or result["cpu"] < best[mode]["cpu"]:
                    best[mode] = result
    lean, export = best["lean"], best["export"]
    ratio = (export["cpu"] / export["exported"]) / (lean["cpu"] / lean["exported"])
    verdict = "OK" if ratio <= 1.2 else "FAIL"
    print(
        f"  export / lean poster, CPU per contact (best of {args.repeat}): {ratio:.2f}"
        f" (goal <= 1.2): {verdict}"
    )


if __name__ == "__main__":
    main()
