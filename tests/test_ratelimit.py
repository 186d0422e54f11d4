"""The rate limiter: never more than the limit in any sliding window, shared by threads."""

from __future__ import annotations

import bisect
import itertools
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

from omnisend_sdk import ConfigurationError, RateLimiter
from omnisend_sdk._constants import WINDOW_MARGIN
from tests.conftest import BASE_URL, FakeClock


def _send_times(limiter: RateLimiter, clock: FakeClock, families: list[Any]) -> list[float]:
    """Book a slot per request, sleep until it, and return when each request went out."""
    times = []
    for family in families:
        clock.sleep(limiter.reserve(family))
        times.append(clock.now)
    return times


def _max_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


@settings(max_examples=50, deadline=None)
@given(
    limit=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=300),
)
def test_no_window_ever_holds_more_than_the_limit(limit: int, gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=limit, clock=clock)
    times = []
    for gap in gaps:
        clock.sleep(gap)  # callers arrive at random moments
        clock.sleep(limiter.reserve())
        times.append(clock.now)

    assert _max_in_any_window(times, 60.0) <= limit


def test_a_quiet_window_sends_its_first_tenth_at_once_and_spreads_the_rest(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(requests_per_minute=400, clock=clock)
    start = clock.now

    times = _send_times(limiter, clock, ["default"] * 1200)

    assert times[:40] == [start] * 40  # nobody is using the budget: no reason to wait
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(times[39:])]
    # Then one request every 60/400 s, no burst and no idle stretch, except where the window
    # is full and its first slots must leave it (then the small safety margin is added once).
    assert min(gaps) == 0.15
    assert gaps.count(0.15) >= 1150
    assert _max_in_any_window(times, 60.0) == 400
    # Over three windows the pace is the limit's: the burst only moved the waiting later, so
    # the last request goes when it would have without it.
    assert times[-1] - start == pytest.approx(1199 * 0.15, abs=0.5)


def test_a_slot_is_reused_only_after_its_answer_left_the_window(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=4, clock=clock)
    slow = [limiter.book() for _ in range(4)]  # spread over 45 s
    clock.sleep(50)
    for reservation in slow:
        reservation.answered()  # the server saw them late: answers at 1,050 s

    # counted from the answers, not from when they were sent
    assert limiter.reserve() == pytest.approx(60 * (1 + WINDOW_MARGIN))


def test_tag_calls_have_their_own_window(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=100, tag_requests_per_minute=10, clock=clock)

    tag_times = _send_times(limiter, clock, ["tags"] * 30)
    clock.now = 1_000.0  # the general budget is untouched by tag calls
    other_times = _send_times(limiter, clock, ["default"] * 100)

    assert _max_in_any_window(tag_times, 60.0) == 10
    # The general window is quiet: its first tenth goes at once, the rest every 0.6 s.
    expected = [1_000.0] * 10 + [1_000.0 + 0.6 * i for i in range(1, 91)]
    assert other_times == pytest.approx(expected)


def test_threads_share_one_budget() -> None:
    clock = FakeClock()
    lock = threading.Lock()
    limiter = RateLimiter(requests_per_minute=50, clock=clock)
    slots: list[float] = []

    def worker() -> None:
        for _ in range(40):
            wait = limiter.reserve()
            with lock:
                slots.append(clock.now + wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(slots) == 320
    assert _max_in_any_window(slots, 60.0) == 50


def test_after_a_429_it_pauses_and_uses_less_of_the_limit(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=100, clock=clock)
    limiter.note_rate_limited("default", retry_after=5)

    first = limiter.reserve()
    times = _send_times(limiter, clock, ["default"] * 200)

    assert first == 5
    assert _max_in_any_window(times, 60.0) <= 100
    # for a window after the 429, only 80% of the limit is booked
    assert sum(1 for t in times if t < 1_000 + 60) <= 80


def test_exhausted_server_headers_pause_every_request(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock)

    limiter.note_headers(remaining=3, reset=20)
    assert limiter.reserve() == 0
    limiter.note_headers(remaining=0, reset=20)
    assert limiter.reserve() == pytest.approx(20)


def test_the_client_feeds_rate_limit_headers_to_its_limiter(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    headers = {
        "X-Rate-Limit-Limit": "400",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": "15",
    }
    httpx_mock.add_response(url=f"{BASE_URL}/contacts/a", json={"id": "a"}, headers=headers)
    httpx_mock.add_response(url=f"{BASE_URL}/contacts/b", json={"id": "b"})

    api.contacts.get("a")
    api.contacts.get("b")

    assert clock.sleeps == [15.0]


@pytest.mark.parametrize(
    "settings_",
    [{"requests_per_minute": 0}, {"tag_requests_per_minute": 0}, {"window": 0}],
)
def test_nonsense_limits_are_refused(settings_: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(**settings_)


def test_no_burst_while_throttled_after_a_429(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=400, clock=clock)
    limiter.note_rate_limited("default", retry_after=None)

    times = _send_times(limiter, clock, ["default"] * 10)

    # someone else spends the brand's budget: even a quiet window is paced, at 80% of the limit
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {round(60 / 320, 9)}


def _late_by(limiter: RateLimiter, clock: FakeClock, intervals: int, interval: float) -> None:
    """Spend the opening burst and 60 requests on pace, then let the sender be late."""
    _send_times(limiter, clock, ["default"] * 100)
    clock.sleep(intervals * interval)


def test_a_late_request_is_made_up_by_the_ones_after_it(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=400, clock=clock)
    start = clock.now
    _late_by(limiter, clock, 10, 0.15)  # the sender was busy for ten requests' time

    times = _send_times(limiter, clock, ["default"] * 100)

    # The late request and the nine after it, whose turns have come meanwhile, go back to back;
    # then the pace is kept again, and the 200th request goes when it would have, had nobody
    # been late.
    assert times[:10] == [times[0]] * 10
    assert {round(b - a, 9) for a, b in itertools.pairwise(times[9:])} == {0.15}
    assert times[-1] - start == pytest.approx(160 * 0.15)


def test_lateness_is_made_up_only_to_the_opening_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=400, clock=clock)
    _late_by(limiter, clock, 1_000, 0.15)  # two and a half minutes of nothing

    times = _send_times(limiter, clock, ["default"] * 100)

    # At most a tenth of the limit at once, as after any quiet spell; then the even pace.
    assert times.count(times[0]) == 40
    assert {round(b - a, 9) for a, b in itertools.pairwise(times[39:])} == {0.15}


def test_nothing_late_is_made_up_while_throttled(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=400, clock=clock)
    _late_by(limiter, clock, 10, 0.15)
    limiter.note_rate_limited("default", retry_after=None)

    times = _send_times(limiter, clock, ["default"] * 20)

    assert {round(b - a, 9) for a, b in itertools.pairwise(times)} == {round(60 / 320, 9)}


def test_a_limit_under_ten_a_window_makes_nothing_up(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=4, clock=clock)
    first = _send_times(limiter, clock, ["default"] * 2)
    clock.sleep(100)

    later = _send_times(limiter, clock, ["default"] * 3)

    assert [t - first[0] for t in first] == [0.0, 15.0]
    assert [t - later[0] for t in later] == [0.0, 15.0, 30.0]
