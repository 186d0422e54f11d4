"""The command line reads a segment from a Parquet file or straight from a database query."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omnisend_sdk.sources import masked_url, query_rows

from .test_cli import run

PEOPLE = [("ann@example.com", "Ann"), ("bob@example.com", "Bob"), ("not-an-email", "Cy")]


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OMNISEND_API_KEY", "OMNISEND_BASE_URL", "OMNISEND_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMNISEND_SDK_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text('email = "email"\nfirst_name = "first_name"\n', encoding="utf-8")
    return path


@pytest.fixture
def crm_db(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (email TEXT, first_name TEXT, tier TEXT)")
        db.executemany("INSERT INTO people VALUES (?, ?, 'gold')", PEOPLE)
        db.execute("INSERT INTO people VALUES ('dee@example.com', 'Dee', 'bronze')")
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    path = tmp_path / "lake.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE people (email TEXT, first_name TEXT, tier TEXT)")
        db.executemany("INSERT INTO people VALUES (?, ?, 'gold')", PEOPLE)
    return path


def export(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path, *source: str
) -> tuple[int, str, dict[str, Any] | None]:
    report = tmp_path / "report.json"
    status, _, err = run(
        capsys,
        "export",
        *source,
        "--mapping",
        str(mapping),
        "--segment",
        "Gold",
        "--emulator",
        "--report",
        str(report),
    )
    return status, err, json.loads(report.read_text()) if report.exists() else None


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_export_reads_the_rows_of_a_query(
    capsys: pytest.CaptureFixture[str],
    mapping: Path,
    tmp_path: Path,
    crm_db: Path,
    lake: Path,
    scheme: str,
) -> None:
    db = lake if scheme == "duckdb" else crm_db
    query = "SELECT email, first_name FROM people WHERE tier = 'gold' ORDER BY email"

    status, _, report = export(
        capsys, mapping, tmp_path, "--db", f"{scheme}:///{db}", "--query", query
    )

    assert report is not None
    assert (report["rows_read"], report["exported"], report["invalid"]) == (3, 2, 1)
    (issue,) = report["issues"]
    assert (issue["row"], issue["code"]) == (3, "invalid_email")  # the row of the query result
    assert status == 0  # one invalid row: reported, not a failure


def test_export_reads_a_parquet_file(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path
) -> None:
    path = tmp_path / "gold.parquet"
    table = pa.table({"email": [e for e, _ in PEOPLE], "first_name": [n for _, n in PEOPLE]})
    pq.write_table(table, path)

    status, _, report = export(capsys, mapping, tmp_path, str(path))

    assert report is not None
    assert (report["rows_read"], report["exported"], report["invalid"]) == (3, 2, 1)
    assert status == 0  # one invalid row: reported, not a failure


def test_a_password_in_the_url_is_masked_in_every_message(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path
) -> None:
    url = "postgresql://crm:S3cret-pw@127.0.0.1:1/crm"

    status, out, err = run(
        capsys,
        "export",
        "--db",
        url,
        "--query",
        "select 1",
        "--mapping",
        str(mapping),
        "--segment",
        "Gold",
        "--emulator",
    )

    assert status == 2
    assert "S3cret-pw" not in out + err
    assert "postgresql://crm:***@127.0.0.1:1/crm" in err


def test_a_failing_query_names_the_database_masked(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path, crm_db: Path
) -> None:
    status, err, report = export(
        capsys, mapping, tmp_path, "--db", f"sqlite:///{crm_db}", "--query", "SELECT * FROM nope"
    )

    assert (status, report) == (2, None)
    assert err.count("\n") == 1
    assert "the query on sqlite:///" in err
    assert "no such table: nope" in err


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--db", "sqlite:///x.db"], "--db URL and --query SQL together"),
        (["--query", "select 1"], "--db URL and --query SQL together"),
        ([], "--db URL and --query SQL together"),
        (["seg.csv", "--db", "sqlite:///x.db", "--query", "select 1"], "not both"),
    ],
)
def test_the_segment_is_a_file_or_a_query(
    capsys: pytest.CaptureFixture[str], mapping: Path, argv: list[str], reason: str
) -> None:
    status, _, err = run(
        capsys, "export", *argv, "--mapping", str(mapping), "--segment", "Gold", "--emulator"
    )

    assert status == 2
    assert reason in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://crm:pw@db.local/crm", "postgresql://crm:***@db.local/crm"),
        ("postgresql+psycopg://crm:p%40ss@db/crm", "postgresql+psycopg://crm:***@db/crm"),
        ("postgresql://crm@db/crm", "postgresql://crm@db/crm"),
        ("sqlite:///crm.db", "sqlite:///crm.db"),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_plan_reads_a_query_too(
    capsys: pytest.CaptureFixture[str], mapping: Path, crm_db: Path
) -> None:
    status, out, _ = run(
        capsys,
        "plan",
        "--db",
        f"sqlite:///{crm_db}",
        "--query",
        "SELECT email, first_name FROM people",
        "--mapping",
        str(mapping),
    )

    assert status == 0
    assert out.splitlines()[0].split() == ["rows", "4"]


def test_a_duckdb_url_s_query_string_sets_duckdb_s_settings(lake: Path) -> None:
    url = f"duckdb:///{lake}?threads=1&memory_limit=64MB"
    settings = "SELECT current_setting('threads'), current_setting('memory_limit')"

    with query_rows(url, settings) as rows:
        ((threads, memory),) = rows.fetchall()
    with query_rows(f"duckdb:///{lake}", "SELECT count(*) FROM people") as rows:
        assert rows.fetchall() == [(3,)]  # no query string: the file, DuckDB's defaults

    assert threads == 1
    assert memory.endswith("MiB")
    assert float(memory.split()[0]) <= 64


def test_an_export_from_a_duckdb_url_with_settings(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path, lake: Path
) -> None:
    status, _, report = export(
        capsys,
        mapping,
        tmp_path,
        "--db",
        f"duckdb:///{lake}?threads=1",
        "--query",
        "SELECT email, first_name FROM people ORDER BY email",
    )

    assert report is not None
    assert (report["rows_read"], report["exported"], status) == (3, 2, 0)


def test_a_setting_duckdb_does_not_know_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], mapping: Path, tmp_path: Path, lake: Path
) -> None:
    status, err, report = export(
        capsys, mapping, tmp_path, "--db", f"duckdb:///{lake}?thread=1", "--query", "SELECT 1"
    )

    assert (status, report) == (2, None)
    assert f"cannot open duckdb:///{lake}?thread=1" in err
    assert "thread" in err.split("cannot open", 1)[1].split(":", 1)[1]
