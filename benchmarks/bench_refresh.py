"""Refresh benchmark: a full export of a segment, then a refresh of it with 1% churn.

Run from the repository root::

    python benchmarks/bench_refresh.py                    # 1,000,000 rows, 1% churn
    python benchmarks/bench_refresh.py --rows 100000      # a quick run (a couple of minutes)
    python benchmarks/bench_refresh.py --breakdown        # + the first pass stage by stage
    python benchmarks/bench_refresh.py --sqlite           # the rows of a query on a SQLite file
    python benchmarks/bench_refresh.py --pandas           # a pandas DataFrame of the segment
    python benchmarks/bench_refresh.py --polars           # a polars DataFrame of the segment
    python benchmarks/bench_refresh.py --rows 200000 --profile   # + that and cProfile of it

The goal (issue 10): after a full export of a 1,000,000-member segment, a refresh with 1% churn
(0.5% of the rows changed, 0.25% new, 0.25% left) must use at most 2% of the full export's
requests, spend its time reading and diffing at 150,000 rows/s or more on one core, and peak at
150 MB of memory or less.

How it runs:

- The segment is a CSV file on disk, generated from ``_segment_gen`` (about 2% of its rows carry a
  defect). The churn only touches clean rows, so the expected counts are exact: changed rows get
  another street, left rows are dropped, new rows (fresh clean rows of the generator) are spread
  evenly through the file. The churned file replaces the first one at the same path, as a
  scheduled refresh would find it.
- The emulator runs in its own process (``bench_export.EmulatorServer``, started here with a
  command that can also report the emulator's request log), its clock ``--time-scale`` times
  faster, the client's limiter scaled the same way, so rate limits are out of the way.
- The full export and the refresh each run in a fresh child process, with membership tags on and
  the state in a temporary ``state_dir``. Peak memory is that child's
  ``getrusage(RUSAGE_SELF).ru_maxrss`` (peak RSS, imports included; the figure after the imports
  is printed too). Phases are timed by wrapping ``prepare_run`` (the first pass) and its parts,
  ``check_count_first`` (the count read an export makes with ``on_limit="fail"``; a refresh
  counts in its first pass), ``Engine.run`` and
  ``untag_leavers`` in that child; CPU time is ``time.process_time()`` (every thread).
- ``--breakdown`` then rebuilds the first pass stage by stage without a profiler (each stage one
  more whole pass over the churned CSV, against a copy of the state taken before the refresh);
  ``--profile`` also reruns the same refresh from that copy with its first pass under cProfile.
  Both use the SDK's internals and may need updating when those change.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import functools
import hashlib
import importlib
import json
import os
import platform
import pstats
import random
import re
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402
from bench_export import EmulatorServer  # noqa: E402

from omnisend_sdk import OmnisendClient, RateLimiter, _json, export_segment  # noqa: E402
from omnisend_sdk._constants import DEFAULT_API_VERSION  # noqa: E402
from omnisend_sdk.export import _api, _refresh  # noqa: E402
from omnisend_sdk.export._admission import Admission  # noqa: E402
from omnisend_sdk.export._engine import Engine  # noqa: E402
from omnisend_sdk.export._journal import Journal, read_members  # noqa: E402
from omnisend_sdk.export._limits import ExportLimits  # noqa: E402
from omnisend_sdk.export._members import body_fingerprint  # noqa: E402
from omnisend_sdk.export._seen import SeenEmailKeys  # noqa: E402
from omnisend_sdk.export._settings import ExportSettings  # noqa: E402
from omnisend_sdk.mapping import Row, RowMapper, map_rows  # noqa: E402
from omnisend_sdk.mapping._records import record_fingerprinter  # noqa: E402
from omnisend_sdk.sources import CsvSource, open_source  # noqa: E402
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator  # noqa: E402

SEGMENT = "Benchmark"
MAPPING = _segment_gen.MAPPING
#: The goal's figures.
MAX_REQUEST_SHARE = 0.02
MIN_ROWS_PER_SECOND = 150_000
MAX_PEAK_MB = 150
#: Rows ``i`` with ``i % 50`` in (48, 49) are defects or the row a defect duplicates: churn
#: avoids them.
_CLEAN = _segment_gen.DEFECT_EVERY - 2
#: What a changed row gets: another street, so its body (and fingerprint) differ.
CHANGED_SUFFIX = " Apt 2"
REPORT_FIELDS = (
    "status",
    "rows_read",
    "created",
    "updated",
    "upserted",
    "invalid",
    "duplicates",
    "over_limit",
    "failed",
    "not_sent",
    "tagged",
    "tag_failed",
    "refresh",
    "new",
    "changed",
    "unchanged",
    "exited",
    "untagged",
    "untag_failed",
    "requests",
    "retries",
    "rate_limited",
    "batches",
)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the segment and its churn ------------------------------------------------------------------


def _clean_index(k: int) -> int:
    """The ``k``-th clean row of the generator."""
    return (k // _CLEAN) * _segment_gen.DEFECT_EVERY + k % _CLEAN


def _clean_count(rows: int) -> int:
    whole, rest = divmod(rows, _segment_gen.DEFECT_EVERY)
    return whole * _CLEAN + min(rest, _CLEAN)


class Churn:
    """Which rows change, leave and join: ``churn`` of the rows, half changed, a quarter each."""

    def __init__(self, rows: int, churn: float, seed: int = 10) -> None:
        self.n_changed = round(rows * churn * 0.5)
        self.n_left = round(rows * churn * 0.25)
        self.n_new = round(rows * churn * 0.25)
        picked = random.Random(seed).sample(range(_clean_count(rows)), self.n_changed + self.n_left)
        self.changed = frozenset(_clean_index(k) for k in picked[: self.n_changed])
        self.left = frozenset(_clean_index(k) for k in picked[self.n_changed :])
        # New rows: the generator's next clean rows, after the segment's last one.
        first = _clean_count(rows)
        self.new = [_clean_index(first + j) for j in range(self.n_new)]
        assert all(i >= rows for i in self.new)
        # Spread evenly: new row j goes after original row inserts[j].
        self.inserts = [(j + 1) * rows // (self.n_new + 1) for j in range(self.n_new)]

    def rows(self, rows: int) -> Iterator[dict[str, str]]:
        """The churned segment."""
        inserts = iter(zip(self.inserts, self.new, strict=True))
        pending = next(inserts, None)
        for i in range(rows):
            if i not in self.left:
                values = _segment_gen.row(i)
                if i in self.changed:
                    values["Street"] += CHANGED_SUFFIX
                yield values
            while pending is not None and pending[0] == i:
                yield _segment_gen.row(pending[1])
                pending = next(inserts, None)


# --- the emulator, in its own process, with its request log -------------------------------------


def _path_family(path: str) -> str:
    # /batches/6650a.../items -> /batches/{id}/items
    return "/".join("{id}" if re.search(r"\d", part) else part for part in path.split("/"))


def serve_main(args: argparse.Namespace) -> None:
    """The emulator's process: serves until stdin closes; ``log`` prints a snapshot as JSON."""
    emulator = OmnisendEmulator(time_scale=args.time_scale, seed=1)
    with emulator.serve() as url:
        print(url, flush=True)
        for line in sys.stdin:
            if line.strip() != "log":
                continue
            time.sleep(0.2)  # let deferred tag changes (2 emulator seconds) fall due
            stats = emulator.stats  # runs the deferred work due by now
            families: dict[str, int] = {}
            statuses: dict[str, int] = {}
            for record in emulator.requests:
                key = f"{record.family}: {record.method} {_path_family(record.path)}"
                families[key] = families.get(key, 0) + 1
                statuses[str(record.status)] = statuses.get(str(record.status), 0) + 1
            # The emulator offers no count of the contacts wearing a tag short of rendering every
            # contact (slow at a million): read its state directly, under its lock.
            with emulator._app.lock:
                contacts = emulator._state.contacts.values()
                tagged = sum(1 for c in contacts if args.tag in c.tags)
                changed = sum(
                    1
                    for c in contacts
                    if str(c.profile.get("address", "")).endswith(CHANGED_SUFFIX)
                )
                total = len(contacts)
            snapshot = {
                "requests": families,
                "statuses": statuses,
                "contacts": total,
                "tagged": tagged,
                "changed_street": changed,
                "contacts_created": stats.contacts_created,
                "contacts_updated": stats.contacts_updated,
                "rate_limited": stats.rate_limited,
            }
            print(json.dumps(snapshot), flush=True)


