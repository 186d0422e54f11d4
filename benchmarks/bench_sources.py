"""Sources benchmark: a million-row segment from a CSV file, a Parquet file and a DuckDB query.

Run from the repository root (needs pyarrow and duckdb: ``pip install -e '.[dev]'``)::

    python benchmarks/bench_sources.py                 # 1,000,000 rows
    python benchmarks/bench_sources.py --rows 100000 --dir /tmp/segment   # keep the files
    python benchmarks/bench_sources.py --sources csv,parquet                # some sources only
    python benchmarks/bench_sources.py --duckdb-config threads=1,memory_limit=64MB

The segment is ``_segment_gen``'s (the eight seed fields, about 2% defective rows), written
once as a CSV file, a Parquet file (row groups of ``--row-group-rows``) and a table in a
DuckDB file and in a SQLite file; writing them is timed apart and not counted. Each source is
then measured twice:

- ``no SDK`` (Parquet, DuckDB, SQLite): the source's own library alone, in a process that does
  not import the SDK, each batch's values made Python objects a column at a time: the floor
  under the SDK's figures, in time and in memory;
- ``read``: the rows only, through ``open_source`` (what the source itself costs);
- ``read + map``: every row through ``map_rows`` with the benchmarks' ``ContactMapping``, the
  first-wins duplicate check included, as an export maps them. Parquet files, DuckDB relations
  and Arrow data hand ``map_rows`` their record batches, which it maps a column at a time
  (``omnisend_sdk.mapping._columnar``); ``--row-by-row`` measures beside it the same source with
  its batches hidden, mapped a row (a dict) at a time as before.

Sources: the CSV file (``CsvSource``: lines decoded and parsed one at a time, as
``csv.writer`` wrote them), the Parquet file (``ParquetSource``: record batches through
pyarrow), a DuckDB query as a relation (``con.sql(...)``: ``RelationSource``, Arrow record
batches) and as a cursor (``con.execute(...)``: ``CursorSource``, ``fetchmany``), a
SQLite query (a ``sqlite3`` cursor: ``CursorSource``), a pandas and a polars DataFrame
(``FrameSource``) and a list of dicts (``IterableSource``), each read from the Parquet file
before the clock starts, its memory counted in the peak, and a polars LazyFrame scanning the
file (``LazyFrameSource``).

Time is wall-clock time on one core for the Python side (pyarrow and DuckDB may use a second
core to decode); rows/CPU-s divides by the process's CPU time instead, every thread's, which a
busy machine disturbs less than the wall clock (on a quiet one the two differ by what DuckDB's
own threads add). Memory is the peak resident set size (``VmHWM``) of a fresh child process per
measurement, imports included; the resident size after the imports is shown beside it, so
the difference is what reading and mapping added. The duplicate check is ``map_rows``' default,
one compact entry per email (``CompactSeenEmails``: about 14 bytes an email sized up front,
17 for a source with no row count at a million, a record batch's emails looked up at once);
``--seen dict`` for ``InMemorySeenEmails``, a dict of the addresses (about 180 bytes an email).
"After imports" is Python and the SDK only: the source's library (pyarrow, DuckDB) is imported
by the measured run, and counts in its peak. "Of it code" is the part of the resident set
mapped from files at the end of the run (``RssFile``: the machine code and read-only data of
Python and the libraries, shared between processes); the rest is memory the process allocated.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402

from omnisend_sdk._constants import QUERY_FETCH_ROWS, SOURCE_CHUNK_ROWS  # noqa: E402
from omnisend_sdk.mapping import InMemorySeenEmails, SeenEmails, map_rows  # noqa: E402
from omnisend_sdk.sources import open_source  # noqa: E402

#: Rows generated and written at a time: bounded memory while the files are made.
WRITE_CHUNK = 100_000
#: DuckDB's own row group size: what a warehouse export written by DuckDB has.
DEFAULT_ROW_GROUP_ROWS = 122_880
SOURCES = {
    "csv": "CSV file (CsvSource, streamed)",
    "parquet": "Parquet file (record batches)",
    "duckdb-relation": "DuckDB query: con.sql() (Arrow)",
    "duckdb-cursor": "DuckDB query: con.execute() (fetchmany)",
    "sqlite-cursor": "SQLite query: sqlite3 cursor (fetchmany)",
    "pandas": "pandas DataFrame (from the Parquet file)",
    "polars": "polars DataFrame (from the Parquet file)",
    "polars-lazy": "polars LazyFrame (scan of the Parquet file)",
    "dicts": "a list of dicts (from the Parquet file)",
}
#: The sources held in memory, made before the clock starts (a LazyFrame is a plan, not rows).
FRAMES = ("pandas", "polars", "polars-lazy", "dicts")
#: The sources read from a query result: fetched in the SDK's query chunks, not its frame chunks.
CURSORS = ("duckdb-cursor", "sqlite-cursor")


def write_files(directory: Path, rows: int, row_group_rows: int) -> tuple[Path, Path]:
    """The segment as ``segment.parquet``, a ``segment`` table in ``segment.duckdb`` and in
    ``segment.sqlite``, and ``segment.csv``."""
    duckdb, pa, pq = map(importlib.import_module, ("duckdb", "pyarrow", "pyarrow.parquet"))
    parquet, database = directory / "segment.parquet", directory / "segment.duckdb"
    write_csv(directory / "segment.csv", rows)
    write_sqlite(directory / "segment.sqlite", directory / "segment.csv", rows)
    if parquet.exists() and pq.ParquetFile(parquet).metadata.num_rows == rows:
        return parquet, database  # made by an earlier run with the same --rows
    database.unlink(missing_ok=True)
    schema = pa.schema([(name, pa.string()) for name in _segment_gen.COLUMNS])
    with pq.ParquetWriter(parquet, schema) as writer:
        for start in range(0, rows, WRITE_CHUNK):
            chunk = list(_segment_gen.rows(min(WRITE_CHUNK, rows - start), start))
            columns = {name: [row[name] for row in chunk] for name in _segment_gen.COLUMNS}
            writer.write_table(pa.table(columns, schema=schema), row_group_size=row_group_rows)
    with duckdb.connect(str(database)) as db:
        db.execute(f"create table segment as select * from read_parquet('{parquet}')")
    return parquet, database


def write_sqlite(path: Path, csv_path: Path, rows: int) -> None:
    """The CSV file's rows as a ``segment`` table of text columns in a SQLite file."""
    if path.exists():
        with closing(sqlite3.connect(path)) as db:
            if db.execute("select count(*) from segment").fetchone() == (rows,):
                return  # made by an earlier run with the same --rows
    path.unlink(missing_ok=True)
    with csv_path.open(encoding="utf-8", newline="") as file, closing(sqlite3.connect(path)) as db:
        rows = csv.reader(file)
        names = next(rows)
        db.execute(f"create table segment ({', '.join(f'{name} text' for name in names)})")
        db.executemany(f"insert into segment values ({', '.join('?' * len(names))})", rows)
        db.commit()


