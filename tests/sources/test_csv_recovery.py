"""CSV line ends and broken quotes: every line of the file is a row read, under its own number.

Real files in tmp_path: LF, CRLF, CR-only and mixed line ends; quotes left open at the first, a
middle and the last row; quoted values that legitimately span lines.
"""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk import export_segment
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.sources import CsvSource, SourceError
from omnisend_sdk.sources._csv import _Records
from omnisend_sdk.sources._lines import DecodedLines, split_blocks
from omnisend_sdk.testing import OmnisendEmulator

MAPPING = ContactMapping(email="email", first_name="name")
LINE_ENDS = {"LF": ["\n"], "CRLF": ["\r\n"], "CR": ["\r"], "mixed": ["\r\n", "\n", "\r"]}


def write(tmp_path: Path, lines: list[str], ends: list[str], *, last_end: bool = True) -> Path:
    """The lines joined with ``ends`` in turn (a line's end may fall inside a quoted value)."""
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    if not last_end:
        text = text.rstrip("\r\n")
    path = tmp_path / "segment.csv"
    path.write_bytes(text.encode())
    return path


def outcome(path: Path) -> dict[int, str]:
    """Row number -> the email read, or the codes of the issues that rejected the row."""
    return {
        row.number: str(row.values["email"])
        if row.values is not None
        else ",".join(issue.code for issue in row.issues)
        for row in CsvSource(path)
    }


def export(path: Path, client: Any, state_dir: Path) -> Any:
    return export_segment(
        path, MAPPING, client=client, segment="VIP", state_dir=state_dir, progress=None
    )


# --- line ends -------------------------------------------------------------------------------

#: Line 4 opens a quoted value that legitimately runs over line 5.
VALID = ["email,name", "ann@example.com,Ann", "bob@example.com,Bob", 'cy@example.com,"Cy', 'Jr"']
VALID += ["dee@example.com,Dee"]


@pytest.mark.parametrize("ends", LINE_ENDS.values(), ids=LINE_ENDS.keys())
@pytest.mark.parametrize("last_end", [True, False], ids=["ended", "unended"])
def test_every_line_end_gives_the_same_rows_and_numbers(
    tmp_path: Path, ends: list[str], last_end: bool
) -> None:
    path = write(tmp_path, VALID, ends, last_end=last_end)
    rows = list(CsvSource(path))
    assert [(row.number, row.issues) for row in rows] == [(2, ()), (3, ()), (4, ()), (6, ())]
    assert [row.values["email"] for row in rows if row.values] == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
        "dee@example.com",
    ]
    end_in_value = ends[3 % len(ends)]  # the end written after line 4, inside the quotes
    assert rows[2].values == {"email": "cy@example.com", "name": f"Cy{end_in_value}Jr"}


