"""The columnar path maps Arrow-backed sources exactly as the row mapper maps their rows.

Segments full of edge cases are written as real Parquet and DuckDB files; each is mapped twice,
through ``map_rows`` on the source itself (the columnar path, record batches at a time) and
through the same source with its ``arrow_batches`` hidden (row by row), and the two must agree
row for row: numbers, emails, issues, the contact, its JSON for every API version, key order
included. Mappings the columnar path does not handle must be left to the row mapper.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk._constants import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    MAX_EMAIL_LENGTH,
    MAX_EMAIL_LOCAL_LENGTH,
)
from omnisend_sdk.mapping import (
    Constant,
    ContactMapping,
    InMemorySeenEmails,
    MappedRow,
    RecordFingerprints,
    RowMapper,
    map_rows,
)
from omnisend_sdk.mapping._columnar import _ATOM, _LABEL, PLAIN_EMAIL, _emails, columnar_rows
from omnisend_sdk.sources import SourceError, open_source

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

COLUMNS = ("Email", "First", "Last", "Street", "City", "State", "Postal", "Country")

EMAILS = [
    "ann@example.com",
    "Ann@Example.COM",  # a duplicate of the first, other case
    "  bob@example.com ",  # spaces to trim
    "BOB@EXAMPLE.COM",
    "carol@bücher.de",  # an international domain
    "dan@xn--bcher-kva.de",
    "élodie@example.com",  # non-ASCII local part
    "eve..x@example.com",
    ".eve@example.com",
    "eve.@example.com",
    "frank at example.com",
    "frank@example",
    "frank@@example.com",
    "frank@-bad.com",
    "frank@bad-.com",
    "frank@exa_mple.com",
    "frank@example.c",
    "frank@example.c0m",
    "a" * 64 + "@example.com",  # the longest local part
    "a" * 65 + "@example.com",
    "b@" + "c" * 63 + ".com",  # the longest label
    "b@" + "c" * 64 + ".com",
    "x@" + ".".join(["d" * 60] * 4) + ".com",  # over 254 characters
    "x@" + ".".join(["d" * 60] * 3) + ".co",  # just under
    "o'neil+tag@example.co.uk",
    "weird!#$%&*/=?^_`{|}~-@example.com",
    "grace@EXAMPLE.xn--p1ai",
    "grace@example.XN--P1AI",
    "",
    "   ",
    "tab\t@example.com",
    "new\nline@example.com",
    "zero\u200bwidth@example.com",
    "k@example.com\u00a0",  # a no-break space, trimmed by strip()
    "K@EXAMPLE.com",
    "kelvin\u212a@example.com",  # the Kelvin sign, which lower() turns into k
    "İnan@example.com",
]
TEXTS = [
    "Mary",
    "Zoë",
    "  James\t",
    "JOSÉ",
    "Łukasz",
    "",
    " ",
    "\t",
    "O'Brien",
    "line\nbreak",
    "nul\x00char",
    "bom\ufeffmark",
    "a" * 255,
    "b" * 256,
    " " + "c" * 255,
    "é" * 256,
    "12345",
    "Hauptstraße 5",
    "\u2028para",
    "x\u200b",
    "\U0001f600 smile",
    "Île-de-France",
    "\x85next",
]
COUNTRIES = [
    "US",
    "us",
    "USA",
    "United States",
    "  united states ",
    "UK",
    "Deutschland",
    "DE",
    "Lithuania",
    "LT ",
    "Atlantis",
    "",
    " ",
    "Côte d'Ivoire",
    "COTE D IVOIRE",
    "The Netherlands",
    "Nowhere" * 40,  # unknown and over the text limit
    "12",
    "xx",
]


def segment(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` rows of edge cases, with repeats (``None`` is a null cell)."""
    chance = random.Random(seed)
    rows = []
    for i in range(count):
        pick = chance.random()
        if pick < 0.5:
            email: str | None = f"user{chance.randrange(count)}@example.com"  # repeats
        elif pick < 0.55:
            email = None
        else:
            email = chance.choice(EMAILS)
        row: dict[str, Any] = {"Email": email}
        for column in COLUMNS[1:-1]:
            row[column] = None if chance.random() < 0.1 else chance.choice(TEXTS)
        row["Country"] = None if chance.random() < 0.1 else chance.choice(COUNTRIES)
        if i % 7 == 0:  # a clean row, now and then
            row.update(First="Ann", Last="Lee", Country="LT", Email=f"clean{i}@example.com")
        rows.append(row)
    return rows


