"""Mapping benchmark: rows per second and peak memory for a generated million-row segment.

Run from the repository root::

    python benchmarks/bench_mapping.py              # 1,000,000 rows, then the memory check
    python benchmarks/bench_mapping.py --rows 100000
    python benchmarks/bench_mapping.py --phones libphonenumber   # + a phone in every row

Three figures, one core, time spent generating rows excluded (it is measured and shown apart):

1. mapping + validation: rows through ``RowMapper.map`` and the first-wins duplicate check;
2. the same + JSON encoding of every sent contact, in batches of 100, as the export engine sends
   them (orjson when installed, else the standard library: identical bytes);
3. for comparison, the convenience route: ``MappedRow.contact`` (a ``ContactInput``) encoded
   through the cattrs converter (``contact_to_json``).

``--phones builtin`` or ``--phones libphonenumber`` adds a phone number to every row (national
numbers read with the row's country, international ones; about four in five valid) and maps it with
the built-in rules or with libphonenumber (the ``phones`` extra), to show what validating phones
costs.

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

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402

from omnisend_sdk import _json  # noqa: E402
from omnisend_sdk._wire import contact_to_json  # noqa: E402
from omnisend_sdk.mapping import MappedRow, RowMapper, _phone  # noqa: E402
from omnisend_sdk.mapping._dedupe import keep_first  # noqa: E402

MAPPING = _segment_gen.MAPPING
CHUNK = 10_000
BATCH = 100


class Clock:
    """Time spent generating rows, to subtract from the measured total."""

    generating = 0.0


#: A number's leading digits in each of the segment's countries (a mobile range, or an area
#: code), its calling code and its national length; the rest of the digits come from the row.
PHONE_PLANS = {
    "US": ("1", "415", 10), "GB": ("44", "75", 10), "DE": ("49", "17", 10),
    "LT": ("370", "6", 8), "FR": ("33", "6", 9), "IT": ("39", "3", 10), "ES": ("34", "6", 9),
    "CZ": ("420", "6", 9), "CA": ("1", "416", 10), "AU": ("61", "4", 9), "NL": ("31", "6", 9),
    "PL": ("48", "5", 9),
}  # fmt: skip
#: The segment's country spellings, by ISO code.
COUNTRY_CODES = {
    "United States": "US", "USA": "US", "US": "US", "United Kingdom": "GB", "UK": "GB",
    "Germany": "DE", "Deutschland": "DE", "DE": "DE", "Lithuania": "LT", "LT": "LT",
    "France": "FR", "Italy": "IT", "Spain": "ES", "Czechia": "CZ", "Canada": "CA",
    "Australia": "AU", "Netherlands": "NL", "Poland": "PL",
}  # fmt: skip


def phone(i: int, country: str) -> str:
    """Row ``i``'s phone: national or international, one in twenty made up (deterministic)."""
    calling, prefix, length = PHONE_PLANS[COUNTRY_CODES.get(country, "US")]
    # Never a 0 or 1 after the prefix: North American exchanges start with 2 to 9.
    digits = f"{2 + i % 8}{(i * 7_919) % 10 ** (length - 1):0{length - 1}d}"
    number = digits if i % 20 == 0 else (prefix + digits)[:length]
    if i % 3 == 0:
        return f"+{calling} {number}"
    trunk = "" if calling == "1" else "0"
    return f"{trunk}{number}"


def timed_rows(
    count: int, clock: Clock, *, phones: bool = False
) -> Iterator[tuple[int, dict[str, str]]]:
    """Numbered rows, generated a chunk at a time with the generation time recorded."""
    for start in range(0, count, CHUNK):
        began = time.perf_counter()
        chunk = list(enumerate(_segment_gen.rows(min(CHUNK, count - start), start), start))
        if phones:
            for i, values in chunk:
                values["Phone"] = phone(i, values["Country"])
        clock.generating += time.perf_counter() - began
        yield from chunk


def run(mode: str, count: int, dedupe: bool, stdlib_json: bool, phones: str) -> dict[str, Any]:
    """One measured run in this process."""
    mapping, columns = MAPPING, _segment_gen.COLUMNS
    if phones != "none":
        mapping, columns = attrs.evolve(MAPPING, phone="Phone"), (*columns, "Phone")
        if phones == "builtin":
            _phone.libphonenumber_rules = lambda: None  # the detection hook: as if not installed
        elif _phone.libphonenumber_rules() is None:
            raise SystemExit("--phones libphonenumber needs: pip install 'omnisend-sdk[phones]'")
    mapper = RowMapper.bind(mapping, columns)
    clock = Clock()
    dumps = _json.stdlib_dumps if stdlib_json else _json.dumps
    gc.collect()
    began = time.perf_counter()
    rows = timed_rows(count, clock, phones=phones != "none")
    mapped: Iterator[MappedRow] = (mapper.map(n, values) for n, values in rows)
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


def child(mode: str, count: int, dedupe: bool, stdlib_json: bool, phones: str) -> dict[str, Any]:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    command = [sys.executable, __file__, "--child", mode, "--rows", str(count), "--phones", phones]
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
    parser.add_argument(
        "--phones",
        choices=("none", "builtin", "libphonenumber"),
        default="none",
        help="add a phone to every row, validated by these rules (default: no phones)",
    )
    parser.add_argument("--child", choices=("map", "encode", "contact"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    dedupe = not args.no_dedupe
    if args.child:
        print(json.dumps(run(args.child, args.rows, dedupe, args.stdlib_json, args.phones)))
        return

    encoder = "json (stdlib)" if args.stdlib_json or _json.orjson is None else "orjson"
    print(
        f"Python {sys.version.split()[0]}, {args.rows:,} rows, encoder {encoder},"
        f" duplicate check {'on' if dedupe else 'off'}, phones {args.phones}"
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
        full = child(mode, args.rows, dedupe, args.stdlib_json, args.phones)
        tenth = child(mode, small, dedupe, args.stdlib_json, args.phones)
        print(
            f"{label:44} {full['rows_per_second']:>10,.0f} {full['seconds']:>8.2f}"
            f" {full['sent']:>10,} {full['peak_rss_mb']:>8.1f} {tenth['peak_rss_mb']:>16.1f}"
        )
    print(f"(generating the rows took {full['generating_seconds']:.2f} s, not counted)")


if __name__ == "__main__":
    main()