def write_csv(path: Path, rows: int) -> None:
    """The segment as a CSV file (what csv.writer writes: CRLF, quoted where needed)."""
    marker = path.with_suffix(f".{rows}.rows")
    if path.exists() and marker.exists():
        return  # made by an earlier run with the same --rows
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(_segment_gen.COLUMNS)
        for start in range(0, rows, WRITE_CHUNK):
            for row in _segment_gen.rows(min(WRITE_CHUNK, rows - start), start):
                writer.writerow([row[name] for name in _segment_gen.COLUMNS])
    marker.touch()


def ready_frame(kind: str, directory: Path) -> Any:
    """For a source held in memory (a frame, a list of dicts), the segment read from the Parquet
    file before the clock starts (it is in memory before it is exported: its memory counts, its
    reading not); a LazyFrame scanning the file; ``None`` for the other sources."""
    path = directory / "segment.parquet"
    if kind == "dicts":
        return importlib.import_module("pyarrow.parquet").read_table(path).to_pylist()
    if kind == "pandas":
        return importlib.import_module("pandas").read_parquet(path)
    if kind not in FRAMES:
        return None
    polars = importlib.import_module("polars")
    return polars.scan_parquet(path) if kind == "polars-lazy" else polars.read_parquet(path)


def open_segment(
    kind: str, directory: Path, chunk_rows: int, duckdb_config: str = "", frame: Any = None
) -> Any:
    """The source to measure; a DuckDB query reads the table in stored order (no ORDER BY).

    Libraries are imported here, not at the top, so that each child loads only what its
    source needs (as a real run would), and its peak memory counts that import.
    """
    if kind == "dicts":
        return open_source(frame)  # its runs are the SDK's, not chunks of a size given
    if kind in FRAMES:
        return open_source(frame, chunk_rows=chunk_rows)
    if kind == "csv":
        return open_source(directory / "segment.csv")
    if kind == "parquet":
        return open_source(directory / "segment.parquet", chunk_rows=chunk_rows)
    if kind == "sqlite-cursor":
        db = sqlite3.connect(directory / "segment.sqlite")
        return open_source(db.execute("select * from segment"), chunk_rows=chunk_rows)
    duckdb = importlib.import_module("duckdb")
    db = duckdb.connect(
        str(directory / "segment.duckdb"), read_only=True, config=config_of(duckdb_config)
    )
    query = "select * from segment"
    result = db.sql(query) if kind == "duckdb-relation" else db.execute(query)
    return open_source(result, chunk_rows=chunk_rows)