def arrow_table(rows: list[dict[str, Any]], types: dict[str, Any] | None = None) -> Any:
    types = types or {}
    schema = pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def write_parquet(path: Path, rows: list[dict[str, Any]], **types: Any) -> Path:
    pq.write_table(arrow_table(rows, types), path, row_group_size=37)
    return path


def write_duckdb(path: Path, rows: list[dict[str, Any]]) -> Path:
    duckdb = pytest.importorskip("duckdb")
    table = arrow_table(rows)
    with duckdb.connect(str(path)) as db:
        db.register("rows", table)
        db.execute("create table segment as select * from rows")
    return path


class RowByRow:
    """A source with its record batches hidden: what ``map_rows`` maps row by row."""

    def __init__(self, source: Any) -> None:
        self._source = source

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._source.columns)

    @property
    def row_count(self) -> int | None:
        return self._source.row_count  # type: ignore[no-any-return]

    @property
    def reiterable(self) -> bool:
        return bool(self._source.reiterable)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._source)


def described(row: MappedRow) -> tuple[Any, ...]:
    """Everything a mapped row tells, as plain values to compare."""
    bodies = [json.dumps(row.to_json(version), ensure_ascii=False) for version in API_VERSIONS]
    fields = list((row._fields or {}).items())  # key order decides the JSON bytes
    return (row.row, row.email, row.issues, row.ok, row.record, bodies, fields, row.contact)


