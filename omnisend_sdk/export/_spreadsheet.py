"""CSV cells that a spreadsheet would run as formulas, made inert (CSV or formula injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as
a formula, and a leading tab or carriage return can hide such a start. Values in the SDK's CSV
files come from the customer's data (column names, masked values such as ``=***@e***.com``), so
a crafted value could make whoever opens the file run ``=HYPERLINK(...)`` or worse.

OWASP's convention is followed: such a cell gets a single quote in front. A spreadsheet shows
the rest as text and hides the quote; a program reading the file sees it.

Two choices go beyond the bare list of characters:

- a trigger after leading whitespace counts too, because some imports trim it first;
- a plain negative number (``-5``, ``-0.25``) is left as it is: a spreadsheet reads it as that
  number, and a quote would turn it into text. A leading ``+`` is never left: ``+33612345678``
  is a phone number, which a spreadsheet would otherwise read as a number and strip of its ``+``.
"""

from __future__ import annotations

import re
from typing import Final

#: What a formula can start with.
_FORMULA_STARTS: Final = ("=", "+", "-", "@")
#: Characters that spreadsheets may skip before looking for a formula (OWASP lists both).
_HIDING_STARTS: Final = ("\t", "\r")
_NEGATIVE_NUMBER: Final = re.compile(r"-\d+(?:\.\d+)?")
#: What makes a spreadsheet take the rest of a cell as text.
_TEXT_PREFIX: Final = "'"


def spreadsheet_text(value: str) -> str:
    """``value``, with a single quote in front if a spreadsheet would run it as a formula."""
    if value.startswith(_HIDING_STARTS):
        return _TEXT_PREFIX + value
    shown = value.lstrip()
    if shown.startswith(_FORMULA_STARTS) and not _NEGATIVE_NUMBER.fullmatch(shown):
        return _TEXT_PREFIX + value
    return value


def spreadsheet_cell(value: object) -> object:
    """A value ready for ``csv.writer``: ``None`` as an empty cell, text made inert
    (:func:`spreadsheet_text`), numbers as they are (a number is never a formula)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_text(value)
    return value
