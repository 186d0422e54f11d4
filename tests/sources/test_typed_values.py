"""Values a warehouse types in ways that could turn into wrong values in Omnisend.

- Postal codes stored as numbers (real SQLite, DuckDB and Parquet files and a pandas frame):
  mapped a batch at a time exactly as row by row, and exported with their zeros.
- Birthdates stored as moments (DuckDB's TIMESTAMPTZ): sent only when the day is certain.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import export_segment
from omnisend_sdk.mapping import ContactMapping, map_rows
from omnisend_sdk.sources import open_source
from omnisend_sdk.testing import OmnisendEmulator
from tests.mapping.test_columnar import both_ways, takes_columnar_path

MAPPING = ContactMapping(email="email", postal_code="zip", country="country")
#: (email, postal code as the warehouse holds it, country)
ROWS = [
    ("a@example.com", 2139, "US"),
    ("b@example.com", 12345, "US"),
    ("c@example.com", 2139, None),
    ("d@example.com", 800, "Australia"),
    ("e@example.com", 123456, "US"),
    ("f@example.com", None, "US"),
    ("g@example.com", 1067, "Germany"),
]
#: What each row (by position) sends as its postal code, and its postal code's issue.
EXPECTED = [
    ("02139", "restored_postal_code"),
    ("12345", None),
    (None, "unconfirmed_postal_code"),
    ("0800", "restored_postal_code"),
    (None, "invalid_postal_code"),
    (None, None),
    ("01067", "restored_postal_code"),
]
SELECT = "select email, zip, country from segment order by email"


def postal_outcomes(mapped: list[tuple[Any, ...]]) -> list[tuple[str | None, str | None]]:
    """Each row's postal code as sent, and its postal code's issue (``both_ways``' rows)."""
    outcomes = []
    for _, _, issues, _, _, _, fields, _ in mapped:
        postal = [issue.code for issue in issues if issue.field == "postal_code"]
        outcomes.append((dict(fields).get("postalCode"), postal[0] if postal else None))
    return outcomes


def write_csv(path: Path, cell: Callable[[int | None], str]) -> Path:
    """The rows as a CSV file, each postal code written by ``cell``."""
    lines = ["email,zip,country"]
    lines += [f"{email},{cell(zip_)},{country or ''}" for email, zip_, country in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_sqlite(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("create table segment (email text, zip integer, country text)")
        db.executemany("insert into segment values (?, ?, ?)", ROWS)
        db.commit()
    return path


def write_duckdb(path: Path) -> Path:
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect(str(path)) as db:
        db.execute("create table segment (email varchar, zip integer, country varchar)")
        db.executemany("insert into segment values (?, ?, ?)", ROWS)
    return path


def write_parquet(path: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = list(zip(*ROWS, strict=True))
    table = pa.table(
        {
            "email": pa.array(columns[0], pa.string()),
            "zip": pa.array(columns[1], pa.int64()),
            "country": pa.array(columns[2], pa.string()),
        }
    )
    pq.write_table(table, path)
    return path


def sqlite_cursor(tmp_path: Path, stack: ExitStack) -> Callable[[], Any]:
    db = stack.enter_context(closing(sqlite3.connect(write_sqlite(tmp_path / "crm.sqlite3"))))
    return lambda: open_source(db.execute(SELECT))


def duckdb_cursor(tmp_path: Path, stack: ExitStack) -> Callable[[], Any]:
    db = duckdb_connection(tmp_path, stack)
    return lambda: open_source(db.execute(SELECT))


def duckdb_relation(tmp_path: Path, stack: ExitStack) -> Callable[[], Any]:
    pytest.importorskip("pyarrow")
    db = duckdb_connection(tmp_path, stack)
    return lambda: open_source(db.sql(SELECT))


def duckdb_connection(tmp_path: Path, stack: ExitStack) -> Any:
    duckdb = pytest.importorskip("duckdb")
    path = write_duckdb(tmp_path / "lake.duckdb")
    return stack.enter_context(duckdb.connect(str(path), read_only=True))


def parquet_file(tmp_path: Path, stack: ExitStack) -> Callable[[], Any]:
    path = write_parquet(tmp_path / "segment.parquet")
    return lambda: open_source(path)


def pandas_frame(tmp_path: Path, stack: ExitStack) -> Callable[[], Any]:
    """A frame whose postal codes have a gap: pandas holds them as floats (2139.0)."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(ROWS, columns=["email", "zip", "country"])
    assert frame["zip"].dtype == "float64"
    return lambda: open_source(frame)


SOURCES = {
    "sqlite cursor": sqlite_cursor,
    "duckdb cursor": duckdb_cursor,
    "duckdb relation": duckdb_relation,
    "parquet file": parquet_file,
    "pandas frame": pandas_frame,
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_numbers_get_their_zeros_back_a_batch_at_a_time_as_row_by_row(
    kind: str, tmp_path: Path, stack: ExitStack
) -> None:
    source_of = SOURCES[kind](tmp_path, stack)  # opens the source again at each call
    # Each hands over batches of columns (a pandas frame since 2 December).
    assert takes_columnar_path(MAPPING, source_of())
    mapped = both_ways(MAPPING, source_of)
    assert all(ok for _, _, _, ok, *_ in mapped)  # every contact goes, with or without its code
    assert postal_outcomes(mapped) == EXPECTED


def test_a_csv_file_pandas_wrote_gets_its_zeros_back_as_row_by_row(tmp_path: Path) -> None:
    """pandas writes a column of numbers with gaps as floats: ``2139.0``, and empty cells."""
    path = write_csv(tmp_path / "by_pandas.csv", lambda zip_: "" if zip_ is None else f"{zip_}.0")
    assert takes_columnar_path(MAPPING, open_source(path))
    mapped = both_ways(MAPPING, lambda: open_source(path))
    assert postal_outcomes(mapped) == EXPECTED


def test_a_csv_file_a_spreadsheet_saved_gets_its_zeros_back_as_row_by_row(
    tmp_path: Path,
) -> None:
    """A spreadsheet reads a CSV file's postal codes as numbers and saves them so: 2139."""
    path = write_csv(tmp_path / "by_a_spreadsheet.csv", lambda zip_: str(zip_ or ""))
    assert takes_columnar_path(MAPPING, open_source(path))
    mapped = both_ways(MAPPING, lambda: open_source(path))
    assert postal_outcomes(mapped) == [
        ("02139", "restored_postal_code"),
        ("12345", None),
        ("2139", None),  # text, and no country to say it is short: as written
        ("0800", "restored_postal_code"),
        ("123456", None),  # text longer than a US code: as written
        (None, None),
        ("01067", "restored_postal_code"),
    ]


def test_an_export_from_a_duckdb_query_stores_the_zeros(
    tmp_path: Path, stack: ExitStack, emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    db = duckdb_connection(tmp_path, stack)
    report = export_segment(
        db.execute(SELECT),
        MAPPING,
        client=client,
        segment="VIP",
        state_dir=state_dir,
        progress=None,
    )
    emulator.run_until_idle()

    assert (report.status, report.exported) == ("completed", len(ROWS))
    stored = {contact["email"]: contact.get("postalCode") for contact in emulator.contacts()}
    assert stored == {
        email: postal for (email, _, _), (postal, _) in zip(ROWS, EXPECTED, strict=True)
    }
    warned = {(issue.row, issue.code) for issue in report.issues if issue.field == "postal_code"}
    assert warned == {  # numbered as the query's rows, from 1
        (position + 1, code) for position, (_, code) in enumerate(EXPECTED) if code is not None
    }


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # Seen from UTC, Berlin's midnight is 22:00 the day before: that day would be wrong.
        ("UTC", {"berlin@example.com": None, "utc@example.com": "1990-04-03"}),
        ("Europe/Berlin", {"berlin@example.com": "1990-04-03", "utc@example.com": None}),
    ],
)
def test_a_birthdate_kept_as_a_moment_is_sent_only_when_its_day_is_certain(
    stack: ExitStack, zone: str, expected: dict[str, str | None]
) -> None:
    duckdb = pytest.importorskip("duckdb")
    db = stack.enter_context(duckdb.connect())
    db.execute(f"set TimeZone = '{zone}'")
    db.execute(
        "create table people as select * from (values"
        " ('berlin@example.com', timestamptz '1990-04-03 00:00:00+02'),"
        " ('utc@example.com', timestamptz '1990-04-03 00:00:00+00')) v(email, born)"
    )
    mapping = ContactMapping(email="email", birthdate="born")
    mapped = list(map_rows(mapping, open_source(db.execute("select * from people"))))
    sent = {row.email: (row.to_json() or {}).get("birthdate") for row in mapped}
    assert sent == expected
    assert all(row.ok for row in mapped)  # the contact goes, without the uncertain day
    warned = {row.email: [issue.code for issue in row.issues] for row in mapped}
    assert warned == {
        email: [] if day else ["ambiguous_birthdate"] for email, day in expected.items()
    }