def both_ways(mapping: ContactMapping, open_it: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Map a source both ways and assert they agree (whether the first way was the columnar
    path is for the caller to check, with :func:`takes_columnar_path`)."""
    fast = [described(row) for row in map_rows(mapping, open_it(), **kwargs)]
    slow = [described(row) for row in map_rows(mapping, RowByRow(open_it()), **kwargs)]
    assert len(fast) == len(slow)
    for one, other in zip(fast, slow, strict=True):
        assert one == other
    return fast


def takes_columnar_path(mapping: ContactMapping, source: Any) -> bool:
    return columnar_rows(RowMapper.bind(mapping, source.columns), source) is not None


FULL = ContactMapping(
    email="Email",
    first_name="First",
    last_name="Last",
    address="Street",
    city="City",
    state="State",
    postal_code="Postal",
    country="Country",
)
MAPPINGS = {
    "full": FULL,
    "tags-and-welcome": ContactMapping(
        email="Email",
        first_name="First",
        country="Country",
        tags=("vip", "segment-a"),
        send_welcome_message=True,
    ),
    "drop-long-text": ContactMapping(
        email="Email", last_name="Last", address="Street", long_text="drop"
    ),
    "reject-long-text": ContactMapping(
        email="Email", first_name="First", country="Country", long_text="reject"
    ),
    "email-only": ContactMapping(email="Email"),
    "ignore-case": ContactMapping(
        email="email", city="CITY", country=" country ", ignore_case=True
    ),
    "same-column-twice": ContactMapping(email="Email", first_name="First", last_name="First"),
}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@pytest.mark.parametrize(("seed", "chunk_rows"), [(1, 10_000), (2, 16), (3, 1)])
def test_parquet_maps_as_row_by_row(tmp_path: Path, name: str, seed: int, chunk_rows: int) -> None:
    mapping = MAPPINGS[name]
    path = write_parquet(tmp_path / "segment.parquet", segment(400, seed))
    assert takes_columnar_path(mapping, open_source(path))

    rows = both_ways(mapping, lambda: open_source(path, chunk_rows=chunk_rows))

    assert len(rows) == 400
    assert any(row[3] for row in rows)
    assert not all(row[3] for row in rows)


@pytest.mark.parametrize("name", ["full", "tags-and-welcome", "reject-long-text"])
def test_duckdb_relation_maps_as_row_by_row(tmp_path: Path, name: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = write_duckdb(tmp_path / "segment.duckdb", segment(500, 4))
    connections = []

    def relation() -> Any:
        db = duckdb.connect(str(path), read_only=True)
        connections.append(db)
        return open_source(db.sql("select * from segment order by rowid"), chunk_rows=64)

    try:
        assert takes_columnar_path(MAPPINGS[name], relation())
        rows = both_ways(MAPPINGS[name], relation)
    finally:
        for db in connections:
            db.close()
    assert [row[0] for row in rows] == list(range(1, 501))  # SQL counts from 1


def test_a_relation_is_narrowed_to_the_columns_mapped(tmp_path: Path) -> None:
    """Only the mapped columns are selected, whatever their names: a column the mapping does
    not read is never computed (here it would raise). Repeated names are not narrowed (a row's
    dict keeps the last), and map as row by row either way."""
    duckdb = pytest.importorskip("duckdb")
    path = write_duckdb(tmp_path / "segment.duckdb", segment(200, 6))
    odd = ContactMapping(email='E-mail "x"', first_name="first name", city="City")
    query = (
        'select Email as "E-mail ""x""", First as "first name", City,'
        " error('a column not mapped was computed') as Unmapped from segment order by rowid"
    )
    with duckdb.connect(str(path), read_only=True) as db:
        source = open_source(db.sql(query), chunk_rows=64)
        batches = list(source.arrow_batches(['E-mail "x"', "City"]))
        assert {tuple(batch.schema.names) for _, batch in batches} == {('E-mail "x"', "City")}
        assert [first for first, _ in batches] == [1, 65, 129, 193]
        fast = [described(row) for row in map_rows(odd, open_source(db.sql(query), chunk_rows=64))]
        assert len(fast) == 200
        assert fast == [described(row) for row in map_rows(odd, RowByRow(narrowed_to(db, query)))]
        repeated = "select Email, First, Last as First, City from segment order by rowid"
        both_ways(FULL_NAMES, lambda: open_source(db.sql(repeated), chunk_rows=64))


FULL_NAMES = ContactMapping(email="Email", first_name="First", city="City")


def narrowed_to(db: Any, query: str) -> Any:
    """The query's rows without its unmapped column, for the row-by-row side."""
    return open_source(db.sql(query).project('"E-mail ""x""", "first name", City'), chunk_rows=64)


def test_other_column_types_map_as_row_by_row(tmp_path: Path) -> None:
    """Whole numbers, dictionary-encoded text, floats, dates and an all-null column."""
    rows = segment(300, 5)
    for i, row in enumerate(rows):
        row["Postal"] = None if i % 11 == 0 else i * 37 - 500  # negative ones too
        row["State"] = None if i % 13 == 0 else float(i) / 4
        row["City"] = None
    whole = write_parquet(tmp_path / "whole.parquet", rows, Postal=pa.int64(), State=pa.float64())
    both_ways(FULL, lambda: open_source(whole, chunk_rows=50))

    path = tmp_path / "dictionary.parquet"
    table = arrow_table(segment(300, 6))
    encoded = table.set_column(7, "Country", table.column("Country").dictionary_encode())
    pq.write_table(encoded, path)
    both_ways(FULL, lambda: open_source(path, chunk_rows=64))

    nulls = tmp_path / "nulls.parquet"
    pq.write_table(arrow_table(segment(50, 7)).set_column(2, "Last", pa.nulls(50)), nulls)
    both_ways(FULL, lambda: open_source(nulls))


