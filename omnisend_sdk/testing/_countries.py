"""Country names Omnisend can turn into ISO codes when ``countryCode`` is absent.

Omnisend's own name table is not published; this is a small table of common English names, enough
for tests to see the derivation happen. A name not listed leaves ``countryCode`` unset.
"""

from __future__ import annotations

_CODES = {
    "AR": ("Argentina",),
    "AT": ("Austria",),
    "AU": ("Australia",),
    "BE": ("Belgium",),
    "BR": ("Brazil",),
    "CA": ("Canada",),
    "CH": ("Switzerland",),
    "CN": ("China",),
    "CZ": ("Czechia", "Czech Republic"),
    "DE": ("Germany",),
    "DK": ("Denmark",),
    "EE": ("Estonia",),
    "ES": ("Spain",),
    "FI": ("Finland",),
    "FR": ("France",),
    "GB": ("United Kingdom", "Great Britain", "UK"),
    "GR": ("Greece",),
    "HU": ("Hungary",),
    "IE": ("Ireland",),
    "IN": ("India",),
    "IT": ("Italy",),
    "JP": ("Japan",),
    "KR": ("South Korea", "Korea, Republic of"),
    "LT": ("Lithuania",),
    "LV": ("Latvia",),
    "MX": ("Mexico",),
    "NL": ("Netherlands", "The Netherlands"),
    "NO": ("Norway",),
    "NZ": ("New Zealand",),
    "PL": ("Poland",),
    "PT": ("Portugal",),
    "RO": ("Romania",),
    "SE": ("Sweden",),
    "SG": ("Singapore",),
    "UA": ("Ukraine",),
    "US": ("United States", "United States of America", "USA"),
    "ZA": ("South Africa",),
}
_BY_NAME = {name.casefold(): code for code, names in _CODES.items() for name in names}


def country_code(name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name, or None when the table lacks it."""
    return _BY_NAME.get(name.strip().casefold())
