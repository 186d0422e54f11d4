"""Trying a mapping out on one row, without a source."""

from __future__ import annotations

from collections.abc import Mapping

from omnisend_sdk.mapping._mapper import MappedRow, RowMapper
from omnisend_sdk.mapping._spec import MappingSpec


def preview(mapping: MappingSpec, row: Mapping[str, object], *, row_number: int = 1) -> MappedRow:
    """Map one row and show the contact it becomes, with its issues.

    Columns the row lacks are taken as empty, so a few columns are enough to try a rule out;
    ``validate_columns`` is the check for a source's header.

    Args:
        mapping: The mapping (a :class:`~omnisend_sdk.mapping.ContactMapping`).
        row: Column name -> value.
        row_number: The number the row's issues carry.
    """

    def key(column: str) -> str:
        # The row's own spelling of a column stands for the mapping's under ignore_case.
        return column.casefold() if mapping.ignore_case else column

    present = {key(column) for column in row}
    filled = dict(row)
    for _, column in mapping.columns():
        if key(column) not in present:
            filled[column] = None
    return RowMapper.bind(mapping, filled.keys()).map(row_number, filled)
