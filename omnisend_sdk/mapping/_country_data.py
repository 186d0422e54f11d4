"""ISO 3166-1 countries: alpha-2, alpha-3, English short name, other accepted spellings.

Read from ``data/countries.json``, a list of ``[alpha-2, alpha-3, name, [spelling, ...]]``.

Codes and English names follow ISO 3166-1; the short names drop ISO's inverted "Name, Qualifier"
form (kept as an accepted spelling). Aliases are the names people type: local names
("Deutschland"), old names ("Swaziland") and abbreviations ("UK"). Lookups are case-insensitive and
ignore accents and punctuation; see :func:`omnisend_sdk.mapping.normalise_country`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Final


def _read_countries() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    text = (
        resources.files("omnisend_sdk.mapping").joinpath("data/countries.json").read_text("utf-8")
    )
    return tuple((a2, a3, name, tuple(aliases)) for a2, a3, name, aliases in json.loads(text))


#: (alpha-2, alpha-3, English short name, other accepted spellings)
COUNTRIES: Final[tuple[tuple[str, str, str, tuple[str, ...]], ...]] = _read_countries()
