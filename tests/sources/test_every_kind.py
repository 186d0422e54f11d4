"""Every kind of source, read from the same segment: real files and embedded databases, no mocks.

For each kind: every row comes out under the number that points back into the source (its first
row never lost, even after its columns were looked at), the mapper sends exactly the valid rows,
and the source tells the truth about being counted and read again.
"""

from __future__ import annotations

from contextlib import ExitStack

import attrs
import pytest

from omnisend_sdk import MappingError
from omnisend_sdk.mapping import RowSource, map_rows
from omnisend_sdk.sources import SourceError, open_source
from tests.sources.segment import COLUMNS, KINDS, MAPPING, OUTCOME, ROWS, Files, Kind

by_kind = pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])


def opened(kind: Kind, files: Files, stack: ExitStack) -> RowSource:
    return open_source(kind.make(files, stack))


@by_kind
def test_each_kind_is_recognised_by_its_shape(kind: Kind, files: Files, stack: ExitStack) -> None:
    assert type(opened(kind, files, stack)).__name__ == kind.reader


@by_kind
def test_every_row_comes_out_under_its_number_in_the_source(
    kind: Kind, files: Files, stack: ExitStack
) -> None:
    source = opened(kind, files, stack)
    assert source.columns == COLUMNS
    assert source.columns == COLUMNS  # looking twice reads nothing

    outcome = {}
    for mapped in map_rows(MAPPING, source):
        if mapped.ok:
            outcome[mapped.row] = ("sent", mapped.to_json()["identifiers"][0]["id"])
        else:
            outcome[mapped.row] = ("rejected", mapped.issues[0].code)

    assert outcome == {position + kind.first: result for position, result in OUTCOME.items()}


@by_kind
def test_the_values_of_the_first_row_are_read_as_they_are(
    kind: Kind, files: Files, stack: ExitStack
) -> None:
    source = opened(kind, files, stack)
    first = next(iter(source))
    assert first.number == kind.first
    assert dict(first.values or {}) == dict(zip(COLUMNS, ROWS[0], strict=True))


@by_kind
def test_only_sources_that_can_be_read_again_say_so_and_only_lengths_known_are_counted(
    kind: Kind, files: Files, stack: ExitStack
) -> None:
    source = opened(kind, files, stack)
    assert source.reiterable is kind.reiterable
    assert source.row_count == (len(ROWS) if kind.counted else None)

    first = [row.number for row in source]
    assert first == list(range(kind.first, kind.first + len(ROWS)))
    if kind.reiterable:
        assert [row.number for row in source] == first  # the same rows again
    else:
        with pytest.raises(SourceError, match="can be read only once"):
            list(source)  # never an empty second read that passes for an empty segment


@by_kind
def test_the_last_duplicate_wins_on_a_second_read_of_what_can_be_read_again(
    kind: Kind, files: Files, stack: ExitStack
) -> None:
    source = opened(kind, files, stack)
    last_wins = attrs.evolve(MAPPING, duplicates="last")
    if not kind.reiterable:
        with pytest.raises(MappingError, match="can be read only once"):
            map_rows(last_wins, source)
        return
    sent = {mapped.row - kind.first for mapped in map_rows(last_wins, source) if mapped.ok}
    assert sent == {0, 1, 4, 5, 6, 8, 9} - {0}  # the second ANN (position 4) wins