def test_arrow_tables_and_readers_map_as_row_by_row() -> None:
    table = arrow_table(segment(300, 8))
    both_ways(FULL, lambda: open_source(table, chunk_rows=32))
    both_ways(FULL, lambda: open_source(table.to_batches()[0]))
    reader = lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches(50))  # noqa: E731
    both_ways(FULL, lambda: open_source(reader()))
    assert takes_columnar_path(FULL, open_source(reader()))


def test_duplicates_across_batches_and_the_last_policy(tmp_path: Path) -> None:
    rows = [{"Email": f"u{i % 5}@example.com", "First": f"N{i}"} for i in range(40)]
    rows += [{"Email": "U1@EXAMPLE.COM", "First": "x" * 300}]
    path = write_parquet(tmp_path / "dups.parquet", rows)
    for duplicates in ("first", "last"):
        for long_text in ("truncate", "reject"):
            mapping = ContactMapping(
                email="Email", first_name="First", duplicates=duplicates, long_text=long_text
            )
            both_ways(mapping, lambda: open_source(path, chunk_rows=3))
    seen = InMemorySeenEmails()
    seen.first_row("u3@example.com", -7)  # seen before this source
    kept = list(map_rows(FULL, open_source(path, chunk_rows=4), seen=seen))
    assert kept[3].issues[-1].related_row == -7
    assert [row.row for row in kept if row.ok] == [0, 1, 2, 4]


def test_an_empty_source_and_empty_batches(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "empty.parquet", [])
    assert list(map_rows(FULL, open_source(path))) == []
    table = arrow_table(segment(10, 9))
    empty = table.slice(0, 0).to_batches()
    batches = [*empty, *table.to_batches(4), *empty]
    reader = pa.RecordBatchReader.from_batches(table.schema, batches)
    fast = [described(row) for row in map_rows(FULL, open_source(reader))]
    slow = [described(row) for row in map_rows(FULL, RowByRow(open_source(table)))]
    assert fast == slow


