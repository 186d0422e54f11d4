"""Mapping benchmark: rows per second and peak memory for a generated million-row segment.

Run from the repository root::

    python benchmarks/bench_mapping.py              # 1,000,000 rows, then the memory check
    python benchmarks/bench_mapping.py --rows 100000

Three figures, one core, time spent generating rows excluded (it is measured and shown apart):

1. mapping + validation: rows through ``RowMapper.map`` and the first-wins duplicate check;
2. the same + JSON encoding of every sent contact, in batches of 100, as the export engine sends
   them (orjson when installed, else the standard library: identical bytes);
3. for comparison, the convenience route: ``MappedRow.contact`` (a ``ContactInput``) encoded
   through the cattrs converter (``contact_to_json``).

Memory: each figure's run happens in a child process reporting its peak resident set size, for
``--rows`` and for a tenth of it, so a flat profile shows as equal peaks. The duplicate check keeps
one entry per distinct email (not per row); ``--no-dedupe`` shows the profile without it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402

from omnisend_sdk import _json  # noqa: E402
from omnisend_sdk._wire import contact_to_json  # noqa: E402
from omnisend_sdk.mapping import MappedRow, RowMapper  # noqa: E402
from omnisend_sdk.mapping._dedupe import keep_first  # noqa: E402

MAPPING = _segment_gen.MAPPING
CHUNK = 10_000
BATCH = 100


class Clock:
    """Time spent generating rows, to subtract from the measured total."""

    generating = 0.0


def timed_rows(count: int, clock: Clock) -> Iterator[tuple[int, dict[str, str]]]:
    """Numbered rows, generated a chunk at a time with the generation time recorded."""
    for start in range(0, count, CHUNK):
        began = time.perf_counter()
        chunk = list(enumerate(_segment_gen.rows(min(CHUNK, count - start), start), start))
        clock.generating += time.perf_counter() - began
        yield from chunk


def run(mode: str, count: int, dedupe: bool, stdlib_json: bool) -> dict[str, Any]:
    """One measured run in this process."""
    mapper = RowMapper.bind(MAPPING, _segment_gen.COLUMNS)
    clock = Clock()
    dumps = _json.stdlib_dumps if stdlib_json else _json.dumps
    gc.collect()
    began = time.perf_counter()
    mapped: Iterator[MappedRow] = (mapper.map(n, values) for n, values in timed_rows(count, clock))
    if dedupe:
        mapped = keep_first(mapped)
    sent = rejected = warned = encoded = 0
    if mode == "map":
        for row in mapped:
            if row.ok:
                sent += 1
            else:
                rejected += 1
            if row.issues:
                warned += 1
    else:
        ok = (row for row in mapped if row.ok)
        while batch := list(itertools.islice(ok, BATCH)):
            if mode == "encode":
                body = dumps([row.to_json() for row in batch])
            else:
                body = dumps([contact_to_json(row.contact, "2026-03-15") for row in batch])  # type: ignore[arg-type]
            encoded += len(body)
            sent += len(batch)
        rejected = count - sent
    elapsed = time.perf_counter() - began - clock.generating
    return {
        "mode": mode,
        "rows": count,
        "sent": sent,
        "rejected": rejected,
        "rows_per_second": count / elapsed,
        "seconds": elapsed,
        "generating_seconds": clock.generating,
        "encoded_mb": encoded / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(mode: str, count: int, dedupe: bool, stdlib_json: bool) -> dict[str, Any]:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    command = [sys.executable, __file__, "--child", mode, "--rows", str(count)]
    if not dedupe:
        command.append("--no-dedupe")
    if stdlib_json:
        command.append("--stdlib-json")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the segment")
    parser.add_argument("--no-dedupe", action="store_true", help="skip the duplicate check")
    parser.add_argument("--stdlib-json", action="store_true", help="encode with json, not orjson")
    parser.add_argument("--skip-contact", action="store_true", help="skip the cattrs route")
    parser.add_argument("--child", choices=("map", "encode", "contact"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    dedupe = not args.no_dedupe
    if args.child:
        print(json.dumps(run(args.child, args.rows, dedupe, args.stdlib_json)))
        return

    encoder = "json (stdlib)" if args.stdlib_json or _json.orjson is None else "orjson"
    print(
        f"Python {sys.version.split()[0]}, {args.rows:,} rows, encoder {encoder},"
        f" duplicate check {'on' if dedupe else 'off'}"
    )
    modes = [("map", "mapping + validation"), ("encode", f"+ JSON batches of {BATCH}")]
    if not args.skip_contact:
        modes.append(("contact", "ContactInput + cattrs + JSON (comparison)"))
    small = max(args.rows // 10, 1)
    print(
        f"{'':44} {'rows/s':>10} {'seconds':>8} {'sent':>10} {'peak MB':>8}"
        f" {'peak MB at ' + format(small, ','):>16}"
    )
    for mode, label in modes:
        full = child(mode, args.rows, dedupe, args.stdlib_json)
        tenth = child(mode, small, dedupe, args.stdlib_json)
        print(
            f"{label:44} {full['rows_per_second']:>10,.0f} {full['seconds']:>8.2f}"
            f" {full['sent']:>10,} {full['peak_rss_mb']:>8.1f} {tenth['peak_rss_mb']:>16.1f}"
        )
    print(f"(generating the rows took {full['generating_seconds']:.2f} s, not counted)")


if __name__ == "__main__":
    main()
