"""Property-based checks of the emulator's invariants, in-process."""

from __future__ import annotations

import datetime as dt

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk.testing import ManualClock, OmnisendEmulator, RateLimits
from tests.testing.helpers import contact

START = 1_000_000.0


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=0, max_size=30),
    limit=st.integers(1, 8),
    direction=st.sampled_from(["asc", "desc"]),
    sort=st.sampled_from(["createdAt", "updatedAt"]),
)
def test_cursor_paging_visits_every_contact_once(
    gaps: list[float],
    limit: int,
    direction: str,
    sort: str,
) -> None:
    clock = ManualClock()
    emulator = OmnisendEmulator(clock=clock, rate_limits=RateLimits(enabled=False))
    for index, gap in enumerate(gaps):  # equal timestamps are allowed: the order must still hold
        clock.advance(gap)
        emulator.add_contact(contact(f"u{index}@example.com"))
    seen: list[str] = []
    with httpx.Client(
        transport=emulator.transport(),
        base_url=emulator.base_url,
        headers=emulator.headers(),
    ) as http:
        params: dict[str, str | int] = {"limit": limit, "direction": direction, "sort": sort}
        while True:
            body = http.get("/contacts", params=params).json()
            assert len(body["contacts"]) <= limit
            seen.extend(c["email"] for c in body["contacts"])
            if not body["paging"]["hasMore"]:
                break
            params["after"] = body["paging"]["cursors"]["after"]
    expected = [f"u{i}@example.com" for i in range(len(gaps))]
    assert seen == (expected if direction == "asc" else expected[::-1])


@settings(max_examples=40, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(["subscribed", "nonSubscribed", "unsubscribed"]),
            st.one_of(st.none(), st.integers(0, 100)),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_the_newest_status_wins_and_counters_agree(
    events: list[tuple[str, int | None]],
) -> None:
    clock = ManualClock(start=START)
    emulator = OmnisendEmulator(clock=clock)
    stored: tuple[str, float] | None = None
    changes = resubscriptions = 0
    for status, at in events:
        clock.advance(1)
        channel: dict[str, str] = {"status": status}
        when = clock.now()
        if at is not None:
            when = START + at
            channel["statusChangedAt"] = dt.datetime.fromtimestamp(when, tz=dt.UTC).isoformat()
        identifier = {"type": "email", "id": "a@example.com", "channels": {"email": channel}}
        emulator.add_contact({"identifiers": [identifier]})
        # The model: an older status is ignored; a changed value counts.
        if stored is None:
            stored = (status, when)
        elif when >= stored[1] and status != stored[0]:
            changes += 1
            resubscriptions += stored[0] == "unsubscribed" and status == "subscribed"
            stored = (status, when)
    found = emulator.contact("a@example.com")
    assert found is not None
    assert stored is not None
    assert found["status"] == stored[0]
    assert (emulator.stats.status_changes, emulator.stats.resubscriptions) == (
        changes,
        resubscriptions,
    )
