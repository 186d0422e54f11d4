"""The issues CSV runs nothing when a spreadsheet opens it: formula cells get a quote in front."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import ContactMapping, export_segment
from omnisend_sdk.export._spreadsheet import spreadsheet_cell, spreadsheet_text
from omnisend_sdk.testing import OmnisendEmulator
from tests.export.test_report import issue, make

#: Cell -> what the issues CSV holds. Every trigger OWASP lists, each with a formula after it
#: and with plain text after it, then what is left alone.
CELLS = {
    "=HYPERLINK(1)": "'=HYPERLINK(1)",
    "=": "'=",
    "+SUM(1,2)": "'+SUM(1,2)",
    "+33612345678": "'+33612345678",  # a phone: a spreadsheet would read a number, + dropped
    "-1+2": "'-1+2",
    "-cmd|' /C calc'!A0": "'-cmd|' /C calc'!A0",
    "-": "'-",
    "-5e3": "'-5e3",  # not a plain number: a spreadsheet may still compute it
    "@SUM(1+1)": "'@SUM(1+1)",
    "@mention": "'@mention",
    "\t=1+1": "'\t=1+1",
    "\tplain": "'\tplain",
    "\r=1+1": "'\r=1+1",
    "\rplain": "'\rplain",
    "=***@e***.com": "'=***@e***.com",  # a masked email can start with a trigger
    "  =1+1": "'  =1+1",  # some imports trim leading spaces
    "\u00a0@SUM(1)": "'\u00a0@SUM(1)",
    "\n=1+1": "'\n=1+1",
    # Left alone:
    "-5": "-5",  # a plain negative number stays a number
    "-0.25": "-0.25",
    " -7": " -7",
    "5": "5",
    "": "",
    "j***@e***.com": "j***@e***.com",
    "a=b+c-d": "a=b+c-d",  # a trigger inside a cell is text
    "'=1": "'=1",  # already text
    "invalid_email": "invalid_email",
}


@pytest.mark.parametrize(("value", "written"), CELLS.items(), ids=map(repr, CELLS))
def test_a_cell_is_neutralised_only_when_a_spreadsheet_would_run_it(
    value: str, written: str
) -> None:
    assert spreadsheet_text(value) == written


@pytest.mark.parametrize(("value", "cell"), [(None, ""), (7, 7), (-3, -3), ("=1", "'=1")])
def test_cells_that_are_not_text(value: object, cell: object) -> None:
    assert spreadsheet_cell(value) == cell


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


@pytest.mark.parametrize(("value", "written"), CELLS.items(), ids=map(repr, CELLS))
def test_every_column_of_the_issues_csv_is_neutralised(
    tmp_path: Path, value: str, written: str
) -> None:
    # Field names come from the user's columns, messages may quote the data: every text cell.
    crafted = issue(4, field=value or "email", message=value, value=value or None, code=value)
    rows = read_back(make(issues=[crafted]).write_issues_csv(tmp_path / "issues.csv"))
    assert rows[1] == ["4", written or "email", "error", written, written, written, ""]


def test_an_export_of_formula_emails_writes_an_inert_issues_csv(
    tmp_path: Path, emulator: OmnisendEmulator, client: Any, state_dir: Path
) -> None:
    # Emails that are formulas, as a hostile segment would hold them; all invalid.
    emails = ["=HYPERLINK(1)@example.com", "+33 6 12 34 56 78", "-2+3", "@SUM(A1)", "\t=1"]
    lines = ["email,name", "ann@example.com,Ann", *(f'"{email}",X' for email in emails)]
    source = tmp_path / "segment.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = export_segment(
        source,
        ContactMapping(email="email", first_name="name"),
        client=client,
        segment="VIP",
        state_dir=state_dir,
        progress=None,
    )
    emulator.run_until_idle()
    assert (report.rows_read, report.exported, report.invalid) == (6, 1, 5)

    rows = read_back(report.write_issues_csv(tmp_path / "issues.csv"))
    values = [row[5] for row in rows[1:]]
    assert values[0] == "'=***@e***.com"
    for cell in (cell for row in rows for cell in row):
        assert cell.startswith("'") or not cell.lstrip().startswith(("=", "+", "-", "@")), cell
        assert not cell.startswith(("\t", "\r")), cell
