"""Export benchmark: how close an export gets to Omnisend's rate limit, and what it costs to run.

Run from the repository root::

    python benchmarks/bench_export.py pace           # (a) 100,000 rows, 100 ms latency
    python benchmarks/bench_export.py scale          # (b) 1,000,000 rows, limits out of the way
    python benchmarks/bench_export.py pace --rows 20000 --time-scale 30
    python benchmarks/bench_export.py pace --time-scale 1 --membership none   # real pace, ~3 min

(a) pace: the emulator runs as a loopback HTTP server in its own process, its clock ``time-scale``
times faster than real time (5 by default: faster, and the emulator process, which validates and
stores every contact, no longer keeps up on a 2-core machine), every answer delayed by
``--latency`` emulated seconds (so 100 ms is 10 ms of real time at 10x: the whole world runs
faster, the network too). The client's limiter is scaled the same way, so the export meets
Omnisend's limits exactly as it would in production, only faster. ``--real-latency`` delays every
answer by ``--latency`` real seconds instead, which a time scale magnifies (100 ms becomes a full
emulated second at 10x). Printed: contacts per (emulator)
minute against the API's ceiling of 40,000 (100 per batch, 400 requests a minute), and the requests
spent beyond the batch posts. It runs once without segment membership (the contact floor) and once
with the segment tag (whose own floor is 15,000 contacts a minute: 250 emails per call, 60 calls a
minute).

(b) scale: 1,000,000 rows with the rate limits far out of the way, to measure the SDK itself:
wall time, CPU seconds of the exporting process and its peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402

from omnisend_sdk import (  # noqa: E402
    OmnisendClient,
    RateLimiter,
    export_segment,
)
from omnisend_sdk.testing import EMULATOR_API_KEY  # noqa: E402

#: Omnisend's ceilings, per minute of its own time.
CONTACTS_PER_MINUTE = 100 * 400
TAGGED_PER_MINUTE = 250 * 60

MAPPING = _segment_gen.MAPPING


class EmulatorServer:
    """``python -m omnisend_sdk.testing serve`` in a child process, so it has its own core."""

    def __init__(
        self, *, time_scale: float, latency: float = 0.0, api_key: str | None = None
    ) -> None:
        command = [sys.executable, "-m", "omnisend_sdk.testing", "serve", "--seed", "1"]
        command += ["--time-scale", str(time_scale), "--latency", str(latency)]
        if api_key is not None:
            command += ["--api-key", api_key]
        self._process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()

    def cpu_seconds(self) -> float:
        """User plus system CPU of the server so far (``/proc/<pid>/stat``, Linux only)."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()


def run_export(
    url: str, rows: int, *, time_scale: float, membership: str, state_dir: str
) -> tuple[object, float, float]:
    """One export; returns the report, its wall time and the process's CPU seconds for it."""
    limiter = RateLimiter(window=60.0 / time_scale)
    cpu_before = time.process_time()
    started = time.perf_counter()
    with OmnisendClient(EMULATOR_API_KEY, base_url=url, rate_limiter=limiter) as client:
        report = export_segment(
            _segment_gen.rows(rows),
            MAPPING,
            client=client,
            segment="Benchmark",
            membership=membership,  # type: ignore[arg-type]
            state_dir=state_dir,
            progress=None,
            max_profiles=max(rows, 1),
        )
    return report, time.perf_counter() - started, time.process_time() - cpu_before


def pace(args: argparse.Namespace) -> None:
    print(
        f"(a) {args.rows:,} rows, loopback emulator at {args.time_scale:g}x, "
        f"{args.latency * 1000:.0f} ms latency{' (real)' if args.real_latency else ''}"
    )
    real_latency = args.latency if args.real_latency else args.latency / args.time_scale
    runs = (("none", CONTACTS_PER_MINUTE), ("tag", TAGGED_PER_MINUTE))
    for membership, ceiling in (r for r in runs if args.membership in ("both", r[0])):
        with (
            EmulatorServer(time_scale=args.time_scale, latency=real_latency) as server,
            tempfile.TemporaryDirectory() as state_dir,
        ):
            report, wall, _ = run_export(
                server.url,
                args.rows,
                time_scale=args.time_scale,
                membership=membership,
                state_dir=state_dir,
            )
        emulated_minutes = wall * args.time_scale / 60
        achieved = report.exported / emulated_minutes  # type: ignore[attr-defined]
        posts = report.batches  # type: ignore[attr-defined]
        tag_calls = -(-report.tagged // 250) if membership == "tag" else 0  # type: ignore[attr-defined]
        extra = report.requests - posts - tag_calls  # type: ignore[attr-defined]
        # The ideal: every request of the limiting stream at exactly the limit, nothing else.
        per_window = 400 if membership == "none" else 60
        stream = posts + extra if membership == "none" else tag_calls
        ideal_minutes = stream / per_window
        print(
            f"  membership={membership:<4}  exported {report.exported:,} in {wall:.1f} s "  # type: ignore[attr-defined]
            f"({emulated_minutes:.2f} emulated min): {achieved:,.0f} contacts/min = "
            f"{achieved / ceiling:.3f} of the {ceiling:,}/min ceiling; the requests made at "
            f"exactly the limit would take {ideal_minutes:.2f} min "
            f"({ideal_minutes / emulated_minutes:.3f} of the time taken); "
            f"{posts:,} batch posts, {extra} other requests ({extra / max(posts, 1):.1%}), "
            f"{report.rate_limited} answered 429"  # type: ignore[attr-defined]
        )


def scale(args: argparse.Namespace) -> None:
    print(f"(b) {args.rows:,} rows, rate limits out of the way (emulator at 1000x)")
    with (
        EmulatorServer(time_scale=1000, latency=0.0) as server,
        tempfile.TemporaryDirectory() as state_dir,
    ):
        report, wall, cpu = run_export(
            server.url, args.rows, time_scale=1000, membership="tag", state_dir=state_dir
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  exported {report.exported:,} of {report.rows_read:,} rows "  # type: ignore[attr-defined]
        f"({report.skipped:,} skipped) in {wall:.1f} s wall, {cpu:.1f} s CPU "  # type: ignore[attr-defined]
        f"in the exporting process; peak memory {peak_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("pace", "scale"))
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--time-scale", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--real-latency", action="store_true")
    parser.add_argument("--membership", choices=("both", "none", "tag"), default="both")
    args = parser.parse_args()
    if args.mode == "pace":
        args.rows = args.rows or 100_000
        pace(args)
    else:
        args.rows = args.rows or 1_000_000
        scale(args)


if __name__ == "__main__":
    main()