def settle(server: EmulatorServer, *, quiet: float = 1.0, limit: float = 120.0) -> float:
    """Wait until the emulator's process is idle: the export's deferred work (tags applied two
    emulator seconds later, batches finished) would otherwise run on the other CPU during the
    refresh and slow it, which a refresh run on its schedule, hours later, never meets.

    The files just written (the churned CSV, the state) are flushed to disk first, for the same
    reason: the kernel writes them back on another CPU within half a minute otherwise.

    Returns the seconds waited.
    """
    began = time.perf_counter()
    os.sync()
    used = server.cpu_seconds()
    while time.perf_counter() - began < limit:
        time.sleep(quiet)
        now = server.cpu_seconds()
        if now - used < 0.05 * quiet:  # under 5% of a CPU: idle but for its clock
            break
        used = now
    return time.perf_counter() - began


class LoggedEmulatorServer(EmulatorServer):
    """``bench_export.EmulatorServer``, started with :func:`serve_main` to read its request log."""

    def __init__(self, *, time_scale: float) -> None:
        command = [sys.executable, __file__, "_serve", "--time-scale", str(time_scale)]
        command += ["--tag", SEGMENT]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("the emulator process did not start")

    def snapshot(self) -> dict[str, Any]:
        """The emulator's request log by family, and its contacts, as of now."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write("log\n")
        self._process.stdin.flush()
        return json.loads(self._process.stdout.readline())  # type: ignore[no-any-return]

    def __enter__(self) -> LoggedEmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        super().__exit__(*exc)


# --- one run (an export or a refresh) in its own process ----------------------------------------


class Phases:
    """Wall and CPU seconds spent in the wrapped functions, in the child process."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.rss_after: dict[str, float] = {}

    def add(self, name: str, wall: float, cpu: float) -> None:
        total = self.times.setdefault(name, [0.0, 0.0, 0])
        total[0] += wall
        total[1] += cpu
        total[2] += 1
        self.rss_after[name] = _maxrss_mb()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

        return timed

    def wrap_async(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return await function(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

        return timed


def run_main(args: argparse.Namespace) -> None:
    """The child: one export_segment() call, its phases timed; prints a RESULT line of JSON."""
    rss_imports = _maxrss_mb()
    phases = Phases()
    profiler = cProfile.Profile() if args.profile else None
    prepare_run = getattr(_api, "prepare_run")  # noqa: B009 - not re-exported

    def first_pass(*a: Any, **k: Any) -> Any:
        if profiler is None:
            return prepare_run(*a, **k)
        profiler.enable()
        try:
            return prepare_run(*a, **k)
        finally:
            profiler.disable()

    # Wrapped where they are looked up: prepare_run and untag_leavers by _api, diff_source and
    # check_count_first by prepare_run (in _refresh), the methods on their classes.
    setattr(_api, "prepare_run", phases.wrap("prepare_run", first_pass))  # noqa: B010
    for owner, name, label in (
        (_refresh, "check_count_first", "count_rows"),
        (_refresh, "diff_source", "read_and_diff"),
        (Journal, "member_index", "member_index"),
        (Journal, "add_work", "add_work"),
        (Journal, "refresh_planned", "refresh_planned"),
    ):
        setattr(owner, name, phases.wrap(label, getattr(owner, name)))
    setattr(Engine, "run", phases.wrap_async("engine", Engine.run))  # noqa: B010
    untag = getattr(_api, "untag_leavers")  # noqa: B009 - not re-exported
    setattr(_api, "untag_leavers", phases.wrap_async("untag", untag))  # noqa: B010

    limiter = RateLimiter(window=60.0 / args.time_scale)
    source: Any = args.csv
    # A frame is in memory before its export: read before the clock starts.
    if args.pandas:
        source = importlib.import_module("pandas").read_parquet(args.csv)
    if args.polars:
        source = importlib.import_module("polars").read_parquet(args.csv)
    wall, cpu = time.perf_counter(), time.process_time()
    if args.csv.endswith(".sqlite3"):  # --sqlite: the rows of a query, in stored order
        database = sqlite3.connect(args.csv, check_same_thread=False)
        source = database.execute("select * from segment order by rowid")
    with OmnisendClient(EMULATOR_API_KEY, base_url=args.url, rate_limiter=limiter) as client:
        report = export_segment(
            source,
            MAPPING,
            client=client,
            segment=SEGMENT,
            membership="tag",
            state_dir=args.state_dir,
            progress=None,
            max_profiles=max(2 * args.rows, 1),  # the cap out of the way
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.dump_stats(args.profile)
    result = {
        "report": {name: getattr(report, name) for name in REPORT_FIELDS},
        "wall": wall,
        "cpu": cpu,
        "phases": phases.times,
        "rss_after": phases.rss_after,
        "rss_imports": rss_imports,
        "rss_peak": _maxrss_mb(),
    }
    print("RESULT " + json.dumps(result), flush=True)


def breakdown_main(args: argparse.Namespace) -> None:
    """The child of ``--profile``: the first pass rebuilt stage by stage, without a profiler.

    Each line is one whole pass over the churned CSV doing one stage more than the line before,
    so the differences are each stage's cost per row (CPU time, this process).
    """
    (state_file,) = Path(args.state_dir).glob("exports/*.sqlite")
    limits = ExportLimits(max_profiles=max(2 * args.rows, 1))
    version = DEFAULT_API_VERSION
    dumps = _json.dumps

    def read() -> int:
        return sum(1 for _ in open_source(args.csv))

    def plain_lines() -> int:
        source = open_source(args.csv)
        assert isinstance(source, CsvSource)
        return sum(1 if isinstance(item, Row) else len(item.lines) for item in source.runs())

    def fingerprinted() -> int:
        source = open_source(args.csv)
        mapper = RowMapper.bind(MAPPING, source.columns)
        fingerprint = record_fingerprinter(mapper, version, source.columns)
        assert fingerprint is not None
        return sum(1 for _, values, _ in source if values is not None and fingerprint(values))

    def members() -> Any:
        return read_members(state_file, SEGMENT)

    def first_pass() -> int:
        settings = ExportSettings.from_options(None, max_profiles=max(2 * args.rows, 1))
        read = _refresh.diff_source(
            open_source(args.csv),
            MAPPING,
            settings,
            members(),
            segment_tag=SEGMENT,
            api_version=version,
        )
        return read.tally.rows_read

    def mapped() -> int:
        return sum(1 for _ in map_rows(MAPPING, open_source(args.csv), seen=SeenEmailKeys()))

    def encoded() -> int:
        admission, count = Admission(limits), 0
        for row in map_rows(MAPPING, open_source(args.csv), seen=SeenEmailKeys()):
            count += 1
            if admission.decide(row).outcome == "send":
                body_fingerprint(dumps(row.to_json(version)))
        return count

    stages = (
        ("read the CSV as rows (iterate CsvSource)", read),
        ("read the CSV as plain lines (CsvSource.runs)", plain_lines),
        ("read the CSV as rows, fingerprint each record", fingerprinted),
        ("load the member index (read_members)", members),
        ("the first pass (diff_source, its member index loaded)", first_pass),
        ("for comparison: map every row (map_rows + SeenEmailKeys)", mapped),
        ("for comparison: + admission, encode, fingerprint every row", encoded),
    )
    results = []
    for label, stage in stages:
        cpu = time.process_time()
        stage()
        results.append((label, time.process_time() - cpu))
    print("RESULT " + json.dumps(results), flush=True)


def _as_parquet(csv_path: Path) -> Path:
    """The CSV segment as a Parquet file beside it, every column text (as the CSV reads it).

    Converted in a child process: pyarrow would take this process to 160 MB, and a child
    process's peak RSS starts from its parent's (Linux keeps it across exec).
    """
    path = csv_path.with_suffix(".parquet")
    began = time.perf_counter()
    command = [sys.executable, __file__, "_parquet", "--csv", str(csv_path), "--out", str(path)]
    rows = _child_result("parquet", command)
    print(
        f"  {path.name}: {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB "
        f"(converted in {time.perf_counter() - began:.1f} s)"
    )
    return path


def _as_sqlite(csv_path: Path) -> Path:
    """The CSV segment as a ``segment`` table of a SQLite file beside it (made anew), every
    column text, in the file's order."""
    path = csv_path.with_suffix(".sqlite3")
    path.unlink(missing_ok=True)
    began = time.perf_counter()
    with csv_path.open(newline="", encoding="utf-8") as file, sqlite3.connect(path) as database:
        reader = csv.reader(file)
        header = next(reader)
        names = ", ".join(f'"{name}" text' for name in header)
        database.execute(f"create table segment ({names})")
        marks = ", ".join("?" * len(header))
        database.executemany(f"insert into segment values ({marks})", reader)
    database.close()
    print(
        f"  {path.name}: {path.stat().st_size / 1e6:.0f} MB "
        f"(written in {time.perf_counter() - began:.1f} s)"
    )
    return path


def parquet_main(args: argparse.Namespace) -> None:
    """The child of ``--parquet``: the CSV file written as Parquet, a record batch at a time."""
    from pyarrow import csv, parquet  # noqa: PLC0415 - only here

    with Path(args.csv).open("rb") as file:
        header = file.readline().decode().rstrip("\r\n").split(",")
    reader = csv.open_csv(
        args.csv,
        convert_options=csv.ConvertOptions(column_types=dict.fromkeys(header, "string")),
        read_options=csv.ReadOptions(block_size=1 << 22),
    )
    with parquet.ParquetWriter(args.out, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    print("RESULT " + json.dumps(parquet.ParquetFile(args.out).metadata.num_rows), flush=True)


def run_child(
    mode: str, url: str, csv_path: Path, state_dir: str, args: argparse.Namespace, profile: str = ""
) -> dict[str, Any]:
    command = [sys.executable, __file__, "_run", "--url", url, "--csv", str(csv_path)]
    command += ["--state-dir", state_dir, "--rows", str(args.rows)]
    command += ["--time-scale", str(args.time_scale)]
    command += ["--pandas"] if args.pandas else []
    command += ["--polars"] if args.polars else []
    if profile:
        command += ["--profile", profile]
    result: dict[str, Any] = _child_result(mode, command)
    return result


def _child_result(mode: str, command: list[str]) -> Any:
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"the {mode} process gave no result:\n{done.stdout}")


# --- the benchmark ------------------------------------------------------------------------------


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = sorted(set(after) | set(before))
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) - before.get(k, 0)
    }


def _check(label: str, got: object, expected: object) -> bool:
    ok = got == expected
    print(f"    {label:<34} {got!s:>12}  expected {expected!s:>12}  {'OK' if ok else 'FAIL'}")
    return ok


def _requests_table(full: dict[str, int], refresh: dict[str, int]) -> None:
    print(f"    {'family: method path':<44} {'full':>10} {'refresh':>10}")
    for key in sorted(set(full) | set(refresh)):
        print(f"    {key:<44} {full.get(key, 0):>10,} {refresh.get(key, 0):>10,}")
    print(f"    {'total':<44} {sum(full.values()):>10,} {sum(refresh.values()):>10,}")


def _phase_line(label: str, wall: float, cpu: float, rows: int | None = None) -> None:
    rate = f"  {rows / cpu:>10,.0f} rows/CPU-s" if rows and cpu > 0 else ""
    print(f"    {label:<46} {wall:>8.2f} s wall {cpu:>8.2f} s CPU{rate}")


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _code_version() -> str:
    """The commit, and a digest of the SDK's sources as run (the tree may hold uncommitted work)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "omnisend_sdk").rglob("*.py")):
        digest.update(path.read_bytes())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # reads only
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown commit"
    return f"commit {commit}, omnisend_sdk/**/*.py as run: sha256 {digest.hexdigest()[:12]}"


def _segment_file(csv_path: Path, args: argparse.Namespace) -> Path:
    """The file the export reads: the CSV file, or (``--parquet``, ``--pandas``, ``--polars``,
    ``--sqlite``) made of it."""
    if args.parquet or args.pandas or args.polars:
        return _as_parquet(csv_path)
    if args.sqlite:
        return _as_sqlite(csv_path)
    return csv_path


def bench(args: argparse.Namespace) -> None:
    encoder = (
        f"orjson {_json.orjson.__version__}"
        if _json.orjson is not None
        else "stdlib json (orjson not installed)"
    )
    print(f"$ python benchmarks/bench_refresh.py {shlex.join(sys.argv[1:])}".rstrip())
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, JSON encoder: {encoder}")
    print(f"Code: {_code_version()}")
    print(f"Load average at the start: {_load()} (other processes share the machine's CPUs)")
    churn = Churn(args.rows, args.churn)
    print(
        f"{args.rows:,} rows, churn {args.churn:.2%}: {churn.n_changed:,} changed, "
        f"{churn.n_new:,} new, {churn.n_left:,} left; emulator at {args.time_scale:g}x in its own "
        "process, membership tags on, state on disk"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-refresh-") as work,
        LoggedEmulatorServer(time_scale=args.time_scale) as server,
    ):
        csv_path = Path(work) / "segment.csv"
        state_dir = str(Path(work) / "state")
        began = time.perf_counter()
        written = _segment_gen.write_csv(csv_path, _segment_gen.rows(args.rows))
        print(
            f"\n  segment.csv: {written:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB "
            f"(written in {time.perf_counter() - began:.1f} s)"
        )
        segment = _segment_file(csv_path, args)
        before = server.snapshot()
        full = run_child("export", server.url, segment, state_dir, args)
        after_full = server.snapshot()

        began = time.perf_counter()
        written = _segment_gen.write_csv(csv_path, churn.rows(args.rows))
        print(
            f"  churned segment.csv: {written:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB "
            f"(written in {time.perf_counter() - began:.1f} s)"
        )
        segment = _segment_file(csv_path, args)
        copy = state_dir + "-copy"  # the state before the refresh, for the extra passes
        if args.profile or args.breakdown:
            shutil.copytree(state_dir, copy)
        settled = settle(server)
        emulator_cpu = server.cpu_seconds()
        refresh = run_child("refresh", server.url, segment, state_dir, args)
        emulator_cpu = server.cpu_seconds() - emulator_cpu
        after_refresh = server.snapshot()
        # The next scheduled run: the same file again, every member unchanged. It loads the
        # members through the snapshot the first refresh left (see _member_snapshot.py).
        settle(server)
        again = run_child("refresh", server.url, segment, state_dir, args)
        breakdown = None
        if args.breakdown:  # reads the copy of the state, changes nothing
            command = [sys.executable, __file__, "_breakdown", "--csv", str(csv_path)]
            command += ["--state-dir", copy, "--rows", str(args.rows)]
            breakdown = _child_result("breakdown", command)
        profile_stats = None
        if args.profile:  # the same refresh again, profiled, from the copy of the state
            profile = str(Path(work) / "first_pass.prof")
            run_child("refresh", server.url, csv_path, copy, args, profile)
            profile_stats = pstats.Stats(profile)
            if args.profile_out:
                shutil.copyfile(profile, args.profile_out)
        if args.keep:  # the churned CSV and the state before the refresh, to experiment with
            shutil.copyfile(csv_path, Path(args.keep) / "segment.csv")
            shutil.copytree(copy, Path(args.keep) / "state", dirs_exist_ok=True)

    print(f"  load average at the end: {_load()}")
    print(
        f"  the emulator settled {settled:.1f} s after the full export (its deferred tag work "
        f"done) and used {emulator_cpu:.2f} s of CPU during the refresh"
    )
    fr, rr = full["report"], refresh["report"]
    full_exported = fr["created"] + fr["updated"] + fr["upserted"]
    print(
        f"\n  full export: {fr['status']}, {fr['rows_read']:,} rows read, {full_exported:,} "
        f"exported, {fr['invalid']:,} invalid, {fr['duplicates']:,} duplicates, "
        f"{fr['failed']:,} failed, {fr['tagged']:,} tagged; {full['wall']:.1f} s wall, "
        f"{full['cpu']:.1f} s CPU, peak RSS {full['rss_peak']:.0f} MB"
    )

    # Requests.
    full_log = _delta(after_full["requests"], before["requests"])
    refresh_log = _delta(after_refresh["requests"], after_full["requests"])
    share = rr["requests"] / fr["requests"] if fr["requests"] else float("nan")
    log_share = sum(refresh_log.values()) / max(sum(full_log.values()), 1)
    print("\n  requests (report.requests):")
    print(
        f"    full export {fr['requests']:,} ({fr['batches']:,} batches, {fr['retries']} retries, "
        f"{fr['rate_limited']} 429s); refresh {rr['requests']:,} ({rr['batches']:,} batches, "
        f"{rr['retries']} retries, {rr['rate_limited']} 429s)"
    )
    print(
        f"    refresh / full = {share:.2%} (goal <= {MAX_REQUEST_SHARE:.0%}): "
        f"{'OK' if share <= MAX_REQUEST_SHARE else 'FAIL'}"
    )
    print("  requests (emulator's request log, by family):")
    _requests_table(full_log, refresh_log)
    print(f"    refresh / full = {log_share:.2%}")
    refresh_statuses = _delta(after_refresh["statuses"], after_full["statuses"])
    print(f"    refresh answers by status: {refresh_statuses}")

    # Time.
    ph = {name: (t[0], t[1]) for name, t in refresh["phases"].items()}
    zero = (0.0, 0.0)
    prepare = ph.get("prepare_run", zero)
    count = ph.get("count_rows", zero)
    index = ph.get("member_index", zero)
    diff = ph.get("read_and_diff", zero)
    add_work = ph.get("add_work", zero)
    planned = ph.get("refresh_planned", zero)
    engine = ph.get("engine", zero)
    untag = ph.get("untag", zero)
    rows_read = rr["rows_read"]
    print(f"\n  refresh time ({refresh['wall']:.2f} s wall, {refresh['cpu']:.2f} s CPU in all):")
    _phase_line("count read (check_count_first, exports only)", *count, rows_read)
    _phase_line("first pass (prepare_run)", *prepare, rows_read)
    _phase_line("  load the member index (Journal.member_index)", *index)
    _phase_line("  read + map + diff (diff_source)", *diff, rows_read)
    _phase_line("    of which: work list writes (add_work)", *add_work)
    _phase_line(
        "  leavers, guard, plan (refresh_planned...)",
        prepare[0] - index[0] - diff[0],
        prepare[1] - index[1] - diff[1],
    )
    _phase_line("    of which: refresh_planned", *planned)
    _phase_line("sending (Engine.run)", *engine)
    _phase_line("untagging (untag_leavers)", *untag)
    rest = (
        refresh["wall"] - count[0] - prepare[0] - engine[0] - untag[0],
        refresh["cpu"] - count[1] - prepare[1] - engine[1] - untag[1],
    )
    _phase_line("other (client, journal, lock, report)", *rest)
    first_rate = rows_read / prepare[1] if prepare[1] else float("nan")
    both_rate = rows_read / (prepare[1] + count[1]) if prepare[1] + count[1] else float("nan")
    verdict = "OK" if first_rate >= MIN_ROWS_PER_SECOND else "FAIL"
    print(
        f"    first pass: {rows_read:,} rows / {prepare[1]:.2f} CPU-s = {first_rate:,.0f} rows/s "
        f"(goal >= {MIN_ROWS_PER_SECOND:,}): {verdict}; with the count read: {both_rate:,.0f} "
        "rows/s"
    )
    again_phases = again["phases"]
    again_prepare = again_phases.get("prepare_run", zero)
    again_index = again_phases.get("member_index", zero)
    again_diff = again_phases.get("read_and_diff", zero)
    again_rate = rows_read / again_prepare[1] if again_prepare[1] else float("nan")
    print(
        f"    the next refresh (the same file again, nothing changed): first pass "
        f"{again_prepare[1]:.2f} CPU-s = {again_rate:,.0f} rows/s, of which the member index "
        f"{again_index[1]:.2f} CPU-s and read + map + diff {again_diff[1]:.2f} CPU-s; "
        f"{again['cpu']:.2f} s CPU in all; counts "
        f"{again['report']['unchanged']:,} unchanged, {again['report']['new']:,} new, "
        f"{again['report']['changed']:,} changed, {again['report']['exited']:,} exited"
    )
    reading = count[1] + prepare[1]
    print(
        f"    share of the refresh's CPU in reading and diffing (count read + first pass): "
        f"{reading / refresh['cpu']:.0%}; of its wall time: "
        f"{(count[0] + prepare[0]) / refresh['wall']:.0%}"
    )

    # Memory.
    peak = refresh["rss_peak"]
    print("\n  refresh memory (peak RSS of the refresh process, getrusage ru_maxrss):")
    marks = refresh["rss_after"]
    print(
        f"    high-water mark after the imports {refresh['rss_imports']:.0f} MB, after loading the "
        f"member index {marks.get('member_index', float('nan')):.0f} MB, after read_and_diff "
        f"{marks.get('read_and_diff', float('nan')):.0f} MB, after the first pass "
        f"{marks.get('prepare_run', float('nan')):.0f} MB"
    )
    print(
        f"    peak {peak:.0f} MB (goal <= {MAX_PEAK_MB} MB): "
        f"{'OK' if peak <= MAX_PEAK_MB else 'FAIL'}; the full export's process peaked at "
        f"{full['rss_peak']:.0f} MB"
    )

    # Counts.
    members_after = full_exported - churn.n_left + churn.n_new
    print("\n  refresh counts against the churn:")
    checks = [
        _check("status", rr["status"], "completed"),
        _check("refresh", rr["refresh"], True),
        _check("rows_read", rr["rows_read"], fr["rows_read"] - churn.n_left + churn.n_new),
        _check("new", rr["new"], churn.n_new),
        _check("changed", rr["changed"], churn.n_changed),
        _check("unchanged", rr["unchanged"], full_exported - churn.n_changed - churn.n_left),
        _check("exited", rr["exited"], churn.n_left),
        _check("untagged", rr["untagged"], churn.n_left),
        _check(
            "exported (created+updated+upserted)",
            rr["created"] + rr["updated"] + rr["upserted"],
            churn.n_new + churn.n_changed,
        ),
        _check("tagged", rr["tagged"], churn.n_new),
        _check(
            "failed + tag_failed + untag_failed",
            rr["failed"] + rr["tag_failed"] + rr["untag_failed"],
            0,
        ),
        _check(
            "emulator: contacts created",
            after_refresh["contacts_created"] - after_full["contacts_created"],
            churn.n_new,
        ),
        _check("emulator: changed streets", after_refresh["changed_street"], churn.n_changed),
        _check("emulator: contacts with the tag", after_refresh["tagged"], members_after),
    ]
    updated = after_refresh["contacts_updated"] - after_full["contacts_updated"]
    print(f"    (emulator: contacts updated during the refresh: {updated:,})")
    print(f"  counts: {'OK' if all(checks) else 'FAIL'}")

    if breakdown is not None:
        print_breakdown(breakdown, rows_read)
    if profile_stats is not None:
        print_profile(profile_stats, rows_read, prepare[1])


#: The first pass's stages, as the profile's cumulative time of one function each.
STAGES = (
    ("rows to map; plain lines known inline (_PlainRows)", "export/_refresh.py", "__iter__"),
    ("  of which: read the CSV (CsvSource.runs)", "sources/_csv.py", "runs"),
    ("  of which: index the members by record", "export/_members.py", "_index_records"),
    ("read the CSV as rows (CsvSource.__iter__)", "sources/_csv.py", "__iter__"),
    ("fingerprint the record (RecordFingerprints)", "mapping/_records.py", "fingerprint"),
    ("find a known row (Diff.known)", "export/_refresh.py", "known"),
    ("map + validate a row (RowMapper.map)", "mapping/_mapper.py", "map"),
    ("duplicate check (SeenEmailKeys.first_row_of)", "export/_seen.py", "first_row_of"),
    ("  of which: table growth (SeenEmailKeys._grow)", "export/_seen.py", "_grow"),
    ("admission (Admission.decide)", "export/_admission.py", "decide"),
    ("encode the body (MappedRow.to_json)", "mapping/_mapper.py", "to_json"),
    ("encode the body (_json.dumps)", "omnisend_sdk/_json.py", "dumps"),
    ("fingerprint (body_fingerprint)", "export/_members.py", "body_fingerprint"),
    ("diff (Diff.classify)", "export/_refresh.py", "classify"),
    ("work item (PendingItem.encoded)", "export/_batcher.py", "encoded"),
    ("batch packing (Batcher.add)", "export/_batcher.py", "add"),
    ("work list writes (Journal.add_work)", "export/_journal.py", "add_work"),
    ("load the member index (Journal.member_index)", "export/_journal.py", "member_index"),
    ("leavers (MemberIndex.leavers)", "export/_members.py", "leavers"),
    ("plan (Journal.refresh_planned)", "export/_journal.py", "refresh_planned"),
)


def print_profile(stats: pstats.Stats, rows: int, cpu: float, top: int = 30) -> None:
    """The first pass's costs by stage and by function, in µs per row read."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in entries.values())
    unprofiled = cpu / rows * 1e6
    scale = cpu / total if total else 0.0
    print(
        f"\n  cProfile of the same refresh's first pass (prepare_run), rerun from a copy of the "
        f"state: {total:.2f} s under the profiler = {total / rows * 1e6:.1f} µs/row; the "
        f"unprofiled first pass above took {unprofiled:.1f} µs/row. Columns: µs/row under the "
        f"profiler, then scaled to the unprofiled time (x{scale:.2f}: an estimate, the profiler "
        "inflates short calls more)"
    )

    def found(path: str, function: str) -> tuple[float, int] | None:
        # Of several functions of that name in the file, the outermost (CsvSource.__iter__).
        hits = [
            (ct, calls)
            for (file, _, name), (_, calls, _, ct, _) in entries.items()
            if file.endswith(path) and name == function
        ]
        return max(hits) if hits else None

    print(f"    by stage (cumulative time):\n    {'prof':>6} {'est.':>6} {'calls':>10}  stage")
    staged = 0.0
    for label, path, function in STAGES:
        hit = found(path, function)
        if hit is None:
            continue
        ct, calls = hit
        if not label.startswith(" "):  # "of which" lines are inside the stage above
            staged += ct
        print(f"    {ct / rows * 1e6:>6.2f} {ct * scale / rows * 1e6:>6.2f} {calls:>10,}  {label}")
    rest = total - staged
    print(
        f"    {rest / rows * 1e6:>6.2f} {rest * scale / rows * 1e6:>6.2f} {'':>10}  the rest "
        "(generator glue: map_rows/_mapped/keep_first, read_and_diff's own loop...)"
    )

    def name(func: tuple[str, int, str]) -> str:
        path, line, function = func
        if path == "~":
            return function
        short = path.split("site-packages/")[-1].split("/work/main/")[-1]
        return f"{short}:{line}({function})"

    print(
        f"    top functions by own time (tottime):\n"
        f"    {'own':>6} {'est.':>6} {'cum':>6} {'calls':>10}  function"
    )
    by_own = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for func, (_, calls, tt, ct, _) in by_own:
        print(
            f"    {tt / rows * 1e6:>6.2f} {tt * scale / rows * 1e6:>6.2f} {ct / rows * 1e6:>6.2f} "
            f"{calls:>10,}  {name(func)}"
        )


def print_breakdown(results: list[tuple[str, float]], rows: int) -> None:
    """The first pass and its parts, each one more whole pass (see :func:`breakdown_main`)."""
    print(
        "\n  the first pass and its parts without a profiler (each line one whole pass over the "
        "churned CSV, or one load of the members; CPU time; µs per row read):"
    )
    print(f"    {'µs/row':>7} {'rows/s':>9}  pass")
    for label, cpu in results:
        print(f"    {cpu / rows * 1e6:>7.2f} {rows / cpu if cpu else 0:>9,.0f}  {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--time-scale", type=float, default=1000.0)
    mode = (
        sys.argv.pop(1)
        if len(sys.argv) > 1 and sys.argv[1] in ("_serve", "_run", "_breakdown", "_parquet")
        else ""
    )
    if mode == "_serve":  # the emulator's process
        parser.add_argument("--tag", required=True)
        serve_main(parser.parse_args())
    elif mode == "_parquet":  # the CSV segment as Parquet
        parser.add_argument("--csv", required=True)
        parser.add_argument("--out", required=True)
        parquet_main(parser.parse_args())
    elif mode == "_breakdown":  # the first pass stage by stage
        parser.add_argument("--csv", required=True)
        parser.add_argument("--state-dir", required=True)
        breakdown_main(parser.parse_args())
    elif mode == "_run":  # an export's process
        parser.add_argument("--url", required=True)
        parser.add_argument("--csv", required=True)
        parser.add_argument("--state-dir", required=True)
        parser.add_argument("--profile", default="", help="write the first pass's profile here")
        parser.add_argument("--pandas", action="store_true", help="read the file into a frame")
        parser.add_argument("--polars", action="store_true", help="read the file into a frame")
        run_main(parser.parse_args())
    else:
        parser.add_argument(
            "--profile",
            action="store_true",
            help="then run the same refresh again (from a copy of the state) with its first pass "
            "under cProfile, and print its top costs",
        )
        parser.add_argument("--profile-out", default="", help="keep that profile in this file")
        parser.add_argument(
            "--parquet",
            action="store_true",
            help="export and refresh the segment as a Parquet file (every column text) instead of "
            "the CSV file (--breakdown and --profile still read the CSV)",
        )
        parser.add_argument(
            "--pandas",
            action="store_true",
            help="export and refresh a pandas DataFrame read from the segment as Parquet (every "
            "column text) instead of the CSV file; the frame is read before the clock starts",
        )
        parser.add_argument(
            "--polars",
            action="store_true",
            help="the same with a polars DataFrame",
        )
        parser.add_argument(
            "--sqlite",
            action="store_true",
            help="export and refresh the rows of a query on a SQLite file made of the segment "
            "(a DB-API cursor, every column text) instead of the CSV file",
        )
        parser.add_argument(
            "--keep",
            default="",
            help="copy the churned CSV and the state before the refresh into this directory "
            "(implies --breakdown), for running `_breakdown` on them again",
        )
        parser.add_argument(
            "--breakdown",
            action="store_true",
            help="then time the first pass stage by stage without a profiler (implied by "
            "--profile)",
        )
        args = parser.parse_args()
        args.profile = args.profile or bool(args.profile_out)
        args.breakdown = args.breakdown or args.profile or bool(args.keep)
        bench(args)


if __name__ == "__main__":
    main()