class RowByRow:
    """A source with its record batches hidden: ``map_rows`` maps it a row at a time."""

    def __init__(self, source: Any) -> None:
        self.columns, self.row_count, self.reiterable = (
            source.columns,
            source.row_count,
            source.reiterable,
        )
        self._source = source

    def __iter__(self) -> Iterator[Any]:
        return iter(self._source)


def chunk_rows_of(kind: str, args: argparse.Namespace) -> int:
    """Rows a chunk for the source: ``--chunk-rows``, or the SDK's default for its kind."""
    if args.chunk_rows is not None:
        return int(args.chunk_rows)
    return QUERY_FETCH_ROWS if kind in CURSORS else SOURCE_CHUNK_ROWS


def seen_emails(kind: str) -> SeenEmails | None:
    """The duplicate check's memory of emails (``None``: ``map_rows``' default)."""
    return InMemorySeenEmails() if kind == "dict" else None


def config_of(settings: str) -> dict[str, str]:
    """``--duckdb-config``'s ``name=value,name=value`` as DuckDB's ``connect(config=...)``."""
    pairs = (setting.split("=", 1) for setting in settings.split(",") if setting)
    return {name.strip(): value.strip() for name, value in pairs}


def status_mb(field: str) -> float | None:
    """A size in kB from ``/proc/self/status`` (``VmHWM``, ``RssFile``...), in MB; ``None``
    where there is no such file (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` over from the parent across
    fork and exec, so a child started by a big parent would report the parent's size.
    """
    peak = status_mb("VmHWM")
    if peak is None:  # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def file_backed_mb() -> float | None:
    """This process's resident pages mapped from files, in MB (``RssFile``: the code and data
    of Python and the libraries loaded, which processes share), or ``None`` off Linux. Memory
    stays flat while a source is read, so at the end it is the file-backed part of the peak."""
    return status_mb("RssFile")