UNSUPPORTED = {
    "function": ContactMapping(email="Email", first_name=lambda row: row["First"]),
    "constant": ContactMapping(email="Email", country=Constant("LT")),
    "joined-address": ContactMapping(email="Email", address=("Street", "City")),
    "phone": ContactMapping(email="Email", phone="Postal"),
    "gender": ContactMapping(email="Email", gender="State"),
    "birthdate": ContactMapping(email="Email", birthdate="State"),
    "custom": ContactMapping(email="Email", custom_properties={"City": "city"}),
    "status": ContactMapping(email="Email", email_status="State"),
    "email-function": ContactMapping(email=lambda row: row["Email"]),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_mappings_it_does_not_handle_are_mapped_row_by_row(tmp_path: Path, name: str) -> None:
    mapping = UNSUPPORTED[name]
    path = write_parquet(tmp_path / "segment.parquet", segment(60, 10))
    assert not takes_columnar_path(mapping, open_source(path))
    both_ways(mapping, lambda: open_source(path))


def test_sources_without_record_batches_are_mapped_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "segment.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in segment(30, 11)), encoding="utf-8")
    source = open_source(path)
    assert not takes_columnar_path(FULL, source)
    assert len(both_ways(FULL, lambda: open_source(path))) == 30


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_a_list_of_dicts_maps_as_row_by_row(name: str) -> None:
    rows = segment(400, 41)
    assert takes_columnar_path(MAPPINGS[name], open_source(rows))
    mapped = both_ways(MAPPINGS[name], lambda: open_source(rows))
    assert [row[0] for row in mapped] == list(range(400))


def test_rows_of_any_shape_map_as_row_by_row() -> None:
    """Dicts missing a column or holding more, keys that are not text, numbers and floats, items
    that are not rows between them (each its own rejected row), records by position; a
    generator, read once; more rows than a chunk."""
    rows: list[Any] = segment(5_000, 42)
    for i, row in enumerate(rows):
        if i % 11 == 5:  # the first row names the columns: it keeps them all
            del row["City"]
        if i % 13 == 6:
            row["Extra"] = i
            row[7] = "not text"
        if i % 17 == 7:
            row["Postal"] = i * 37
        if i % 19 == 8:
            row["State"] = float(i)
    # Not rows: alone, two together, one ending a chunk of 2,048, and one before the last row.
    rows[3] = "not a row"
    rows[2_500:2_502] = [None, ("a", "tuple")]
    rows[2_047] = rows[-2] = 42
    for records in (rows, [tuple(row.values()) for row in segment(50, 43)]):
        source = open_source(records) if records is rows else open_source(records, columns=COLUMNS)
        assert takes_columnar_path(FULL, source)
        kwargs = {} if records is rows else {"columns": COLUMNS}
        mapped = both_ways(FULL, lambda: open_source(records, **kwargs))  # noqa: B023
        assert [row[0] for row in mapped] == list(range(len(records)))
    mapped = both_ways(FULL, lambda: open_source(iter(rows)))
    assert len(mapped) == len(rows)
    source = open_source(iter(rows))
    assert len(list(map_rows(FULL, source))) == len(rows)
    with pytest.raises(SourceError, match="read only once"):
        next(iter(map_rows(FULL, source)))


def test_a_list_of_dicts_s_records_are_fingerprinted_as_row_by_row() -> None:
    records = RecordFingerprints(DEFAULT_API_VERSION, columns=COLUMNS)
    rows = segment(300, 44)
    for i, row in enumerate(rows):
        if i % 9 == 0:
            row["Postal"] = i
    mapped = both_ways(FULL, lambda: open_source(rows), records=records)
    assert any(row[4] for row in mapped)


@pytest.mark.parametrize("name", ["full", "tags-and-welcome", "ignore-case"])
def test_records_are_fingerprinted_as_row_by_row(tmp_path: Path, name: str) -> None:
    """What an export asks for: each clean row's record fingerprint, a batch at a time; text
    columns, a column of whole numbers (fingerprinted row by row, told apart by type) and
    values holding the separators."""
    records = RecordFingerprints(DEFAULT_API_VERSION, columns=COLUMNS)
    rows = segment(300, 12)
    rows[5]["First"] = "a\x1fb"
    path = write_parquet(tmp_path / "segment.parquet", rows)
    mapped = both_ways(MAPPINGS[name], lambda: open_source(path, chunk_rows=64), records=records)
    assert any(row[4] for row in mapped)

    for i, row in enumerate(rows):
        row["Postal"] = None if i % 11 == 0 else i * 37 - 500
    whole = write_parquet(tmp_path / "whole.parquet", rows, Postal=pa.int64())
    mapped = both_ways(FULL, lambda: open_source(whole, chunk_rows=50), records=records)
    assert any(row[4] for row in mapped)


def test_a_refresh_s_known_records_are_looked_up_row_by_row(tmp_path: Path) -> None:
    """A refresh's lookups (``known``) are made on row dicts: that path stays row by row."""
    path = write_parquet(tmp_path / "segment.parquet", segment(50, 12))
    asked: list[int] = []

    def known(mapper: RowMapper, number: int, values: Any, record: int) -> None:
        asked.append(number)

    records = RecordFingerprints("v", known, columns=COLUMNS)
    assert columnar_rows(RowMapper.bind(FULL, COLUMNS), open_source(path), None, records) is None
    rows = list(map_rows(FULL, open_source(path), records=records))
    assert any(row.record for row in rows)
    assert asked


def test_a_relation_is_still_read_once(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = write_duckdb(tmp_path / "segment.duckdb", segment(20, 13))
    with duckdb.connect(str(path), read_only=True) as db:
        source = open_source(db.sql("select * from segment"))
        first = map_rows(FULL, source)  # nothing read until a row is asked for
        assert len(list(first)) == 20
        with pytest.raises(SourceError, match="read only once"):
            next(iter(map_rows(FULL, source)))


def test_a_parquet_dataset_maps_as_row_by_row(tmp_path: Path) -> None:
    """A directory of files, its hive partition a column the mapping reads."""
    rows = segment(240, 14)
    for part, country in enumerate(("LT", "Atlantis", "de")):
        directory = tmp_path / f"Country={country}"
        directory.mkdir()
        chunk = [{k: v for k, v in row.items() if k != "Country"} for row in rows[part::3]]
        schema = pa.schema([(name, pa.string()) for name in COLUMNS[:-1]])
        pq.write_table(pa.Table.from_pylist(chunk, schema=schema), directory / "part.parquet")
    assert takes_columnar_path(FULL, open_source(tmp_path))
    both_ways(FULL, lambda: open_source(tmp_path, chunk_rows=25))


#: The email expression as first written, without possessive repeats: what PLAIN_EMAIL must match.
BACKTRACKING_EMAIL = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[a-zA-Z]{{2,63}}|[xX][nN]--[a-zA-Z0-9-]+)"
)
EMAIL_PIECES = st.sampled_from(
    ["a", "Z", "0", "-", ".", "@", "_", "x", "n", "xn--", "é", " ", "co"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.from_regex(BACKTRACKING_EMAIL, fullmatch=True),
        st.lists(EMAIL_PIECES, max_size=14).map("".join),
    )
)
def test_the_possessive_email_expression_matches_what_backtracking_matches(text: str) -> None:
    assert (PLAIN_EMAIL.fullmatch(text) is None) == (BACKTRACKING_EMAIL.fullmatch(text) is None)


