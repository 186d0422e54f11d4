"""A CSV file's plain lines: split without the csv module, they read exactly as it reads them.

:meth:`CsvSource.runs` hands lines with nothing for the csv module to interpret (no quote, no NUL,
no decoding note) over unparsed, for readers that split them themselves; :meth:`CsvSource.__iter__`
is built on it. Both must read every file as the csv module does, line numbers and issues included.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk.mapping import Row
from omnisend_sdk.sources import CsvSource
from omnisend_sdk.sources._csv import PlainLines


def reference_rows(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Each record of a well-formed file as the csv module reads it, with the line it starts
    on; blank lines left out, as the source leaves them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records = []
    start = 1
    for fields in reader:
        records.append((start, fields))
        start = reader.line_num + 1
    while records and not any(records[0][1]):
        del records[0]  # blank lines before the header
    return [(number, fields) for number, fields in records[1:] if any(fields)]


def expected_rows(
    text: str, delimiter: str = ","
) -> list[tuple[int, list[str] | None, tuple[str, ...]]]:
    """:func:`reference_rows` as the source gives them: a row of another width is rejected."""
    records = reference_rows(text, delimiter)
    width = len(next(csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=delimiter)))
    return [
        (number, fields, ()) if len(fields) == width else (number, None, ("ragged_row",))
        for number, fields in records
    ]


def source_of(data: bytes, **options: object) -> CsvSource:
    return CsvSource(io.BytesIO(data), **options)  # type: ignore[arg-type]


def read(source: CsvSource) -> list[tuple[int, list[str] | None, tuple[str, ...]]]:
    return [
        (
            row.number,
            None if row.values is None else [str(value) for value in row.values.values()],
            tuple(issue.code for issue in row.issues),
        )
        for row in source
    ]


def expanded_runs(source: CsvSource) -> list[Row]:
    """The rows :meth:`CsvSource.runs` gives, its plain lines split as a reader would."""
    rows: list[Row] = []
    for item in source.runs():
        if not isinstance(item, PlainLines):
            rows.append(item)
            continue
        for number, line in enumerate(item.lines, start=item.number):
            assert '"' not in line
            row = source.plain_row(number, line.rstrip("\r\n").split(source.delimiter))
            if row is not None:
                rows.append(row)
    return rows


CASES = {
    "plain": "a,b,c\n1,2,3\n4,5,6\n",
    "crlf": "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
    "lone cr": "a,b,c\r1,2,3\r4,5,6\r",
    "mixed ends": "a,b,c\n1,2,3\r\n4,5,6\r7,8,9",
    "no end on the last line": "a,b,c\n1,2,3",
    "quoted": 'a,b,c\n"1","2","3"\n4,"5",6\n',
    "delimiter inside quotes": 'a,b,c\n"1,5",2,3\n4,5,"6,7"\n',
    "doubled quotes": 'a,b,c\n"say ""hi""",2,3\n4,5,6\n',
    "newline inside quotes": 'a,b,c\n"line one\nline two",2,3\n4,5,6\n',
    "crlf inside quotes": 'a,b,c\r\n"one\r\ntwo",2,3\r\n4,5,6\r\n',
    "stray quote inside a value": 'a,b,c\n1,x"y,3\n4,5,6\n',
    "blank lines": "a,b,c\n\n1,2,3\n\r\n,,\n4,5,6\n",
    "whitespace is data": "a,b,c\n  ,2,3\n4,5, \n",
    "ragged": "a,b,c\n1,2\n1,2,3,4\n4,5,6\n",
    "quoted header": '"a","b,x",c\n1,2,3\n',
    "header over two lines": 'a,"b\nx",c\n1,2,3\n',
    "blank lines before the header": "\n\na,b,c\n1,2,3\n",
    "nul": "a,b,c\n1,\x002,3\n4,5,6\n",
    "separator characters": "a,b,c\n1,\x1f,3\n\x1e,\x1d,6\n",
    "unicode line separators are data": "a,b,c\n1,\u2028,3\n\x85,\x0b,\x0c\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_rows_read_as_the_csv_module_reads_them(text: str) -> None:
    rows = read(source_of(text.encode()))

    assert rows == expected_rows(text)
    assert expanded_runs(source_of(text.encode())) == list(source_of(text.encode()))
    assert source_of(text.encode()).count_rows() == len(rows)


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["", "bom"])
def test_plain_lines_carry_their_bytes_as_read(text: str, bom: bytes) -> None:
    # Readers hash a run's bytes instead of encoding its lines again: they must be the same.
    data = bom + ("caf\xe9,x,y\n" + text).encode()
    runs = [item for item in source_of(data).runs() if isinstance(item, PlainLines)]

    assert runs
    for item in runs:
        assert item.utf8 == "".join(item.lines).encode()


