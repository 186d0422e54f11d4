"""CSV files take the columnar path (runs of plain lines as columns), and map exactly as the row
mapper maps their rows; records are fingerprinted a batch at a time as the row path does it.

Each file is mapped through ``map_rows`` on the ``CsvSource`` (its ``column_batches``) and through
the same source with them hidden (row by row), with and without record fingerprints (what an
export asks for), and the two must agree row for row: numbers, emails, issues, contacts, JSON,
records, and the count of blank lines the source kept. The files hold what breaks runs of plain
lines apart: quoted values over several lines, ragged and blank lines, lines of delimiters only,
lines that are not UTF-8, every line end, and more rows than one batch holds.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk._constants import DEFAULT_API_VERSION
from omnisend_sdk.mapping import ContactMapping, RecordFingerprints, map_rows
from omnisend_sdk.sources import CsvSource
from omnisend_sdk.sources._csv import _COLUMN_BATCH_ROWS
from tests.mapping.test_columnar import (
    COUNTRIES,
    EMAILS,
    MAPPINGS,
    TEXTS,
    RowByRow,
    described,
    takes_columnar_path,
)

HEADER = ["Email", "First", "Last", "Street", "City", "State", "Postal", "Country"]


def records_for(source: CsvSource) -> RecordFingerprints:
    """What an export asks for: fingerprints in the source's column order."""
    return RecordFingerprints(DEFAULT_API_VERSION, columns=source.columns)


def both_ways(mapping: ContactMapping, path: Path, *, records: bool) -> list[tuple[Any, ...]]:
    """Map the file both ways; assert they agree, blank lines counted alike."""
    fast_source, slow_source = CsvSource(path), CsvSource(path)
    assert takes_columnar_path(mapping, fast_source)
    fast_records = records_for(fast_source) if records else None
    slow_records = records_for(slow_source) if records else None
    fast = [described(row) for row in map_rows(mapping, fast_source, records=fast_records)]
    slow = [
        described(row) for row in map_rows(mapping, RowByRow(slow_source), records=slow_records)
    ]
    assert len(fast) == len(slow)
    for one, other in zip(fast, slow, strict=True):
        assert one == other
    assert fast_source.blank_lines == slow_source.blank_lines
    return fast


def plain_line(chance: random.Random, number: int) -> str:
    """A whole row of text with no quote: what a run of plain lines is made of."""
    email = (
        f"user{chance.randrange(number + 1)}@example.com"
        if chance.random() < 0.6
        else chance.choice(EMAILS)
    )
    texts = [chance.choice(TEXTS) for _ in range(6)]
    values = [email, *texts, chance.choice(COUNTRIES)]
    cleaned = [value.replace(",", " ").replace('"', "").replace("\n", " ") for value in values]
    return ",".join(value.replace("\r", " ") for value in cleaned)


ODD_LINES = [
    '"quoted@example.com","Ann ""the"" First",Lee,"1 Main St, Apt 2",Vilnius,,LT-01,LT',
    '"multi@example.com","two\nlines",Lee,Street,City,State,123,US',  # a value over two lines
    "ragged@example.com,Only,Three",
    "too@many.com,a,b,c,d,e,f,g,h,i",
    "",  # blank
    ",,,,,,,",  # delimiters only
    "   ",  # spaces: a row of one field, ragged
    '"unclosed@example.com,Ann,Lee,St,City,State,1,LT',  # a quote never closed
]


def write_segment(
    path: Path, rows: int, seed: int, *, odd: float, end: str = "\n", fallback: bool = True
) -> Path:
    chance = random.Random(seed)
    lines = [",".join(HEADER)]
    for number in range(rows):
        if chance.random() < odd:
            lines.append(chance.choice(ODD_LINES))
        else:
            lines.append(plain_line(chance, number))
    data = end.join(lines) + end
    encoded = data.encode("utf-8")
    if fallback:  # a line in cp1252, read with the fallback and a warning
        encoded += "cp1252@example.com,Zoë,Lee,St,City,State,1,LT\n".encode("cp1252")
    path.write_bytes(encoded)
    return path


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@pytest.mark.parametrize("records", [False, True], ids=["no records", "records"])
def test_a_csv_file_maps_as_row_by_row(tmp_path: Path, name: str, records: bool) -> None:
    mapping = MAPPINGS[name]
    path = write_segment(tmp_path / "segment.csv", 600, seed=41, odd=0.05)

    rows = both_ways(mapping, path, records=records)

    assert any(row[3] for row in rows)
    assert not all(row[3] for row in rows)
    if records:
        assert any(row[4] for row in rows)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_many_batches_and_every_line_end(tmp_path: Path, end: str) -> None:
    rows = 3 * _COLUMN_BATCH_ROWS + 17
    path = write_segment(tmp_path / "segment.csv", rows, seed=42, odd=0.002, end=end)
    mapped = both_ways(MAPPINGS["full"], path, records=True)
    assert len(mapped) >= rows - 20


def test_a_file_of_plain_lines_only(tmp_path: Path) -> None:
    rows = 2 * _COLUMN_BATCH_ROWS
    path = write_segment(tmp_path / "plain.csv", rows, seed=43, odd=0.0, fallback=False)
    mapped = both_ways(MAPPINGS["full"], path, records=True)
    assert [row[0] for row in mapped] == list(range(2, rows + 2))  # numbered by line


def test_values_holding_the_record_separators(tmp_path: Path) -> None:
    """A value holding a record separator cannot be fingerprinted with its batch: its rows get
    the row path's fingerprints (0 for the ambiguous one itself)."""
    lines = [",".join(HEADER)]
    lines += [f"u{i}@example.com,Ann,Lee,St,City,State,{10000 + i},LT" for i in range(50)]
    lines[10] = "marked@example.com,A\x1fB,Lee,St,City,State,10001,LT"
    lines[20] = "missing@example.com,A\x1eB,Lee,St,City,State,10001,LT"
    path = tmp_path / "marked.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    mapped = both_ways(MAPPINGS["full"], path, records=True)

    records = {row[0]: row[4] for row in mapped}
    assert records[11] == 0  # the marked row: ambiguous, no fingerprint
    assert all(record for number, record in records.items() if number not in (11, 21))


def test_only_the_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    assert both_ways(MAPPINGS["full"], path, records=True) == []


LINE = st.lists(
    st.text(st.sampled_from(list('ab@.,"\n\r é\x1f')), max_size=6), min_size=1, max_size=9
)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_lines_map_as_row_by_row(lines: list[list[str]], end: str) -> None:
    """Whatever the lines hold (quotes, delimiters, line ends inside values, any width), both
    paths give the same rows."""
    import tempfile  # noqa: PLC0415 - hypothesis runs the test many times: a file per example

    text = end.join([",".join(HEADER), *(",".join(fields) for fields in lines)]) + end
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "any.csv"
        path.write_text(text, encoding="utf-8", newline="")
        both_ways(MAPPINGS["full"], path, records=True)


def test_the_last_duplicate_wins_as_row_by_row(tmp_path: Path) -> None:
    """The "last" policy reads the file twice: the second read takes the columnar path."""
    path = write_segment(tmp_path / "segment.csv", 900, seed=44, odd=0.03)
    mapping = ContactMapping(
        email="Email", first_name="First", country="Country", duplicates="last"
    )
    rows = both_ways(mapping, path, records=False)
    assert any("last row wins" in issue.message for row in rows for issue in row[2])
