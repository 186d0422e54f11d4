"""Telephone numbering data by ISO 3166-1 alpha-2 code, for the built-in phone rules.

:data:`PHONE_PLANS` (read from ``data/phone_plans.json``): ITU-T E.164 calling codes and national
trunk prefixes. The trunk prefix is what is dialled before a national number inside the country
("0" in most of Europe, "1" in the North American plan, "8" in Russia); none means a leading zero
is part of the number (Italy).

:data:`CONFIRMED_RANGES`: the national significant numbers (after the calling code, trunk prefix
removed) that the built-in rules confirm, per country. Deliberately narrow: mostly the mobile
ranges, which are what SMS reaches, plus the geographic ranges of a few large cities, written from
each national numbering plan. Every range is checked in the tests against Google's libphonenumber,
which must find every number in it valid; a number outside them is not confirmed, so it is not
sent unless libphonenumber (the ``phones`` extra) is installed to check it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Final


def _read_phone_plans() -> dict[str, tuple[int, tuple[str, ...]]]:
    """The plans file: an object of alpha-2 code -> [calling code, [trunk prefix, ...]]."""
    text = (
        resources.files("omnisend_sdk.mapping").joinpath("data/phone_plans.json").read_text("utf-8")
    )
    return {code: (int(dial), tuple(trunks)) for code, (dial, trunks) in json.loads(text).items()}


#: alpha-2 -> (calling code, trunk prefixes)
PHONE_PLANS: Final[dict[str, tuple[int, tuple[str, ...]]]] = _read_phone_plans()


#: Countries whose international call prefix is "00", as ITU-T recommends: in their rows "0044..."
#: is a British number. Elsewhere "00" can mean something else (Brazil dials 00 then a carrier
#: code, Australia 0011, Japan 010), so the built-in rules leave such numbers to libphonenumber.
#: Listed for the countries of CONFIRMED_RANGES, whose rows the built-in rules can read.
DIALS_00: Final = frozenset(
    {
        "AE", "AR", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB",
        "GR", "HR", "HU", "IE", "IL", "IN", "IT", "LT", "LU", "LV", "MT", "MX", "NL", "NO", "NZ",
        "PL", "PT", "RO", "SE", "SI", "SK", "TR", "UA", "ZA",
    }
)  # fmt: skip

#: alpha-2 -> regular expression of the national significant numbers confirmed without
#: libphonenumber. Countries that share a calling code share a numbering plan: a number is
#: confirmed when it matches the ranges of any of them.
CONFIRMED_RANGES: Final[dict[str, str]] = {
    "AE": r"5[024568]\d{7}",
    "AR": r"9?11[2-8]\d{7}",  # Buenos Aires; mobiles take a 9 after +54
    "AT": r"6[5-9]\d{5,11}",
    "AU": (
        r"4(?:[0-36]\d|5[0-2]|7[02-8]|8[124-9]|9[0-3])\d{6}"
        r"|(?:2[89]|3[89]|73|8[89])\d{7}"
    ),
    "BE": r"4[5-9]\d{7}|(?:2[2-8]|3[2-8]|9[2-4])\d{6}",
    "BG": r"(?:8[7-9]|98)\d{7}",
    "BR": (  # area code, then a mobile (9 and 8 digits) or a fixed line (7 more digits)
        r"(?:1[1-9]|2[12478]|3[1-578]|4[1-9]|5[1345]|6[1-9]|7[13-579]|8[1-9]|9[1-9])"
        r"(?:9\d{8}|[2-5]\d{7})"
    ),
    "CH": r"7[5-9]\d{7}|(?:2[12467]|3[1-4]|4[134]|5[256]|6[12]|[7-9]1)\d{7}",
    "CY": r"9[4-79]\d{6}|2[2-6]\d{6}",
    "CZ": r"(?:60[1-8]|70[2-5]|7[2379]\d)\d{6}|(?:2\d|3[1257-9]|4[16-9]|5[13-9])\d{7}",
    "DE": r"1(?:5[0-25-9]\d{8}|6[023]\d{7,8}|7\d{8,9})|(?:30|40|69|89)\d{7,8}",
    "DK": r"(?:2\d|3[0-6]|[4-7]\d|8[126-9]|9[1-46-9])[1-9]\d{5}",
    "EE": r"5\d{7}|5(?:[02]\d|1[0-8])\d{4}",
    "ES": r"6\d{8}|7[1-4]\d{7}|[89](?:[1-7][1-8]|8[1-8])\d{6}",
    "FI": r"(?:4[0-8]|50)\d{6,8}",
    "FR": r"(?!262|40|59[04]|639|69)(?:[1-5]\d|6\d|7[3-9]|9\d)\d{7}",  # not the overseas ranges
    "GB": r"7(?!700|911[3-69])[1-57-9]\d{8}|20[3478]\d{7}",
    "GR": r"69\d{8}|21\d{8}",
    "HR": r"9[1258]\d{7}|1\d{7}",
    "HU": r"(?:20|3[01]|50|70)\d{7}|1\d{7}",
    "IE": r"8[35-9]\d{7}|1\d{7}",
    "IL": r"5(?:0[02-9]|2[02-9]|3\d|4[2-9])\d{6}|(?:2[2-8]|[3489][2-9])\d{6}",
    "IN": r"[6-9]\d{9}",
    "IT": r"3[1-9]\d{8}|3[2-9]\d{7}|0[26]\d{6,8}",
    "JP": r"[7-9]0[1-9]\d{7}",
    "LT": r"6\d{7}|52\d{6}|(?:37|4[1256])\d{6}",
    "LU": r"6[269][18]\d{6}",
    "LV": r"2(?:[0-24-9]\d|3[4-9])\d{5}",
    "MT": r"(?:7[79]|9[29])\d{6}|21\d{6}",
    "MX": r"(?:33|55|81)\d{8}",
    "NL": r"6[1-58]\d{7}|[1-47]0\d{7}",
    "NO": r"(?:4[01678]|9[0-8])\d{6}",
    "NZ": r"21\d{6,8}|2[279]\d{7,8}|(?:3[2-79]|4[2-9]|6[2-35-9]|7[2-57-9]|9[2-9])\d{6}",
    "PL": (
        r"(?:45|5[0137]|6[069]|7[2389]|88)\d{7}"
        r"|(?:1[2-8]|2[2-69]|3[2-4]|4[1-468]|5[24-689]|6[1-3578]|7[14-7]|8[1-79]|9[145])\d{7}"
    ),
    "PT": r"9[1236]\d{7}|2[12]\d{7}",
    "RO": r"7[2-7]\d{7}|2[13]\d{7}",
    "RU": r"9(?!300)\d{9}|(?:49[59]|812)\d{7}",
    "SE": r"7[02369]\d{7}",
    "SG": r"(?:8[1-9]|9[0-8])\d{6}",
    "SI": r"(?:[37][01]|4[013]|51|6[48])\d{6}|[1-57][2-8]\d{6}",
    "SK": r"9(?:0[1-8]|1[0-24-9]|5\d)\d{6}|2[2-9]\d{7}",
    "TR": r"5(?:0[1-7]|[34]\d|5[1-9])\d{7}|(?:21[26]|312)\d{7}",
    "UA": r"(?:39|50|6[3678]|73|9[1-9])\d{7}",
    "ZA": r"(?:6[0-8]|7[1-46-9]|8[1-4])\d{7}|(?:1[0-8]|2[1-378]|3[1-69]|4\d|5[1346-8])\d{7}",
}