def measure(kind: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in this process: read (and map) the whole source once."""
    imported = peak_rss_mb()
    frame = ready_frame(kind, args.dir)
    began, began_cpu = time.perf_counter(), time.process_time()
    source = open_segment(kind, args.dir, chunk_rows_of(kind, args), args.duckdb_config, frame)
    sent = rejected = 0
    if mode == "read":
        rows: Iterator[Any] = iter(source)
        for _ in rows:
            sent += 1
    else:
        seen = seen_emails(args.seen)
        if mode == "rows":
            source = RowByRow(source)
        for mapped in map_rows(_segment_gen.MAPPING, source, seen=seen):
            if mapped.ok:
                sent += 1
            else:
                rejected += 1
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - began_cpu
    return {
        "rows": sent + rejected,
        "sent": sent,
        "rejected": rejected,
        "seconds": elapsed,
        "rows_per_second": (sent + rejected) / elapsed,
        "rows_per_cpu_second": (sent + rejected) / cpu,
        "imports_rss_mb": imported,
        "peak_rss_mb": peak_rss_mb(),
        "file_backed_mb": file_backed_mb(),
    }


#: What a process does to read each source with its own library only, no SDK imported: every
#: batch's values made Python objects a column at a time, as the mapping needs them.
LIBRARY_ONLY = {
    "parquet": """
import pyarrow.parquet as pq
file = pq.ParquetFile(DIR + "/segment.parquet", pre_buffer=False, buffer_size=1 << 20)
for batch in file.iter_batches(batch_size=CHUNK, use_threads=False):
    ROWS += batch.num_rows
    values = [column.to_pylist() for column in batch.columns]
""",
    "duckdb-relation": """
import duckdb
db = duckdb.connect(DIR + "/segment.duckdb", read_only=True, config=CONFIG)
for batch in db.sql("select * from segment").to_arrow_reader(CHUNK):
    ROWS += batch.num_rows
    values = [column.to_pylist() for column in batch.columns]
""",
    "duckdb-cursor": """
import duckdb
db = duckdb.connect(DIR + "/segment.duckdb", read_only=True, config=CONFIG)
cursor = db.execute("select * from segment")
while chunk := cursor.fetchmany(CHUNK):
    ROWS += len(chunk)
""",
    "sqlite-cursor": """
import sqlite3
cursor = sqlite3.connect(DIR + "/segment.sqlite").execute("select * from segment")
while chunk := cursor.fetchmany(CHUNK):
    ROWS += len(chunk)
""",
}
LIBRARY_ONLY_FRAME = """
import json, time
began, began_cpu = time.perf_counter(), time.process_time()
DIR, CHUNK, CONFIG, ROWS = {directory!r}, {chunk}, {config!r}, 0
{body}
seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({{
    "rows": ROWS, "sent": ROWS, "seconds": seconds, "rows_per_second": ROWS / seconds,
    "rows_per_cpu_second": ROWS / cpu, "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
    "imports_rss_mb": None, "file_backed_mb": int(status["RssFile"].split()[0]) / 1024,
}}))
"""


def library_only(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Read the source with its library alone in a fresh process: the floor under the SDK."""
    code = LIBRARY_ONLY_FRAME.format(
        directory=str(args.dir),
        chunk=chunk_rows_of(kind, args),
        config=config_of(args.duckdb_config),
        body=LIBRARY_ONLY[kind],
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return last_json(output)


def last_json(output: str) -> dict[str, Any]:
    """The result a child printed last (DuckDB may draw a progress bar on stdout before it)."""
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def child(kind: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measurement in a fresh process, so its peak memory is its own."""
    command = [
        sys.executable, __file__, "--child", kind, mode, "--dir", str(args.dir),
        "--rows", str(args.rows), "--chunk-rows", str(chunk_rows_of(kind, args)),
        "--seen", args.seen, "--duckdb-config", args.duckdb_config,
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return last_json(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the segment")
    parser.add_argument("--dir", type=Path, help="where the files are written (kept)")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        help=f"rows per chunk read (default: the SDK's, {SOURCE_CHUNK_ROWS:,} and"
        f" {QUERY_FETCH_ROWS:,} for a query result)",
    )
    parser.add_argument("--row-group-rows", type=int, default=DEFAULT_ROW_GROUP_ROWS)
    parser.add_argument("--seen", choices=("compact", "dict"), default="compact")
    parser.add_argument(
        "--duckdb-config",
        default="",
        help="DuckDB settings for its connections, e.g. threads=1,memory_limit=64MB",
    )
    parser.add_argument(
        "--row-by-row",
        action="store_true",
        help="also map each source a row at a time, its record batches hidden (as before)",
    )
    parser.add_argument(
        "--sources", default=",".join(SOURCES), help=f"which to measure, of {','.join(SOURCES)}"
    )
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args)))
        return
    with tempfile.TemporaryDirectory(prefix="bench_sources_") as scratch:
        args.dir = args.dir or Path(scratch)
        args.dir.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        chunks = "the SDK's" if args.chunk_rows is None else f"{args.chunk_rows:,}"
        write_files(args.dir, args.rows, args.row_group_rows)
        print(
            f"Python {sys.version.split()[0]}, {args.rows:,} rows, chunks of {chunks},"
            f" Parquet row groups of {args.row_group_rows:,}, duplicate check {args.seen!r}"
            f" (files ready in {time.perf_counter() - began:.1f} s, not counted)"
        )
        print(
            f"{'source':42} {'':10} {'rows/s':>9} {'seconds':>8} {'rows/CPU-s':>10} {'sent':>9}"
            f" {'peak RSS MB':>11} {'after imports':>13} {'of it code':>10}"
        )
        for kind in args.sources.split(","):
            label = SOURCES[kind]
            modes = {"read": "read", "read + map": "map"}
            if kind in LIBRARY_ONLY:
                modes = {"no SDK": "library", **modes}
            if args.row_by_row:
                modes["row by row"] = "rows"
            for mode, measured in modes.items():
                if measured == "library":
                    result = library_only(kind, args)
                else:
                    result = child(kind, measured, args)
                imported, code = result["imports_rss_mb"], result["file_backed_mb"]
                imports = "-" if imported is None else f"{imported:.1f}"
                code_mb = "-" if code is None else f"{code:.1f}"
                print(
                    f"{label:42} {mode:10} {result['rows_per_second']:>9,.0f}"
                    f" {result['seconds']:>8.2f} {result['rows_per_cpu_second']:>10,.0f}"
                    f" {result['sent']:>9,}"
                    f" {result['peak_rss_mb']:>11.1f} {imports:>13} {code_mb:>10}"
                )


if __name__ == "__main__":
    main()
