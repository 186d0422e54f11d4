"""The country rule: codes, names and aliases to an ISO 3166-1 alpha-2 code and an English name.

Omnisend takes ``countryCode`` over ``country``; sending both, from one table, keeps them
consistent. A value the table does not know is not an error: it is kept as the country name
(Omnisend may still recognise it) and reported as a warning.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final, NamedTuple

from omnisend_sdk.mapping._country_data import COUNTRIES


class Country(NamedTuple):
    """A recognised country."""

    code: str
    """ISO 3166-1 alpha-2 code, upper-case."""
    name: str
    """English short name."""


_PUNCTUATION: Final = re.compile(r"[^\w]+")


def country_key(text: str) -> str:
    """The form names are compared in: case-folded, accents and punctuation removed.

    ``"Côte d'Ivoire"``, ``"COTE D IVOIRE"`` and ``"cote-d'ivoire"`` share one key.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _PUNCTUATION.sub(" ", bare).split()
    if words and words[0] == "the":  # "The Netherlands", "the State of Palestine"
        words = words[1:]
    return " ".join(words)


def _build_index() -> dict[str, Country]:
    index: dict[str, Country] = {}
    for alpha2, alpha3, name, aliases in COUNTRIES:
        country = Country(alpha2, name)
        for spelling in (alpha2, alpha3, name, *aliases):
            key = country_key(spelling)
            # A key claimed by two countries would make the lookup depend on table order; the
            # table's tests keep it unambiguous, and the first claim wins if that ever slips.
            index.setdefault(key, country)
    return index


_INDEX: Final = _build_index()


@functools.lru_cache(maxsize=4096)  # country columns repeat a few hundred spellings at most
def normalise_country(value: str) -> Country | None:
    """Recognise a country from its code, name or a common alias.

    Args:
        value: ``"DE"``, ``"DEU"``, ``"Germany"``, ``"deutschland"``, ``"UK"``...

    Returns:
        The country, or ``None`` when the table does not know the value.
    """
    return _INDEX.get(country_key(value))


def country_by_code(code: str) -> Country | None:
    """The country for an ISO 3166-1 alpha-2 code (any case), or ``None``."""
    country = _INDEX.get(code.casefold())
    return country if country is not None and country.code == code.upper() else None
