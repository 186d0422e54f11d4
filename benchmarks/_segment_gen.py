"""A synthetic customer segment for the mapping benchmark: realistic rows, made on the fly.

Rows are generated one at a time from small fixed pools (so memory does not grow with the row
count) and are deterministic (the same ``i`` always gives the same row). About 2% of rows carry a
defect an export meets in real data: an invalid or missing email, a duplicate email, an unknown
country, stray whitespace and capitals, a control character, an over-long value.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from omnisend_sdk.mapping import ContactMapping

#: The eight seed fields of a segment, as the columns of a typical e-commerce export.
COLUMNS = (
    "EmailAddress",
    "FirstName",
    "LastName",
    "Street",
    "Country",
    "State",
    "City",
    "PostalCode",
)

#: The mapping of those columns, shared by the benchmarks.
MAPPING = ContactMapping(
    email="EmailAddress",
    first_name="FirstName",
    last_name="LastName",
    address="Street",
    country="Country",
    state="State",
    city="City",
    postal_code="PostalCode",
)

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Zoë",
    "José",
    "Łukasz",
    "Ingrid",
    "Aoife",
    "Mateo",
    "Sofía",
    "Jonas",
    "Emma",
    "Luca",
    "Giulia",
    "Noah",
    "Olivia",
    "Liam",
    "Amelia",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Müller",
    "Schmidt",
    "Kowalski",
    "Jonaitis",
    "O'Brien",
    "Rossi",
    "Dubois",
    "Novák",
    "Nielsen",
]
STREETS = [
    "Main St",
    "Oak Ave",
    "Maple Rd",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Washington Blvd",
    "Lake View Dr",
    "Hauptstraße",
    "Gedimino pr.",
    "Rue de Rivoli",
    "Via Roma",
    "High Street",
    "Calle Mayor",
]
PLACES = (
    ("United States", "IL", "Springfield", "62701"),
    ("USA", "NY", "New York", "10001"),
    ("US", "CA", "Los Angeles", "90001"),
    ("United Kingdom", "England", "London", "SW1A 1AA"),
    ("UK", "Scotland", "Edinburgh", "EH1 1YZ"),
    ("Germany", "Berlin", "Berlin", "10115"),
    ("Deutschland", "Bayern", "München", "80331"),
    ("DE", "Hamburg", "Hamburg", "20095"),
    ("Lithuania", "Vilniaus apskritis", "Vilnius", "01100"),
    ("LT", "Kauno apskritis", "Kaunas", "44280"),
    ("France", "Île-de-France", "Paris", "75001"),
    ("Italy", "Lazio", "Roma", "00100"),
    ("Spain", "Madrid", "Madrid", "28001"),
    ("Czechia", "Praha", "Praha", "11000"),
    ("Canada", "ON", "Toronto", "M5H 2N2"),
    ("Australia", "NSW", "Sydney", "2000"),
    ("Netherlands", "Noord-Holland", "Amsterdam", "1012 JS"),
    ("Poland", "Mazowieckie", "Warszawa", "00-001"),
)
DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "example.com",
    "shop.co.uk",
    "web.de",
    "mail.lt",
    "orange.fr",
)


def _ascii(name: str) -> str:
    # Mailbox names are ASCII in practice: "Zoë Müller" writes zoe.muller@...
    folded = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return folded.replace("'", "")


FIRST_ASCII = tuple(_ascii(name) for name in FIRST)
LAST_ASCII = tuple(_ascii(name) for name in LAST)
#: One row in this many carries a defect: 2%.
DEFECT_EVERY = 50


def row(i: int) -> dict[str, str]:
    """Row ``i`` of the segment (deterministic)."""
    f, la = i % len(FIRST), (i // 7) % len(LAST)
    first, last = FIRST[f], LAST[la]
    country, state, city, postal = PLACES[(i // 3) % len(PLACES)]
    email = f"{FIRST_ASCII[f]}.{LAST_ASCII[la]}{i}@{DOMAINS[i % len(DOMAINS)]}"
    values = {
        "EmailAddress": email,
        "FirstName": first,
        "LastName": last,
        "Street": f"{i % 997 + 1} {STREETS[i % len(STREETS)]}",
        "Country": country,
        "State": state,
        "City": city,
        "PostalCode": postal,
    }
    if i % DEFECT_EVERY == DEFECT_EVERY - 1:
        _defect(i, values)
    return values


def _defect(i: int, values: dict[str, str]) -> None:
    kind = (i // DEFECT_EVERY) % 8
    if kind == 0:
        values["EmailAddress"] = values["EmailAddress"].replace("@", " at ")  # invalid
    elif kind == 1:
        values["EmailAddress"] = ""  # missing
    elif kind == 2:
        values["EmailAddress"] = row(i - 1)["EmailAddress"].upper()  # duplicate, other case
    elif kind == 3:
        values["Country"] = "Atlantis"  # unknown
    elif kind == 4:
        values["FirstName"] = f"  {values['FirstName'].upper()}\t"  # stray whitespace
    elif kind == 5:
        values["EmailAddress"] = values["EmailAddress"].replace(".", "..", 1)  # double dot
    elif kind == 6:
        values["Street"] = values["Street"] + "\x00\n" + "x" * 300  # control chars, too long
    else:
        values["EmailAddress"] = f"  {values['EmailAddress'].title()}  "  # case and spaces


def rows(count: int, start: int = 0) -> Iterator[dict[str, str]]:
    """Rows ``start`` to ``start + count - 1``, one at a time."""
    return map(row, range(start, start + count))


def write_csv(path: Path, rows: Iterator[dict[str, str]]) -> int:
    """Write the rows to ``path`` (through a temporary file and a rename); returns the count."""
    partial = path.with_suffix(".partial")
    count = 0
    with partial.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for values in rows:
            writer.writerow([values[c] for c in COLUMNS])
            count += 1
    partial.replace(path)
    return count
