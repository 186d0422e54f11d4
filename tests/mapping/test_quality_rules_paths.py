"""The data-quality rules (missing-value texts, garbled text, postal codes' lost zeros, wrapped
emails) give the same rows on both mapping paths, whatever mix of values a file holds."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk.sources import open_source
from tests.mapping.test_columnar import COLUMNS, FULL, both_ways, takes_columnar_path

GARBLED = [name.encode().decode("latin-1") for name in ("José", "Ölöf", "Dvořák", "Nguyễn")]
TEXTS = st.sampled_from(
    ["Ann", "Müller", "Null", "Nan", "", " ", "NULL", "\\N", "nan", "-", "N/A", *GARBLED]
)
POSTAL = st.sampled_from(["2139", "02139", "2139.0", "800", "12345", "123456", "LV-1010", "NULL"])
COUNTRIES = st.sampled_from(["US", "Australia", "GB", "DE", "Narnia", "", "NULL"])
EMAILS = st.sampled_from(
    ["ann@example.com", "Ann Lee <ann@example.com>", "mailto:bob@example.com", "bob@example.com.",
     "NULL", "cy@example.com", "Cy <cy@example.com> x"]
)  # fmt: skip
ROW = st.fixed_dictionaries(
    {
        "Email": EMAILS,
        "First": TEXTS,
        "Last": TEXTS,
        "Street": TEXTS,
        "City": TEXTS,
        "State": TEXTS,
        "Postal": POSTAL,
        "Country": COUNTRIES,
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=15))
def test_any_mix_of_values_maps_as_row_by_row(rows: list[dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as directory:  # hypothesis runs it many times
        path = Path(directory) / "mix.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        assert takes_columnar_path(FULL, open_source(path))
        both_ways(FULL, lambda: open_source(path))


#: What a frame's cells hold besides text: pandas' missing values, and postal codes as numbers
#: (a column of them with gaps is floats).
FRAME_VALUES = st.sampled_from([None, float("nan"), 2139, 2139.0, 800.0, 12345, 0.5, True])
FRAME_ROW = st.fixed_dictionaries(
    {
        "Email": EMAILS,
        "First": TEXTS | FRAME_VALUES,
        "Last": TEXTS,
        "Street": TEXTS | FRAME_VALUES,
        "City": TEXTS,
        "State": TEXTS,
        "Postal": POSTAL | FRAME_VALUES,
        "Country": COUNTRIES | st.none(),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(FRAME_ROW, min_size=1, max_size=15), st.integers(min_value=1, max_value=6))
def test_any_mix_of_values_in_a_pandas_frame_maps_as_row_by_row(
    rows: list[dict[str, object]], chunk_rows: int
) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    assert takes_columnar_path(FULL, open_source(frame))
    both_ways(FULL, lambda: open_source(frame, chunk_rows=chunk_rows))
