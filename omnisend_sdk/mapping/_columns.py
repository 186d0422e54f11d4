"""Matching the columns a mapping names to the columns a source has, with suggestions on a miss."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Final

from omnisend_sdk._errors import MappingError

_NOT_ALNUM: Final = re.compile(r"[\W_]+")
#: How alike two names must be (difflib ratio, 0 to 1) to be suggested for each other.
_SUGGESTION_CUTOFF: Final = 0.6
_MAX_SUGGESTIONS: Final = 3


def suggest_columns(wanted: str, available: Iterable[str]) -> list[str]:
    """The available columns closest to ``wanted``, best first.

    Names are compared case-insensitively without spaces and punctuation, so ``"Email Address"``,
    ``"email_address"`` and ``"EMAILADDRESS"`` all count as very close.
    """
    keyed: dict[str, str] = {}
    for column in available:
        keyed.setdefault(_key(column), column)
    matches = difflib.get_close_matches(
        _key(wanted), list(keyed), n=_MAX_SUGGESTIONS, cutoff=_SUGGESTION_CUTOFF
    )
    return [keyed[match] for match in matches]


def resolve_columns(
    wanted: Iterable[tuple[str, str]], available: Sequence[str], *, ignore_case: bool
) -> dict[str, str]:
    """Find each wanted column among the available ones.

    Args:
        wanted: (mapping field, column name) pairs.
        available: The source's columns.
        ignore_case: Match names case-insensitively, ignoring surrounding spaces.

    Returns:
        Wanted column name -> the source's spelling of it.

    Raises:
        MappingError: Naming every missing column, the field that wanted it and close matches; or
            a case-insensitive match that is ambiguous.
    """
    exact = set(available)
    folded: dict[str, list[str]] = {}
    if ignore_case:
        for column in available:
            folded.setdefault(column.strip().casefold(), []).append(column)
    found: dict[str, str] = {}
    problems: list[str] = []
    for field, column in wanted:
        if column in exact:
            found[column] = column
            continue
        candidates = folded.get(column.strip().casefold(), []) if ignore_case else []
        if len(candidates) == 1:
            found[column] = candidates[0]
        elif candidates:
            problems.append(
                f"{field}: column {column!r} matches several columns ignoring case: "
                + ", ".join(repr(c) for c in candidates)
            )
        else:
            close = suggest_columns(column, available)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"{field}: no column {column!r}{hint}")
    if problems:
        shown = ", ".join(repr(c) for c in available[:20])
        more = f" and {len(available) - 20} more" if len(available) > 20 else ""
        raise MappingError("; ".join(problems) + f" (the source has {shown}{more})")
    return found


def _key(name: str) -> str:
    return _NOT_ALNUM.sub("", name.casefold())