#: Pieces that make labels and local parts near their length limits (63 and 64).
LONG_PIECES = st.sampled_from(["a" * 31, "B" * 32, "7" * 63, "x" * 64, "-", ".", "@", "io"])


def plainly_valid(text: str) -> bool:
    """What the row-by-row mapper passes as it is (bar capitals): the backtracking expression
    and the length limits."""
    return (
        BACKTRACKING_EMAIL.fullmatch(text) is not None
        and len(text) <= MAX_EMAIL_LENGTH
        and text.index("@") <= MAX_EMAIL_LOCAL_LENGTH
    )


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.from_regex(BACKTRACKING_EMAIL, fullmatch=True),
        st.lists(EMAIL_PIECES, max_size=14).map("".join),
        st.lists(st.one_of(LONG_PIECES, EMAIL_PIECES), max_size=10).map("".join),
    )
)
def test_the_quick_email_check_passes_exactly_the_plain_addresses(text: str) -> None:
    special: set[int] = set()
    emails = _emails([text], special)
    if plainly_valid(text):
        assert (emails, special) == ([text.lower()], set())
    else:
        assert special == {0}  # mapped by the mapper, which reports why


@pytest.mark.parametrize(
    ("label", "plain"), [("a" * 63, True), ("a" * 64, False), ("a" + "-" * 61 + "b", True)]
)
def test_a_domain_label_over_63_characters_is_left_to_the_mapper(label: str, plain: bool) -> None:
    special: set[int] = set()
    _emails([f"ann@{label}.example.com"], special)
    assert (not special) is plain


def polars_frame(rows: list[dict[str, Any]]) -> Any:
    pl = pytest.importorskip("polars")
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))


@pytest.mark.parametrize("name", ["full", "tags-and-welcome", "reject-long-text"])
def test_a_polars_frame_maps_as_row_by_row(name: str) -> None:
    frame = polars_frame(segment(400, 21))
    assert takes_columnar_path(MAPPINGS[name], open_source(frame))
    rows = both_ways(MAPPINGS[name], lambda: open_source(frame, chunk_rows=64))
    assert [row[0] for row in rows] == list(range(400))


