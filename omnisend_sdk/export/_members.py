"""The segment's members as Omnisend last confirmed them, held compactly for a refresh's diff.

A refresh looks up every row of the source among the members of the last run: a million lookups
that must not cost a million SQLite queries, nor a dict of a million addresses (about 140 MB).
Each member is held as three 64-bit numbers instead, in arrays sorted by the first: a hash of its
email, a fingerprint of the contact body Omnisend accepted, and a fingerprint of the source record
it was mapped from (see :mod:`omnisend_sdk.mapping._records`; 0 when unknown). That is 25 bytes a
member (25 MB at a million), and a lookup is a binary search.

Two different emails share a 64-bit hash with a chance of about one in 30 million at a million
members. The harm is bounded: a row taken for another member has a different body fingerprint, so
it is sent as changed; only a leaver whose hash a staying row shares would keep its tag.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Final

#: Flags kept per member.
_TAGGED = 1  # Omnisend accepted the segment tag for this contact
_LEAVING = 2  # left the segment in an earlier run; its tag removal is still to be done
_SEEN = 4  # found in this run's source
_NEW_RECORD = 8  # this run mapped the member from a record other than the one kept
_EMAIL_SEEN = 16  # this run's duplicate check met the member's email (SeenEmailKeys)


@functools.lru_cache(maxsize=1)
def email_key(email: str) -> int:
    """The 64-bit key of a normalised email, as the refresh state stores it (a signed int).

    The last key is remembered: a refresh asks for each row's key twice in a row (the duplicate
    check, then the diff), and hashing is a measurable share of its time.
    """
    digest = hashlib.blake2b(email.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def body_fingerprint(encoded: bytes) -> int:
    """The 64-bit fingerprint of a contact's encoded request body (a signed int)."""
    digest = hashlib.blake2b(encoded, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class MemberIndex:
    """The members of the last run, sorted by email key; marks which ones this run's source holds.

    Args:
        members: ``(key, fingerprint, tagged, leaving, record)`` for each member, in ascending
            key order (the order SQLite returns an ``INTEGER PRIMARY KEY`` table in).
    """

    def __init__(self, members: Iterable[tuple[int, int, bool, bool, int]] = ()) -> None:
        self._keys = array("q")
        self._fingerprints = array("q")
        self._records = array("q")
        self._flags = bytearray()
        for key, fingerprint, tagged, leaving, record in members:
            self._keys.append(key)
            self._fingerprints.append(fingerprint)
            self._records.append(record)
            self._flags.append(self.flags_of(tagged, leaving))

        self._by_record: array[int] | None = None  # built on first use: see find_record()

    @classmethod
    def from_arrays(
        cls,
        keys: array[int],
        fingerprints: array[int],
        records: array[int],
        flags: bytearray,
    ) -> MemberIndex:
        """The index of members given as arrays in ascending key order (taken over, not
        copied), their flags made by :meth:`flags_of`."""
        index = cls()
        index._keys, index._fingerprints, index._records, index._flags = (
            keys,
            fingerprints,
            records,
            flags,
        )
        return index

    def __len__(self) -> int:
        return len(self._keys)

    def key(self, position: int) -> int:
        """The member's email key."""
        return self._keys[position]

    def record_table(self) -> tuple[array[int], memoryview]:
        """The table :meth:`find_record` searches and the records it holds, for a loop that
        searches it inline: ``table[slot]`` is a position + 1 (0: an empty slot), the first
        slot tried is ``record & (len(table) - 1)``, the next one the slot after (wrapping).

        The records are read as unsigned numbers (the same 64 bits): such a loop can take a
        digest with ``int.from_bytes(digest)``, whose keyword ``signed=True`` alone cost a
        refresh about 2% of its first pass.
        """
        unsigned = memoryview(self._records).cast("B").cast("Q")
        return self._by_record or self._index_records(), unsigned

    @property
    def flags(self) -> bytearray:
        """Each member's flags, for a loop that reads them inline (see :meth:`needs_nothing`)."""
        return self._flags

    @staticmethod
    def needs_nothing(*, tagging: bool) -> tuple[int, int]:
        """``(mask, value)``: a member whose ``flags & mask == value`` needs nothing sent when
        its body is unchanged (its tag is confirmed, when membership is tagged), and its email
        was not met yet in this run (see :attr:`EMAIL_SEEN`)."""
        if tagging:
            return _TAGGED | _LEAVING | _EMAIL_SEEN, _TAGGED
        return _EMAIL_SEEN, 0

    @staticmethod
    def flags_of(tagged: object, leaving: object) -> int:
        """A member's flags as the members table's ``tagged`` and ``leaving`` say (all a
        loaded member has; the others are this run's)."""
        return (_TAGGED if tagged else 0) | (_LEAVING if leaving else 0)

    #: The flag of a member whose segment tag Omnisend accepted.
    TAGGED: Final = _TAGGED
    #: The flag of a member who left and still wears the tag.
    LEAVING: Final = _LEAVING
    #: The flag :meth:`mark_seen` sets.
    SEEN: Final = _SEEN
    #: The flag a run's duplicate check sets on the members whose email it met
    #: (:class:`~omnisend_sdk.export._seen.SeenEmailKeys`).
    EMAIL_SEEN: Final = _EMAIL_SEEN

    def find_record(self, record: int) -> int:
        """The position of the member mapped from this source record, or -1 when none was.

        An open-addressing table of positions (4 bytes a slot, 8 MB at a million members), built
        on first use: a refresh looks up every row of its source by record before anything else.
        """
        table = self._by_record or self._index_records()
        mask = len(table) - 1
        slot = record & mask
        while found := table[slot]:
            if self._records[found - 1] == record:
                return found - 1
            slot = (slot + 1) & mask
        return -1

    def _index_records(self) -> array[int]:
        table = array("I", [0]) * (1 << max(4, (2 * len(self._records)).bit_length()))
        mask = len(table) - 1
        for number, record in enumerate(self._records, start=1):  # a position + 1
            if record:
                slot = record & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = number  # 0 marks an empty slot
        self._by_record = table
        return table

    def find(self, key: int) -> int:
        """The member's position, or -1 when the key is not a member."""
        position = bisect.bisect_left(self._keys, key)
        if position < len(self._keys) and self._keys[position] == key:
            return position
        return -1

    def fingerprint(self, position: int) -> int:
        """The body fingerprint Omnisend last accepted for the member."""
        return self._fingerprints[position]

    def record(self, position: int) -> int:
        """The fingerprint of the source record the member's body was mapped from (0: unknown)."""
        return self._records[position]

    def mapped_from(self, position: int, record: int) -> None:
        """This run mapped the member, unchanged, from ``record``: keep it for the next run."""
        if record and record != self._records[position]:
            self._records[position] = record
            self._flags[position] |= _NEW_RECORD

    def new_records(self) -> Iterator[tuple[int, int]]:
        """``(record, key)`` of the members :meth:`mapped_from` gave a new record, in key order."""
        for position in self._where(_NEW_RECORD, _NEW_RECORD):
            yield self._records[position], self._keys[position]

    def tag_confirmed(self, position: int) -> bool:
        """Whether the member's segment tag is known to be in place.

        A member whose tag removal was under way may have lost it already: not confirmed.
        """
        return self._flags[position] & (_TAGGED | _LEAVING) == _TAGGED

    def mark_seen(self, position: int) -> None:
        """The member is in this run's source."""
        self._flags[position] |= _SEEN

    def confirmed(self) -> int:
        """Members the last runs confirmed and that had not left (the base of the shrink guard)."""
        return self._marks(_LEAVING, 0).count(1)

    def leavers(self) -> Iterator[int]:
        """Keys of members that are not in this run's source and had not already left."""
        for position in self._where(_SEEN | _LEAVING, 0):
            yield self._keys[position]

    def rejoined(self) -> Iterator[int]:
        """Keys of members whose tag removal was still to do, and who are back in the source."""
        for position in self._where(_SEEN | _LEAVING, _SEEN | _LEAVING):
            yield self._keys[position]

    def _where(self, mask: int, value: int) -> Iterator[int]:
        """The positions of the members whose ``flags & mask == value``, in order."""
        marks = self._marks(mask, value)
        position = marks.find(1)
        while position >= 0:
            yield position
            position = marks.find(1, position + 1)

    def _marks(self, mask: int, value: int) -> bytearray:
        """A byte per member: 1 where ``flags & mask == value``, else 0. Made in C: a refresh
        asks this of every member a few times, and few of them match."""
        return self._flags.translate(bytes(flags & mask == value for flags in range(256)))
