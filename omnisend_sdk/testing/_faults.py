"""Fault injection: what can go wrong between a client and Omnisend, seeded or scripted.

A :class:`FaultPlan` draws faults at random with fixed probabilities from its own seeded generator,
so a run is reproducible. Scripted faults (:meth:`FaultInjector.script`) fire first, in order, for
requests that match their method and path; they make a test say exactly "the next POST /batches
loses its answer".
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Sequence
from typing import Literal

import attrs

FaultKind = Literal["rate_limit", "server_error", "timeout", "reset"]
Failure = Literal["timeout", "reset"]

SERVER_ERROR_STATUSES = (500, 502, 503)


@attrs.frozen(kw_only=True)
class Fault:
    """One injected fault.

    Attributes:
        kind: ``rate_limit`` (a 429 problem), ``server_error`` (a 5xx), ``timeout`` (no answer in
            time) or ``reset`` (the connection drops).
        status: the status of a ``server_error``.
        html: a ``server_error`` answers with an HTML page, as a CDN in front of Omnisend does.
        after_processing: for ``timeout`` and ``reset``: the request is processed (a batch is
            created, a contact saved) and only the answer is lost.
        retry_after: for ``rate_limit``: the delay announced, in emulator seconds.
    """

    kind: FaultKind
    status: int = 503
    html: bool = False
    after_processing: bool = False
    retry_after: float = 1.0

    @classmethod
    def rate_limit(cls, retry_after: float = 1.0) -> Fault:
        """A forced 429 announcing ``retry_after`` emulator seconds."""
        return cls(kind="rate_limit", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 503, *, html: bool = False) -> Fault:
        """A 5xx answer, with a problem body or (``html=True``) a CDN's HTML page."""
        return cls(kind="server_error", status=status, html=html)

    @classmethod
    def timeout(cls, *, after_processing: bool = False) -> Fault:
        """No answer: before processing, or (``after_processing=True``) after it."""
        return cls(kind="timeout", after_processing=after_processing)

    @classmethod
    def lost_answer(cls) -> Fault:
        """The request is processed but its answer never arrives (a read timeout)."""
        return cls.timeout(after_processing=True)

    @classmethod
    def reset(cls, *, after_processing: bool = False) -> Fault:
        """The connection is dropped, before or after processing."""
        return cls(kind="reset", after_processing=after_processing)

    @property
    def failure(self) -> Failure | None:
        """The transport failure this fault causes, or None for faults that are answers."""
        if self.kind == "timeout":
            return "timeout"
        if self.kind == "reset":
            return "reset"
        return None


@attrs.frozen
class Latency:
    """Added response time in *real* seconds (network delay is not scaled by the time scale).

    Build one with :meth:`fixed`, :meth:`exponential`, :meth:`uniform` or :meth:`lognormal`.

    Raises:
        ValueError: A negative parameter, or a uniform range whose low end is above its high.
    """

    distribution: Literal["fixed", "uniform", "exponential", "lognormal"]
    first: float
    second: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.first < 0 or self.second < 0:
            raise ValueError(f"{self.distribution} latency needs parameters of 0 or more")
        if self.distribution == "uniform" and self.first > self.second:
            raise ValueError(f"uniform latency from {self.first} to {self.second}: low > high")

    @classmethod
    def fixed(cls, seconds: float) -> Latency:
        """Always ``seconds``."""
        return cls("fixed", seconds)

    @classmethod
    def exponential(cls, mean: float) -> Latency:
        """Exponential with the given mean."""
        return cls("exponential", mean)

    @classmethod
    def uniform(cls, low: float, high: float) -> Latency:
        """Uniform between ``low`` and ``high``."""
        return cls("uniform", low, high)

    @classmethod
    def lognormal(cls, median: float, sigma: float) -> Latency:
        """Log-normal with the given median and shape: a long tail, like real networks."""
        return cls("lognormal", median, sigma)

    def draw(self, rng: random.Random) -> float:
        """Draw one delay, never negative."""
        match self.distribution:
            case "fixed":
                value = self.first
            case "uniform":
                value = rng.uniform(self.first, self.second)
            case "exponential":
                value = rng.expovariate(1.0 / self.first) if self.first > 0 else 0.0
            case "lognormal":
                value = self.first * rng.lognormvariate(0.0, self.second)
        return max(value, 0.0)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """Random faults, each with a probability per request, drawn from a seeded generator.

    Attributes:
        seed: seed of the generator; the same seed and request sequence give the same faults.
        rate_limit: probability of a forced 429.
        server_error: probability of a 5xx (status drawn from ``server_error_statuses``).
        html_share: share of 5xx answers that carry an HTML body instead of a problem.
        timeout: probability of a read timeout before processing.
        lost_answer: probability of a read timeout after processing (the work is done).
        reset: probability of a connection reset before processing.
        latency: added delay for every answer, or None.
        paths: glob patterns of API paths (``/batches``, ``/contacts*``) random faults apply to;
            empty means every path.
        server_error_statuses: the statuses a random 5xx is drawn from.
    """

    seed: int = 0
    rate_limit: float = 0.0
    server_error: float = 0.0
    html_share: float = 0.5
    timeout: float = 0.0
    lost_answer: float = 0.0
    reset: float = 0.0
    latency: Latency | None = None
    paths: Sequence[str] = ()
    server_error_statuses: Sequence[int] = SERVER_ERROR_STATUSES


