"""The duplicate check's table alone: time a key and memory, sized up front or growing.

Run from the repository root::

    python benchmarks/bench_first_rows.py                 # a million keys
    python benchmarks/bench_first_rows.py --keys 200000 --repeat 3

``FirstRowTable`` is what ``map_rows()``' default duplicate check (``CompactSeenEmails``) and a
refresh's first pass keep the first row of each email in. Each line is one fresh process that
builds a million 64-bit keys (one in a hundred a repeat of an earlier one, as duplicates are),
then records them in the table:

- **counted**: the table sized up front for the keys, as for a file or frame whose row count is
  known; batches of 2,048 keys, as a record batch's emails are looked up;
- **growing**: no size given, as for a query result or a generator: the table grows as keys come;
- **one by one**: growing, a key a call, as a source mapped a row at a time records them.

The time is CPU time per key, the caches left as a mapping run leaves them (a few MB of other data
touched between batches; without that the lookups run faster than they do in a run). Memory is
the process's peak resident size above its size before the table was made (``VmHWM``; Linux),
and the size at the end: a growing table's peak is where it held the most at once.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from omnisend_sdk.mapping import FirstRowTable  # noqa: E402

#: Keys looked up at once, as a query result's chunk of rows is.
BATCH = 2_048
#: Data touched between batches, so that the table's arrays are not all in the caches, as in a
#: mapping run whose rows and contacts pass through them in between.
OTHER_WORK_BYTES = 8 << 20
MODES = ("counted", "growing", "one by one")


def status_mb(field: str) -> float:
    """A ``/proc/self/status`` figure, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def keys_of(count: int) -> list[int]:
    """``count`` keys as Python's string hash gives them (signed 64-bit), 1 in 100 repeated."""
    generator = random.Random(1)
    keys = [generator.getrandbits(64) - 2**63 for _ in range(count)]
    for index in range(100, count, 100):
        keys[index] = keys[generator.randrange(index)]
    return keys


def measure(mode: str, count: int) -> dict[str, float]:
    """Record ``count`` keys in a fresh table; this process's figures."""
    keys = keys_of(count)
    batches = [keys[start : start + BATCH] for start in range(0, count, BATCH)]
    other_work = bytearray(OTHER_WORK_BYTES)
    zeros = bytes(len(other_work[::64]))
    before = status_mb("VmRSS")
    spent = 0.0
    table = FirstRowTable(count if mode == "counted" else 0)
    first = 0
    for batch in batches:
        other_work[::64] = zeros  # a byte of each cache line
        began = time.process_time()
        if mode == "one by one":
            record = table.first_row_of
            for row, key in enumerate(batch, first):
                record(key, row)
        else:
            table.first_rows_of(batch, first)
        spent += time.process_time() - began
        first += len(batch)
    return {
        "us_a_key": spent / count * 1e6,
        "peak_mb": status_mb("VmHWM") - before,
        "end_mb": status_mb("VmRSS") - before,
        "distinct": len(table),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.keys)))
        return
    print(f"{args.keys:,} keys, batches of {BATCH:,}")
    print(f"{'table':12} {'µs a key':>9} {'peak MB':>8} {'end MB':>7} {'distinct':>10}")
    for mode in MODES:
        for _ in range(args.repeat):
            command = [sys.executable, __file__, "--child", mode, "--keys", str(args.keys)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(output)
            print(
                f"{mode:12} {result['us_a_key']:9.3f} {result['peak_mb']:8.1f}"
                f" {result['end_mb']:7.1f} {result['distinct']:10,}"
            )


if __name__ == "__main__":
    main()