def test_polars_frames_of_other_types_and_categories_map_as_row_by_row() -> None:
    """Categories (Arrow dictionaries), whole numbers, floats and an all-null column; a frame
    made of several chunks."""
    pl = pytest.importorskip("polars")
    rows = segment(300, 22)
    frame = polars_frame(rows).with_columns(
        pl.col("Country").cast(pl.Categorical),
        pl.Series("Postal", [None if i % 9 == 0 else i * 37 - 500 for i in range(300)]),
        pl.Series("State", [float(i) / 4 for i in range(300)]),
        pl.lit(None, dtype=pl.String).alias("City"),
    )
    chunked = pl.concat([frame.slice(0, 100), frame.slice(100, 200)], rechunk=False)
    assert chunked.n_chunks() == 2
    both_ways(FULL, lambda: open_source(chunked, chunk_rows=70))


def test_a_polars_lazy_frame_maps_as_row_by_row_and_is_read_once() -> None:
    frame = polars_frame(segment(300, 23))
    rows = both_ways(FULL, lambda: open_source(frame.lazy(), chunk_rows=64))
    assert [row[0] for row in rows] == list(range(300))
    assert takes_columnar_path(FULL, open_source(frame.lazy()))
    source = open_source(frame.lazy())
    assert len(list(map_rows(FULL, source))) == 300
    with pytest.raises(SourceError, match="read only once"):
        next(iter(map_rows(FULL, source)))


def test_polars_hands_over_columns_of_values_as_row_by_row() -> None:
    """A polars frame hands over its columns as Python values (``Series.to_list``), not Arrow
    record batches, so pyarrow is not needed: frame and LazyFrame alike, with categories,
    whole numbers, floats, dates, zoned moments, decimals and booleans."""
    pl = pytest.importorskip("polars")
    count = 200
    moments = [None if i % 7 == 0 else datetime(1980, 1, 1 + i % 28, i % 3) for i in range(count)]
    frame = polars_frame(segment(count, 24)).with_columns(
        pl.col("Country").cast(pl.Categorical),
        pl.Series("Postal", [None if i % 9 == 0 else i * 37 - 500 for i in range(count)]),
        pl.Series("State", [float(i) / 4 for i in range(count)]),
        pl.Series("Born", [None if m is None else m.date() for m in moments]),
        pl.Series("Zoned", moments).dt.replace_time_zone("Europe/Berlin"),
        pl.Series("Spent", [Decimal(i) / 8 for i in range(count)]),
        pl.Series("Vip", [i % 2 == 0 for i in range(count)]),
    )
    columnar = [MAPPINGS[name] for name in ("full", "tags-and-welcome", "reject-long-text")]
    for mapping in columnar:
        assert takes_columnar_path(mapping, open_source(frame))
    assert open_source(frame).arrow_batches(COLUMNS) is None  # the columns, then
    mappings = [
        *columnar,
        ContactMapping(email="Email", city="Spent", first_name="Vip", postal_code="Postal"),
        # A birthdate is mapped row by row on every path: the same rows, whatever the source.
        ContactMapping(email="Email", birthdate="Born"),
        ContactMapping(email="Email", birthdate="Zoned", country="Country"),
    ]
    for mapping in mappings:
        rows = both_ways(mapping, lambda: open_source(frame, chunk_rows=64))
        assert [row[0] for row in rows] == list(range(count))
        rows = both_ways(mapping, lambda: open_source(frame.lazy(), chunk_rows=64))
        assert [row[0] for row in rows] == list(range(count))
    source = open_source(frame.lazy())
    assert len(list(map_rows(FULL, source))) == count
    with pytest.raises(SourceError, match="read only once"):
        next(iter(map_rows(FULL, source)))