@pytest.mark.parametrize("ends", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_a_file_of_any_line_end_is_exported_whole(
    tmp_path: Path, ends: list[str], emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    report = export(write(tmp_path, VALID, ends), client, state_dir)
    emulator.run_until_idle()

    assert (report.status, report.rows_read, report.exported, report.issues) == (
        "completed",
        4,
        4,
        (),
    )
    assert {contact["email"] for contact in emulator.contacts()} == {
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
        "dee@example.com",
    }


def test_the_delimiter_of_a_cr_only_file_is_sniffed(tmp_path: Path) -> None:
    path = write(tmp_path, ["email;name", "ann@example.com;Ann", "bob@example.com;Bob"], ["\r"])
    source = CsvSource(path)
    assert (source.delimiter, source.columns) == (";", ("email", "name"))
    assert outcome(path) == {2: "ann@example.com", 3: "bob@example.com"}


class Trickle(io.BytesIO):
    """A file whose every read gives at most 3 bytes, so that reads cut every kind of line end,
    \r\n included."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(3)


@pytest.mark.parametrize("ends", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_line_ends_cut_by_reads_are_read_whole(ends: list[str]) -> None:
    lines = [*VALID, 'eve@example.com,"Eve', "", "", 'Jr"']  # blank lines in a quoted value
    data = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines)).encode()
    blocks = list(split_blocks(Trickle(data)))
    assert len(blocks) > len(lines) // 2  # a block ends wherever a read holds a line end
    whole = [line for block in blocks for line in block.splitlines(keepends=True)]
    assert whole == data.splitlines(keepends=True)
    cut = [(row.number, row.values, row.issues) for row in CsvSource(Trickle(data))]
    assert cut == [(row.number, row.values, row.issues) for row in CsvSource(io.BytesIO(data))]
    assert [number for number, _, _ in cut] == [2, 3, 4, 6, 7]


def test_a_line_longer_than_many_reads_is_one_line() -> None:
    value = "x" * 100_000  # under csv's field size limit, over several reads of the file
    data = f'email,note\nann@example.com,"{value}"\rbob@example.com,b\n'.encode()
    rows = list(CsvSource(io.BytesIO(data)))
    assert [(row.number, row.values) for row in rows] == [
        (2, {"email": "ann@example.com", "note": value}),
        (3, {"email": "bob@example.com", "note": "b"}),
    ]


#: Values with delimiters, quotes and every line end inside, and the characters that
#: str.splitlines would also end a line at (CSV does not).
VALUE = st.text(st.sampled_from('ab ,"\n\r\x0c\x1e\u2028\x85é'), max_size=8)


def csv_line(values: tuple[str, ...], end: str) -> bytes:
    """A record as RFC 4180 writes it. Not csv.writer: before Python 3.12 it leaves a lone \r
    unquoted when lines end in \n, and then no reader can give the value back."""
    quoted = [
        '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value
        for value in values
    ]
    return (",".join(quoted) + end).encode()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    rows=st.lists(st.tuples(VALUE, VALUE, VALUE).filter(any), min_size=1, max_size=6),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_well_formed_records_are_read_back_whole(
    rows: list[tuple[str, str, str]], end: str
) -> None:
    written = [csv_line(row, end) for row in [("a", "b", "c"), *rows]]
    # Each row starts on the line after the lines of the rows before it.
    numbers = [2]
    for line in written[1:-1]:
        numbers.append(numbers[-1] + len(line.splitlines()))
    read = list(CsvSource(io.BytesIO(b"".join(written)), delimiter=","))
    assert [(row.number, row.issues) for row in read] == [(number, ()) for number in numbers]
    assert [tuple(row.values.values()) for row in read if row.values] == rows


#: Pieces of damaged CSV: quotes, delimiters, every line end, bytes of another encoding.
PIECES = st.sampled_from([b"a", b",", b'"', b"\n", b"\r", b"\r\n", b" ", b"\xe9", b"\x81"])


@settings(max_examples=500, deadline=None, derandomize=True)
@given(body=st.lists(PIECES, max_size=60).map(b"".join))
def test_every_line_is_in_exactly_one_record(body: bytes) -> None:
    data = b"h1,h2\n" + body
    lines = DecodedLines(io.BytesIO(data), name="f.csv", encoding=None, fallback="cp1252")
    records = _Records(lines, ",", 2)
    following = 1
    for number, _, _ in records:
        assert number == following  # no line skipped, none read twice
        following = records.end + 1
    assert following == len(data.splitlines()) + 1


# --- broken quotes ---------------------------------------------------------------------------

ROWS = [f"{name.lower()}@example.com,{name}" for name in ("Ann", "Bob", "Cy", "Dee", "Eve")]
EMAILS = {i + 2: row.split(",")[0] for i, row in enumerate(ROWS)}  # line -> email


def broken(line: int, text: str) -> list[str]:
    """The five rows with line ``line`` (2 to 6) replaced by ``text``."""
    rows = list(ROWS)
    rows[line - 2] = text
    return ["email,name", *rows]


UNCLOSED = {
    # A quote opened and never closed: it would swallow every line after it.
    "first row": (broken(2, 'ann@example.com,"Ann'), 2),
    "middle row": (broken(4, 'cy@example.com,"Cy'), 4),
    "last row": (broken(6, 'eve@example.com,"Eve'), 6),
    "an empty value": (broken(3, 'bob@example.com,"'), 3),
    # Closed lines later by a quote that opens a value of its own: strict parsing sees it.
    "closed by a later quote": ([*broken(3, 'bob@example.com,"Bob')[:4], 'x@example.com,"X"'], 3),
    # Closed on the next line, but the row it makes has too many fields.
    "ragged": ([*broken(4, 'cy@example.com,"Cy')[:4], 'Jr",extra', ROWS[3], ROWS[4]], 4),
    # Every value quoted, one closing quote missing.
    "all quoted": (
        [
            '"email","name"',
            '"ann@example.com","Ann"',
            '"bob@example.com","Bob',
            '"cy@example.com","Cy"',
            '"dee@example.com","Dee"',
        ],
        3,
    ),
}


@pytest.mark.parametrize(("lines", "line"), UNCLOSED.values(), ids=UNCLOSED.keys())
@pytest.mark.parametrize("ends", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_an_unclosed_quote_loses_its_line_only(
    tmp_path: Path, lines: list[str], line: int, ends: list[str]
) -> None:
    path = write(tmp_path, lines, ends)
    rows = outcome(path)
    assert len(rows) == len(lines) - 1  # every line after the header is a row read
    assert rows.pop(line) == "unclosed_quote"
    # Every other line is read on its own, as if it were the only line of a CSV file.
    alone = {number: next(csv.reader([lines[number - 1]]))[0] for number in rows}
    assert rows == alone
    issue = next(i for row in CsvSource(path) for i in row.issues if i.code == "unclosed_quote")
    assert (issue.row, issue.severity) == (line, "error")
    assert issue.message.startswith(f"line {line}: a quote opened on this line ")


def test_the_reported_file_exports_its_four_good_rows(
    tmp_path: Path, emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    # Issue 12: a quote left open at row 3 hid the 4 rows after it behind one ragged_row.
    report = export(write(tmp_path, broken(3, 'bob@example.com,"Bob'), ["\n"]), client, state_dir)
    emulator.run_until_idle()

    assert (report.rows_read, report.exported, report.invalid) == (5, 4, 1)
    assert [(i.row, i.code) for i in report.issues] == [(3, "unclosed_quote")]
    assert "not closed before the end of the file" in report.issues[0].message
    assert {contact["email"] for contact in emulator.contacts()} == {
        EMAILS[line] for line in (2, 4, 5, 6)
    }


def test_each_unclosed_quote_says_where_it_ran_to(tmp_path: Path) -> None:
    lines = ["email,name", ROWS[0], 'bob@example.com,"Bob', 'cy@example.com,"Cy"']
    lines += ['dee@example.com,"Dee', 'Jr",x', 'eve@example.com,"Eve']
    messages = {
        i.row: i.message.removeprefix(f"line {i.row}: a quote opened on this line ")
        for row in CsvSource(write(tmp_path, lines, ["\n"]))
        for i in row.issues
    }
    assert messages == {
        3: "runs to line 4, where a quote is misplaced (',' expected after '\"'): the line is"
        " not read",
        5: "runs to line 6 and makes a row of 3 fields where the header has 2: the line is not"
        " read",
        7: "is not closed before the end of the file: the line is not read",
    }


def test_multi_line_values_that_close_are_kept(tmp_path: Path) -> None:
    lines = ["email,address,name", 'ann@example.com,"1 Main St', "Flat 2", 'Leeds",Ann']
    lines += ['bob@example.com,"",Bob', 'cy@example.com,"say ""hi""', 'twice",Cy']
    rows = list(CsvSource(write(tmp_path, lines, ["\r\n"])))
    assert [(row.number, row.issues) for row in rows] == [(2, ()), (5, ()), (6, ())]
    assert [row.values["address"] for row in rows if row.values] == [
        "1 Main St\r\nFlat 2\r\nLeeds",
        "",
        'say "hi"\r\ntwice',
    ]


def test_a_quote_open_past_the_line_limit_is_unclosed(tmp_path: Path) -> None:
    # 4,000 lines of 22 bytes: several reads of the file, the limit of 1,000 lines passed.
    lines = [
        "email,name",
        'ann@example.com,"Ann',
        *(f"p{i:04}@example.com,P" for i in range(4_000)),
    ]
    lines.append('zed@example.com,"Zed"')  # the quote that would close it, too late
    rows = outcome(write(tmp_path, lines, ["\n"]))
    assert len(rows) == len(lines) - 1
    assert rows.pop(2) == "unclosed_quote"
    assert rows == {number: lines[number - 1].split(",")[0] for number in range(3, len(lines) + 1)}
    issue = next(i for row in CsvSource(tmp_path / "segment.csv") for i in row.issues)
    assert re.fullmatch(
        r"line 2: a quote opened on this line is not closed within (\d,\d{3}) lines: the line"
        r" is not read",
        issue.message,
    )


def test_a_quote_open_past_the_field_size_limit_is_unclosed(tmp_path: Path) -> None:
    # Lines of 1,000 bytes: csv's limit of 131,072 characters a field comes before 1,000 lines.
    lines = ["email,name", 'ann@example.com,"Ann']
    lines += [f"p{i:03}@example.com,{'P' * 980}" for i in range(300)]
    rows = outcome(write(tmp_path, lines, ["\r\n"]))
    assert rows.pop(2) == "unclosed_quote"
    assert rows == {number: lines[number - 1].split(",")[0] for number in range(3, len(lines) + 1)}
    issue = next(i for row in CsvSource(tmp_path / "segment.csv") for i in row.issues)
    assert "where the row cannot be parsed: field larger than field limit" in issue.message


def peak_memory_reading(path: Path) -> tuple[int, int]:
    """Rows read, and the peak of the memory Python allocated while reading them."""
    tracemalloc.start()
    try:
        read = sum(1 for _ in CsvSource(path))
        return read, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_unclosed_quote_keeps_memory_flat(tmp_path: Path) -> None:
    peaks = []
    for count in (5_000, 20_000):
        lines = [
            "email,name",
            'ann@example.com,"Ann',
            *(f"p{i:05}@example.com,P" for i in range(count)),
        ]
        read, peak = peak_memory_reading(write(tmp_path, lines, ["\n"]))
        assert read == count + 1
        peaks.append(peak)
    # Holding the 20,000 lines would take about 1.5 MB; a read holds a block of them, and the
    # lines of the quote (about 1,000): about 0.4 MB.
    assert peaks[1] < 1_000_000
    assert peaks[1] < peaks[0] + 100_000


def test_decoding_notes_stay_with_their_lines_when_lines_are_read_again(tmp_path: Path) -> None:
    data = (
        b'email,name\nann@example.com,"Ann\n'
        + "bob@example.com,Zoë\n".encode("cp1252")
        + b"cy@example.com,C\x81y\n"
        + b"dee@example.com,Dee\n"
    )
    path = tmp_path / "segment.csv"
    path.write_bytes(data)
    issues = {row.number: [(i.code, i.message) for i in row.issues] for row in CsvSource(path)}
    assert issues == {
        2: [("unclosed_quote", issues[2][0][1])],
        3: [("decoded_with_fallback", "line 3 is not UTF-8; read as cp1252")],
        4: [("undecodable_line", "line 4 is not utf-8 nor cp1252: row not read")],
        5: [],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'"email,name\nann@example.com,Ann\n',
            "line 1: a quote opened on this line is not closed",
        ),
        (b"email,n\xe2me\n", None),  # cp1252: a warning, the header is read
        (b"email,\x81\nann@example.com,Ann\n", "line 1 is not utf-8 nor cp1252"),
    ],
)
def test_a_header_that_cannot_be_read_is_refused(content: bytes, message: str | None) -> None:
    if message is None:
        assert CsvSource(io.BytesIO(content)).columns == ("email", "nâme")
        return
    with pytest.raises(SourceError, match="the header cannot be read") as raised:
        CsvSource(io.BytesIO(content))
    assert message in str(raised.value)


@pytest.mark.parametrize("ends", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_a_utf16_file_of_any_line_end(ends: list[str]) -> None:
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(VALID))
    source = CsvSource(io.BytesIO(text.encode("utf-16")), encoding="utf-16")
    assert [row.number for row in source] == [2, 3, 4, 6]


def test_a_utf16_file_gives_its_rows_before_bytes_it_cannot_read() -> None:
    data = "email\nann@example.com\nbob@example.com\n".encode("utf-16-le") + b"\x00\xd8"
    rows = iter(CsvSource(io.BytesIO(data), encoding="utf-16-le"))
    assert [next(rows).number, next(rows).number] == [2, 3]
    with pytest.raises(SourceError, match="after line 3, bytes that are not utf-16-le"):
        next(rows)
