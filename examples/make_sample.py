"""Generate ``examples/segment.csv``: a realistic sample segment of customer profiles.

Run from the repository root (the output is committed, so this is only needed to change it)::

    python examples/make_sample.py

The seed is fixed, so the file is the same on every machine and every run. It holds the eight
seed fields (email, first name, last name, a two-column address, country, state, city, postal
code) plus phone, birthday and loyalty tier, with the defects real exports have, in realistic
shares:

- about 2.5% bad emails (no ``@``, two ``@``, no top-level domain, spaces, empty);
- about 2% repeated customers whose email differs only in case or surrounding spaces;
- about 1% unknown countries (``Atlantis``, ``N/A``...), and countries written as names, codes
  and local aliases (``UK``, ``USA``, ``Deutschland``);
- names with accents, names garbled by a past UTF-8 -> Latin-1 round trip (``JosÃ©``), and a few
  lines written by a Windows spreadsheet in cp1252 rather than UTF-8;
- phone numbers with and without a country code, birthdays in several formats, some invalid.

Every email uses a domain reserved for examples (``example.com`` and friends, RFC 2606), so no
real person can be reached even if the file is sent to a real store.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Final

SEED: Final = 20260315
ROWS: Final = 2_000
OUTPUT: Final = Path(__file__).with_name("segment.csv")
COLUMNS: Final = (
    "EmailAddress",
    "FirstName",
    "LastName",
    "Street",
    "Line2",
    "Country",
    "State",
    "City",
    "PostalCode",
    "Phone",
    "Birthday",
    "Tier",
)

# Shares of each defect, per row. Chosen to match what a CRM export typically holds.
BAD_EMAIL_SHARE: Final = 0.025
DUPLICATE_SHARE: Final = 0.02
UNKNOWN_COUNTRY_SHARE: Final = 0.01
MOJIBAKE_SHARE: Final = 0.008
CP1252_LINES: Final = 6

FIRST_NAMES: Final = (
    "Anna", "James", "Maria", "John", "Sofia", "Liam", "Emma", "Noah", "Olivia", "Lucas",
    "José", "Zoë", "Łukasz", "Søren", "Anaïs", "François", "Jürgen", "Ólöf", "Renée", "Joël",
    "Agnė", "Jonas", "Gabrielė", "Matas", "Élodie", "Mateusz", "Björn", "Chloé", "Iñigo", "Nuño",
    "Mei", "Hiroshi", "Priya", "Ahmed", "Fatima", "Chen", "Dmitri", "Olga", "Siobhán", "Seán",
)  # fmt: skip
LAST_NAMES: Final = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Miller", "Garcia",
    "Müller", "Schäfer", "Dvořák", "Kowalczyk", "Jankauskas", "Kazlauskienė", "Lefèvre",
    "Ólafsdóttir", "Nguyễn", "García-Márquez", "O'Brien", "van der Berg", "Sørensen", "Åberg",
    "Rossi", "Bianchi", "Dupont", "Fernández", "Novak", "Petrović", "Öztürk",
)  # fmt: skip
STREETS: Final = (
    "Main Street", "High Street", "Oak Avenue", "Station Road", "Church Lane", "Park Road",
    "Gedimino pr.", "Hauptstraße", "Rue de la Paix", "Calle Mayor", "Via Roma", "Kerkstraat",
)  # fmt: skip
# Country spellings as users type them, with (state, city, postal code pattern) choices.
# "#" in a pattern is a digit, "A" a capital letter.
COUNTRIES: Final = {
    "US": (("United States", "USA", "US", "us"), (("CA", "Los Angeles", "9####"),
           ("NY", "New York", "1####"), ("TX", "Austin", "7####"), ("IL", "Chicago", "606##"))),
    "GB": (("United Kingdom", "UK", "GB", "England"), (("", "London", "SW1A #AA"),
           ("", "Manchester", "M# #AA"), ("", "Edinburgh", "EH# #AA"))),
    "DE": (("Germany", "Deutschland", "DE"), (("Berlin", "Berlin", "10###"),
           ("Bayern", "München", "80###"))),
    "FR": (("France", "FR"), (("", "Paris", "750##"), ("", "Lyon", "6900#"))),
    "LT": (("Lithuania", "LT", "Lietuva"), (("", "Vilnius", "LT-0####"),
           ("", "Kaunas", "LT-4####"))),
    "ES": (("Spain", "España", "ES"), (("", "Madrid", "280##"), ("", "Sevilla", "410##"))),
    "CA": (("Canada", "CA"), (("ON", "Toronto", "M#A #A#"), ("QC", "Montréal", "H#A #A#"))),
    "AU": (("Australia", "AU"), (("NSW", "Sydney", "2###"), ("VIC", "Melbourne", "3###"))),
}  # fmt: skip
COUNTRY_WEIGHTS: Final = {"US": 30, "GB": 18, "DE": 12, "FR": 8, "LT": 8, "ES": 8, "CA": 8, "AU": 8}
UNKNOWN_COUNTRIES: Final = ("Atlantis", "N/A", "Narnia", "Europe", "Unknown", "Elbonia")
# Calling code and national number length (without the trunk 0) per country.
CALLING_CODES: Final = {
    "US": ("1", 10), "GB": ("44", 10), "DE": ("49", 10), "FR": ("33", 9), "LT": ("370", 8),
    "ES": ("34", 9), "CA": ("1", 10), "AU": ("61", 9),
}  # fmt: skip
#: Leading digits of a real mobile (or, in North America, area code) range in each country, so
#: most sample numbers are ones Omnisend would take; a few stay made up, as in real exports.
NUMBER_PREFIXES: Final = {
    "US": "415", "GB": "75", "DE": "17", "FR": "6", "LT": "6", "ES": "6", "CA": "416", "AU": "4",
}  # fmt: skip
#: North American numbers are written nationally without a trunk 0.
NO_TRUNK_ZERO: Final = frozenset({"US", "CA"})
DOMAINS: Final = ("example.com", "example.org", "example.net", "mail.example.com")
TIERS: Final = (("Bronze", 50), ("Silver", 30), ("Gold", 15), ("Platinum", 5))
BAD_EMAILS: Final = (
    "{user}.example.com",  # no @
    "{user}@@example.com",  # two @
    "{user}@example",  # no top-level domain
    "{user} @example.com",  # a space inside
    "{user}@example..com",  # an empty label
    "",  # missing
    "n/a",
)


def _pattern(rng: random.Random, pattern: str) -> str:
    digits, letters = "0123456789", "ABCDEFGHJKLMNPRSTUVWXY"
    return "".join(
        rng.choice(digits) if c == "#" else rng.choice(letters) if c == "A" else c for c in pattern
    )


def _slug(text: str) -> str:
    """An email-safe local-part fragment of a name (accents dropped the way CRMs do it)."""
    plain = text.encode("ascii", "ignore").decode().lower()
    return "".join(c for c in plain if c.isalnum()) or "customer"


def _phone(rng: random.Random, country: str) -> str:
    calling_code, length = CALLING_CODES[country]
    digits = str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(length - 1))
    style = rng.random()
    # One in twenty is made up (in no real range); the rest start like real numbers.
    number = digits if style < 0.05 else (NUMBER_PREFIXES[country] + digits)[:length]
    if style < 0.45:
        return f"+{calling_code} {number[:3]} {number[3:6]} {number[6:]}"
    if style < 0.6:
        return f"00{calling_code}{number}"
    if style < 0.75:  # national format: read with the row's country
        return number if country in NO_TRUNK_ZERO else f"0{number}"
    return ""


def _birthday(rng: random.Random) -> str:
    year, month, day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.random()
    if style < 0.55:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if style < 0.65:
        return f"{day:02d}.{month:02d}.{year:04d}"
    if style < 0.7:
        return f"{day:02d}/{month:02d}/{year:04d}"  # ambiguous when day <= 12
    if style < 0.72:
        return f"{year:04d}-02-30"  # no such day
    return ""


def _mojibake(name: str) -> str:
    """The name after a UTF-8 -> Latin-1 round trip: what a misconfigured export leaves."""
    return name.encode("utf-8").decode("latin-1")


def _profile(rng: random.Random, index: int) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    code = rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
    spellings, places = COUNTRIES[code]
    state, city, postal = rng.choice(places)
    user = f"{_slug(first)}.{_slug(last)}{index}"
    email = f"{user}@{rng.choice(DOMAINS)}"
    if rng.random() < 0.3:
        email = email.title()  # CRMs keep whatever case the customer typed
    country = rng.choice(spellings)
    if rng.random() < UNKNOWN_COUNTRY_SHARE:
        country = rng.choice(UNKNOWN_COUNTRIES)
    if rng.random() < BAD_EMAIL_SHARE:
        email = rng.choice(BAD_EMAILS).format(user=user)
    if rng.random() < MOJIBAKE_SHARE:
        first, last = _mojibake(first), _mojibake(last)
    return {
        "EmailAddress": email,
        "FirstName": first,
        "LastName": last,
        "Street": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
        "Line2": rng.choice(("", "", "", f"Apt {rng.randint(1, 40)}", "Floor 2")),
        "Country": country,
        "State": state,
        "City": city,
        "PostalCode": _pattern(rng, postal),
        "Phone": _phone(rng, code),
        "Birthday": _birthday(rng),
        "Tier": rng.choices([t for t, _ in TIERS], weights=[w for _, w in TIERS])[0],
    }


def _duplicate_of(rng: random.Random, original: dict[str, str]) -> dict[str, str]:
    """The same customer again, from another system: the email in other case or padded."""
    email = original["EmailAddress"]
    email = rng.choice((email.upper(), f"  {email}", f"{email.lower()} ", email.swapcase()))
    return {**original, "EmailAddress": email, "Tier": rng.choice([t for t, _ in TIERS])}


def profiles(seed: int = SEED, rows: int = ROWS) -> list[dict[str, str]]:
    """The sample's rows, in file order."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not a secret
    made: list[dict[str, str]] = []
    while len(made) < rows:
        if made and rng.random() < DUPLICATE_SHARE:
            made.append(_duplicate_of(rng, rng.choice(made)))
        else:
            made.append(_profile(rng, len(made) + 1))
    return made


def _line(row: dict[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([row[c] for c in COLUMNS])
    return buffer.getvalue()


def _windows_encodable(row: dict[str, str]) -> bool:
    """Whether the row has accents that cp1252 can hold (and UTF-8 would write differently)."""
    text = "".join(row.values())
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return not text.isascii()


def write(path: Path = OUTPUT, seed: int = SEED, rows: int = ROWS) -> Path:
    """Write the sample CSV: UTF-8, except a few lines a Windows spreadsheet wrote in cp1252."""
    # A separate stream, so choosing the cp1252 lines never changes the rows themselves.
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible sample data, not a secret
    made = profiles(seed, rows)
    accented = [i for i, row in enumerate(made) if _windows_encodable(row)]
    windows_lines = set(rng.sample(accented, CP1252_LINES))
    with path.open("wb") as file:
        file.write(",".join(COLUMNS).encode() + b"\n")
        for i, row in enumerate(made):
            encoding = "cp1252" if i in windows_lines else "utf-8"
            file.write(_line(row).encode(encoding))
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