def pandas_frame(rows: list[dict[str, Any]]) -> Any:
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(rows, columns=list(COLUMNS))


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@pytest.mark.parametrize(("seed", "chunk_rows"), [(31, 10_000), (32, 16), (33, 1)])
def test_a_pandas_frame_maps_as_row_by_row(name: str, seed: int, chunk_rows: int) -> None:
    frame = pandas_frame(segment(400, seed))
    assert takes_columnar_path(MAPPINGS[name], open_source(frame))
    rows = both_ways(MAPPINGS[name], lambda: open_source(frame, chunk_rows=chunk_rows))
    assert [row[0] for row in rows] == list(range(400))


def test_pandas_frames_of_pandas_own_types_map_as_row_by_row() -> None:
    """What pandas holds that a query's rows do not: NaN in text, nullable integers with NA,
    floats, categories, a string column of NA, timestamps with and without a zone and NaT,
    booleans; a column labelled by a number, a label given twice (its last column counts, as in
    a row's values); a filtered frame (its index has gaps: rows are numbered by position)."""
    pd = pytest.importorskip("pandas")
    count = 300
    frame = pandas_frame(segment(count, 34))
    frame["First"] = [float("nan") if i % 6 == 0 else v for i, v in enumerate(frame["First"])]
    frame["Country"] = frame["Country"].astype("category")
    frame["Postal"] = pd.array(
        [None if i % 9 == 0 else i * 37 - 500 for i in range(count)], dtype="Int64"
    )
    frame["State"] = [float(i) / 4 if i % 5 else float("nan") for i in range(count)]
    frame["City"] = pd.Series([pd.NA] * count, dtype="string")
    moments = pd.to_datetime(
        ["1980-05-17", None, "2001-01-31 10:30"] * (count // 3), format="ISO8601"
    )
    frame["Born"] = moments
    frame["Zoned"] = moments.tz_localize("Europe/Berlin")
    frame["Vip"] = [i % 2 == 0 for i in range(count)]
    frame[7] = [f"{i} Main St" for i in range(count)]
    twice = pd.concat([frame, pd.DataFrame({"Last": ["Twice"] * count})], axis=1)
    mappings = [
        FULL,
        ContactMapping(email="Email", first_name="First", birthdate="Born", city="7"),
        ContactMapping(email="Email", last_name="Last", birthdate="Zoned", tags=("vip",)),
        ContactMapping(email="Email", first_name="Vip", postal_code="Postal", country="Country"),
    ]
    for mapping in mappings:
        both_ways(mapping, lambda: open_source(frame, chunk_rows=64))
        both_ways(mapping, lambda: open_source(frame[frame["Vip"]], chunk_rows=50))
    assert takes_columnar_path(FULL, open_source(twice))
    rows = both_ways(FULL, lambda: open_source(twice, chunk_rows=64))
    last_names = {dict(fields).get("lastName") for *_, fields, _ in rows if fields}
    assert last_names == {"Twice"}


def test_an_empty_pandas_frame_maps_to_no_rows() -> None:
    frame = pandas_frame([])
    assert takes_columnar_path(FULL, open_source(frame))
    assert list(map_rows(FULL, open_source(frame))) == []


def test_a_pandas_frame_s_records_are_fingerprinted_as_row_by_row() -> None:
    """An export from a frame fingerprints each clean row's record a batch at a time, as a
    refresh's first pass does row by row: pandas' own values (NaN, NA, whole numbers) too."""
    pd = pytest.importorskip("pandas")
    records = RecordFingerprints(DEFAULT_API_VERSION, columns=COLUMNS)
    frame = pandas_frame(segment(300, 35))
    frame["First"] = [float("nan") if i % 6 == 0 else v for i, v in enumerate(frame["First"])]
    frame["Postal"] = pd.array([None if i % 9 == 0 else i * 37 for i in range(300)], dtype="Int64")
    mapped = both_ways(FULL, lambda: open_source(frame, chunk_rows=64), records=records)
    assert any(row[4] for row in mapped)
