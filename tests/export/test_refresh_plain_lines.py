"""A refresh's first pass over a CSV file: plain lines known unchanged inline, the same outcome.

The first pass reads a CSV file's plain lines itself (:class:`_PlainRows`): a line whose record a
member was mapped from, when the member needs nothing, is counted unchanged without a row being
made. Everything it decides must be what the row-by-row pass decides for the same rows: counts,
issues and their row numbers, duplicates (first wins), the cap, the work list, the members' marks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from omnisend_sdk import _json
from omnisend_sdk._constants import DEFAULT_API_VERSION
from omnisend_sdk.export._journal import WorkRow
from omnisend_sdk.export._known_rows import split_lines
from omnisend_sdk.export._members import MemberIndex, body_fingerprint, email_key
from omnisend_sdk.export._refresh import ReadResult, _export_rows, diff_source
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.mapping import ContactMapping, InMemorySeenEmails, Row, RowMapper
from omnisend_sdk.sources import CsvSource

MAPPING = ContactMapping(email="Email", first_name="First", last_name="Last", country="Country")
#: Reads some columns only, in another order than the file's.
SOME = ContactMapping(email="Email", last_name="First", custom_properties={"Notes": "notes"})
#: Reads every column: a record is a whole line (its fields read from the record's text).
EVERY = ContactMapping(
    email="Email",
    first_name="First",
    last_name="Last",
    country="Country",
    custom_properties={"Notes": "notes"},
)

HEADER = "Notes,Email,First,Last,Country"
ENDS = ["\n", "\r\n", "\r"]


def line(i: int, *, first: str | None = None, email: str | None = None, notes: str = "n") -> str:
    email = email if email is not None else f"  Person{i}@Example.COM "
    return f"{notes},{email},{first or f'First{i}'},Last{i},{('Germany', 'UK', 'USA')[i % 3]}"


BEFORE = [HEADER, *(line(i) for i in range(40))]
AFTER = [
    HEADER,
    line(0),
    line(1, first="Renamed"),  # changed
    line(2),
    "",  # blank
    ",,,,",  # only delimiters
    line(3),
    line(3),  # the same line again: a duplicate of the row before
    line(4, email="PERSON4@example.com"),  # another record, the same email
    line(4),  # known, but its email was seen: a duplicate
    line(5),
    line(5, first="Later"),  # changed, after the known row with its email: a duplicate
    '"n","  Person6@Example.COM ","First6","Last6","Germany"',  # quoted: read by the parser
    "n,Person7@example.com,First7,Last7",  # ragged
    line(8, notes="other notes"),  # a column MAPPING does not read
    line(9, email="not an email"),  # invalid
    line(10, first="caf\xe9"),  # not UTF-8: a warning (cp1252), mapped
    line(11, first="a\x1fb"),  # a separator character: no fingerprint, mapped
    line(12, first="x\x00y"),  # a NUL: read by the parser
    *(line(i) for i in range(13, 30)),
    line(100),  # new
    line(101),  # new
    *(line(i) for i in range(30, 36)),  # 36 to 39 left
    'n,"Person37@example.com\n",First37,Last37,USA',  # a quoted value over two lines
]


def write(path: Path, lines: list[str], ending: str = "\n", encoding: str = "utf-8") -> Path:
    """``lines`` in a file, each ended with ``ending`` ("mixed": each of the three in turn); in
    UTF-8, ``caf\xe9`` written in cp1252 (a line the source reads with its fallback)."""
    if ending == "mixed":
        ends = itertools.cycle(["\n", "\r\n", "\r"])
        data = "".join(line + next(ends) for line in lines)
    else:
        data = ending.join(lines) + ending
    encoded = data.encode(encoding)
    if encoding == "utf-8":
        encoded = encoded.replace("caf\xe9".encode(), b"caf\xe9")
    path.write_bytes(encoded)
    return path


def members_of(
    path: Path | Any, mapping: ContactMapping, *, untagged: int = 10_000, leaving: int = 10_000
) -> list[tuple[int, int, bool, bool, int]]:
    """What an export of ``path`` (a CSV file, or any source) leaves (members numbered from 0:
    ``untagged`` never had its tag confirmed, ``leaving`` left before and is still to be
    untagged)."""
    source = CsvSource(path) if isinstance(path, Path) else path
    members = []
    for position, mapped in enumerate(
        _export_rows(mapping, source, InMemorySeenEmails(), DEFAULT_API_VERSION)
    ):
        assert mapped.ok
        assert mapped.email is not None
        body = _json.dumps(mapped.to_json(DEFAULT_API_VERSION))
        members.append(
            (
                email_key(mapped.email),
                body_fingerprint(body),
                position != untagged,
                position == leaving,
                mapped.record,
            )
        )
    return sorted(members)


class RowByRow:
    """The CSV source, read as rows: the first pass cannot read its lines."""

    def __init__(self, source: CsvSource) -> None:
        self._source = source
        self.columns = source.columns
        self.row_count = None
        self.reiterable = True

    def __iter__(self) -> Iterator[Row]:
        return iter(self._source)


def first_pass(
    source: Any, mapping: ContactMapping, members: list[Any], **options: Any
) -> tuple[Any, ...]:
    """Everything a first pass decides, as comparable values."""
    segment_tag = options.pop("segment_tag", "Seg")
    settings = ExportSettings.from_options(None, **options)
    index = MemberIndex(members)
    work: list[WorkRow] = []
    read: ReadResult = diff_source(
        source,
        mapping,
        settings,
        index,
        segment_tag=segment_tag,
        api_version=DEFAULT_API_VERSION,
        work=work.extend,
    )
    tally = read.tally
    issues = [(i.row, i.code, i.message, i.related_row, i.severity) for i in tally.issues]
    return (
        (tally.rows_read, tally.invalid, tally.duplicates, tally.over_limit, tally.not_sent),
        dict(tally.changes),
        tally.stop_reason,
        sorted(issues),
        read.batches,
        sorted(read.left),
        work,
        sorted(index.rejoined()),
        sorted(index.new_records()),
        index.confirmed(),
    )


@pytest.mark.parametrize(
    "mapping", [MAPPING, SOME, EVERY], ids=["most columns", "some columns", "every column"]
)
@pytest.mark.parametrize("segment_tag", ["Seg", None], ids=["tagged", "untagged"])
@pytest.mark.parametrize(
    "limits",
    [{}, {"max_profiles": 7, "on_limit": "truncate"}, {"max_profiles": 30, "on_limit": "fail"}],
    ids=["no cap", "cap 7", "cap 30"],
)
@pytest.mark.parametrize(
    "ending", ["\n", "\r\n", "\r", "mixed"], ids=["lf", "crlf", "cr", "mixed ends"]
)
def test_plain_lines_decide_as_rows_do(
    tmp_path: Path,
    mapping: ContactMapping,
    segment_tag: str | None,
    limits: dict[str, Any],
    ending: str,
) -> None:
    members = members_of(write(tmp_path / "before.csv", BEFORE), mapping, untagged=14, leaving=20)
    after = CsvSource(write(tmp_path / "after.csv", AFTER, ending))
    fast = first_pass(after, mapping, members, segment_tag=segment_tag, **limits)
    rows = first_pass(RowByRow(after), mapping, members, segment_tag=segment_tag, **limits)

    assert fast == rows
    assert fast[1]["unchanged"] > 20 or limits


@pytest.mark.parametrize(
    "mapping", [MAPPING, SOME, EVERY], ids=["most columns", "some columns", "every column"]
)
@pytest.mark.parametrize(
    "ending", ["\n", "\r\n", "\r", "mixed"], ids=["lf", "crlf", "cr", "mixed ends"]
)
def test_plain_lines_past_the_first_block_decide_as_rows_do(
    tmp_path: Path, mapping: ContactMapping, ending: str
) -> None:
    # Runs of lines of later blocks than the header's (a block is 16 KiB): AFTER's rows in them,
    # some runs cut short by its quoted lines.
    padding = [line(i) for i in range(1_000, 1_600)]  # about 30 KB: two blocks and more
    before = [HEADER, *padding, *BEFORE[1:]]
    after = [HEADER, *padding, *AFTER[1:], *padding[:300]]  # ...and each twice: duplicates
    members = members_of(write(tmp_path / "before.csv", before), mapping, untagged=614)
    source = CsvSource(write(tmp_path / "after.csv", after, ending))

    fast = first_pass(source, mapping, members)
    rows = first_pass(RowByRow(source), mapping, members)

    assert fast == rows
    assert fast[1]["unchanged"] > 600
    assert fast[0][2] >= 300  # the padding's second lines: duplicates


@pytest.mark.parametrize(
    "mapping", [MAPPING, SOME, EVERY], ids=["most columns", "some columns", "every column"]
)
def test_a_file_in_another_encoding_decides_as_rows_do(
    tmp_path: Path, mapping: ContactMapping
) -> None:
    # Its lines' bytes are not what the records are hashed as: they are encoded again.
    before = [HEADER, *(line(i, first=f"Jos\xe9{i}") for i in range(40))]
    # Rows 0 to 3 and 5 to 8 and 10 to 28 unchanged, 4 changed, 100 new.
    after = [*before[:5], line(4, first="Ren\xe9e"), *before[6:10], line(100, first="\xc5sa")]
    after += before[11:30]
    members = members_of(write(tmp_path / "before.csv", before), mapping)
    source = CsvSource(write(tmp_path / "after.csv", after, encoding="cp1252"), encoding="cp1252")

    fast = first_pass(source, mapping, members)
    rows = first_pass(RowByRow(source), mapping, members)

    assert fast == rows
    assert fast[1] == {"new": 1, "changed": 1, "unchanged": 27}


def test_the_counts_of_a_refresh_over_plain_lines(tmp_path: Path) -> None:
    members = members_of(write(tmp_path / "before.csv", BEFORE), MAPPING, untagged=14, leaving=20)
    after = CsvSource(write(tmp_path / "after.csv", AFTER))

    counts, changes, stop, issues, *_ = first_pass(after, MAPPING, members)

    rows_read, invalid, duplicates, over_limit, not_sent = counts
    assert rows_read == 42  # 46 lines: the header, two blank, the two lines of one row
    assert (invalid, duplicates, over_limit, stop) == (2, 3, 0, None)  # the ragged, the email
    # Changed: the renamed, the cp1252 first name, a\x1fb, x\x00y, the email over two lines,
    # the member whose tag is not confirmed (14) and the one who had left (20).
    assert changes == {"new": 2, "changed": 7, "unchanged": 28}
    assert not_sent == 9
    duplicate_of = {
        row: related for row, code, _, related, _ in issues if code == "duplicate_email"
    }
    assert duplicate_of == {8: 7, 10: 9, 12: 11}  # line numbers: the first row of each wins
    assert after.blank_lines == 2


def test_a_known_line_over_the_cap_is_over_the_limit_and_not_seen(tmp_path: Path) -> None:
    members = members_of(write(tmp_path / "before.csv", BEFORE), MAPPING)
    after = CsvSource(write(tmp_path / "after.csv", BEFORE))

    counts, changes, stop, _, _, left, *_ = first_pass(
        after, MAPPING, members, max_profiles=25, on_limit="truncate"
    )

    assert counts == (40, 0, 0, 15, 0)
    assert changes == {"new": 0, "changed": 0, "unchanged": 25}
    assert (stop, len(left)) == (None, 15)  # rows over the cap are not in the segment


def test_known_plain_lines_are_never_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = members_of(write(tmp_path / "before.csv", BEFORE), MAPPING, untagged=14, leaving=20)
    after = CsvSource(write(tmp_path / "after.csv", AFTER))
    mapped: list[int] = []
    real = RowMapper.map

    def spy(self: RowMapper, number: int, *args: Any, **kwargs: Any) -> Any:
        mapped.append(number)
        return real(self, number, *args, **kwargs)

    monkeypatch.setattr(RowMapper, "map", spy)

    first_pass(after, MAPPING, members)

    # The changed and new rows, the duplicates, the invalid row, those with a warning or an
    # ambiguous value, the members whose tag is not confirmed (lines 21 and 27); the quoted
    # line (13) is known all the same, from its row.
    assert mapped == [3, 8, 9, 10, 12, 16, 17, 18, 19, 21, 27, 37, 38, 45]


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n")),
            st.sampled_from(ENDS),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_lines_split_where_the_source_ends_them(
    lines: list[tuple[str, str]], unended: bool
) -> None:
    if unended and lines and lines[-1][0]:
        lines[-1] = (lines[-1][0], "")  # the file's last line, without an end
    data = "".join(text + end for text, end in lines).encode()
    assume(len(data.splitlines()) == len(lines))  # not a \r, then an empty line's \n: one end

    assert split_lines(data, len(lines)) == [text.encode() for text, _ in lines]