def _upper_or_none(method: str | None) -> str | None:
    return method.upper() if method else None


@attrs.define
class ScriptedFault:
    """A fault for the next ``times`` requests matching ``method`` and the glob ``path``.

    ``None`` matches any method or path; ``times`` counts down as the fault fires.
    """

    fault: Fault
    method: str | None = attrs.field(default=None, converter=_upper_or_none)
    path: str | None = None
    times: int = 1

    def __attrs_post_init__(self) -> None:
        if self.times < 1:
            msg = f"times must be at least 1, got {self.times}"
            raise ValueError(msg)


class FaultInjector:
    """Decides, request by request, which fault (if any) and how much latency to inject."""

    def __init__(self, plan: FaultPlan) -> None:
        """Create the injector for ``plan``."""
        self._plan = plan
        self._rng = random.Random(plan.seed)  # noqa: S311 - reproducible faults, not cryptography
        self._script: list[ScriptedFault] = []

    def script(self, scripted: ScriptedFault) -> None:
        """Queue a fault; queued faults fire in order, before random ones."""
        self._script.append(scripted)

    def clear(self) -> None:
        """Drop every scripted fault not yet fired."""
        self._script.clear()

    def pending(self) -> int:
        """How many scripted faults are still to fire."""
        return sum(entry.times for entry in self._script)

    def draw(self, method: str, path: str) -> tuple[Fault | None, float]:
        """Pick the fault and latency for one request to API path ``path`` (e.g. ``/batches``)."""
        latency = self._plan.latency.draw(self._rng) if self._plan.latency else 0.0
        for entry in self._script:
            if (entry.method is None or entry.method == method) and (
                entry.path is None or fnmatch.fnmatchcase(path, entry.path)
            ):
                entry.times -= 1
                if not entry.times:
                    self._script.remove(entry)
                return entry.fault, latency
        return self._random_fault(path), latency

    def _random_fault(self, path: str) -> Fault | None:
        plan = self._plan
        if plan.paths and not any(fnmatch.fnmatchcase(path, pattern) for pattern in plan.paths):
            return None
        # One draw against cumulative probabilities keeps runs reproducible whatever the mix.
        roll = self._rng.random()
        makers: tuple[tuple[float, Callable[[], Fault]], ...] = (
            (plan.rate_limit, Fault.rate_limit),
            (plan.server_error, self._server_error),
            (plan.timeout, Fault.timeout),
            (plan.lost_answer, Fault.lost_answer),
            (plan.reset, Fault.reset),
        )
        for probability, make in makers:
            if roll < probability:
                return make()
            roll -= probability
        return None

    def _server_error(self) -> Fault:
        status = self._rng.choice(list(self._plan.server_error_statuses))
        return Fault.server_error(status, html=self._rng.random() < self._plan.html_share)