def test_plain_lines_have_no_bytes_unless_read_as_utf8() -> None:
    text = "a,b\n1,caf\xe9\n2,3\n"
    cp1252 = source_of(text.encode("cp1252"), encoding="cp1252")
    fallback = source_of(text.encode("cp1252"))  # the first line UTF-8, the next not
    blocks = source_of(("a,b\n" + "1,2\n" * 10_000 + "3,caf\xe9\n").encode("cp1252"))

    assert [item.utf8 for item in cp1252.runs() if isinstance(item, PlainLines)] == [None]
    assert not any(isinstance(item, PlainLines) and item.utf8 for item in fallback.runs())
    runs = [item for item in blocks.runs() if isinstance(item, PlainLines)]
    assert len(runs) > 2  # lines of many blocks; the last one's lines not all UTF-8
    assert [item.utf8 is None for item in runs] == [False] * (len(runs) - 1) + [True]
    assert sum(len(item.lines) for item in runs) == 10_000  # the cp1252 line is not plain


@pytest.mark.parametrize("delimiter", [";", "\t", "|", " "])
def test_other_delimiters(delimiter: str) -> None:
    text = f'a{delimiter}b\n1{delimiter}2\n"3{delimiter}x"{delimiter}4\n5{delimiter}6\n'
    source = source_of(text.encode(), delimiter=delimiter)

    assert read(source) == expected_rows(text, delimiter)
    assert expanded_runs(source) == list(source)


def test_lines_with_notes_or_quotes_are_never_plain() -> None:
    data = b'a,b\n1,2\n"3",4\n5,\xe9\n6,7\n8,\x009\n'
    source = source_of(data)

    plain = [
        number
        for item in source.runs()
        if isinstance(item, PlainLines)
        for number in range(item.number, item.number + len(item.lines))
    ]

    assert plain == [2, 5]  # not the header, the quote, the cp1252 line, nor the NUL
    assert read(source)[2] == (4, ["5", "é"], ("decoded_with_fallback",))


def test_a_bom_and_fallback_lines_read_as_before() -> None:
    data = "\ufeffa,b\n1,2\n".encode() + b"3,caf\xe9\n" + b"\xff\xfe,x\n4,5\n"
    source = source_of(data, fallback_encoding=None)

    assert source.columns == ("a", "b")
    assert read(source) == [
        (2, ["1", "2"], ()),
        (3, None, ("undecodable_line",)),
        (4, None, ("undecodable_line",)),
        (5, ["4", "5"], ()),
    ]


def test_a_value_over_the_csv_modules_limit_is_the_parsers_error(tmp_path: Path) -> None:
    limit = csv.field_size_limit()
    path = tmp_path / "long.csv"
    path.write_text(f"a,b\n1,{'x' * (limit + 1)}\n2,3\n")

    rows = read(CsvSource(path))

    assert rows == [(2, None, ("unreadable_row",)), (3, ["2", "3"], ())]


def test_records_across_many_blocks_keep_their_line_numbers(tmp_path: Path) -> None:
    # Several 16 KiB blocks, a quoted value over lines every so often (some across a block's
    # end), a broken quote near the end: the lines after it are read again.
    lines = ["id,name,note"]
    for i in range(4000):
        if i % 37 == 5:
            lines.append(f'{i},"name\n{i}",note')
        elif i % 101 == 7:
            lines.append(f'{i},"a, b",""""')
        else:
            lines.append(f"{i},name{i},note {i}")
    lines.append('9999,"unclosed,x')
    lines.extend(f"{i},after,{i}" for i in range(3))
    text = "\r\n".join(lines) + "\r\n"
    path = tmp_path / "big.csv"
    path.write_text(text, newline="")

    rows = read(CsvSource(path))

    good = text[: text.index("9999,")]
    assert rows[: len(reference_rows(good))] == [(n, f, ()) for n, f in reference_rows(good)]
    line = good.count("\n") + 1
    assert rows[-4:] == [
        (line, None, ("unclosed_quote",)),
        (line + 1, ["0", "after", "0"], ()),
        (line + 2, ["1", "after", "1"], ()),
        (line + 3, ["2", "after", "2"], ()),
    ]
    assert expanded_runs(CsvSource(path)) == list(CsvSource(path))


FIELD = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\t\x1f\x00é')), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), max_size=12),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
)
def test_what_the_csv_module_writes_reads_back_the_same(
    rows: list[list[str]], quoting: Literal[0, 1, 2, 3]
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=quoting)  # "\r\n": a value holding \r or \n is quoted
    writer.writerow(["x", "y", "z"])
    writer.writerows(rows)
    text = buffer.getvalue()
    source = source_of(text.encode(), delimiter=",")

    assert read(source) == [(number, row, ()) for number, row in reference_rows(text)]
    assert [fields for _, fields, _ in read(source)] == [row for row in rows if any(row)]
    assert expanded_runs(source_of(text.encode(), delimiter=",")) == list(source)
    assert source.count_rows() == len(read(source))
