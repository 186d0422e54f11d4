"""How much one export may send, and for how long."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, TypeAlias

import attrs

from omnisend_sdk._errors import ConfigurationError, OmnisendError

OnLimit: TypeAlias = Literal["fail", "truncate"]

#: Profiles one export sends at most unless told otherwise (the product's promise: a million).
DEFAULT_MAX_PROFILES = 1_000_000
#: An export stops sending after this long and leaves a resumable run; a million contacts take
#: 25 minutes at Omnisend's default limits, so four hours leaves room for slow plans and retries.
DEFAULT_DEADLINE = timedelta(hours=4)


class ExportLimitError(OmnisendError):
    """The segment holds more profiles than the export may send (``on_limit="fail"``)."""

    def __init__(self, rows: int, cap: int, reason: str) -> None:
        super().__init__(
            f"the segment has {rows:,} rows, over the limit of {cap:,} profiles ({reason}); "
            'nothing was sent. Pass on_limit="truncate" to send the first '
            f"{cap:,}, or raise the limit"
        )
        self.rows = rows
        self.cap = cap


def _as_timedelta(value: timedelta | float) -> timedelta:
    """A deadline given in seconds (as definition files and the command line give it) or as is."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"the deadline must be seconds or a timedelta, got {value!r}")
    return timedelta(seconds=value)


@attrs.frozen(kw_only=True)
class ExportLimits:
    """The caps of one export.

    Attributes:
        max_profiles: Profiles one export may send (default 1,000,000).
        contract_cap: A lower cap from the user's Omnisend contract, if any.
        on_limit: ``"fail"``: refuse an over-limit segment before sending anything (when it can
            be counted first; otherwise stop at the cap). ``"truncate"``: send the first profiles
            up to the cap and report the rest as over the limit.
        deadline: Stop sending after this long (a timedelta, or seconds); the run stays
            resumable.
    """

    max_profiles: int = DEFAULT_MAX_PROFILES
    contract_cap: int | None = None
    on_limit: OnLimit = "fail"
    deadline: timedelta = attrs.field(default=DEFAULT_DEADLINE, converter=_as_timedelta)

    def __attrs_post_init__(self) -> None:
        if self.max_profiles < 1 or (self.contract_cap is not None and self.contract_cap < 1):
            raise ConfigurationError("profile limits must be at least 1")
        if self.on_limit not in ("fail", "truncate"):
            raise ConfigurationError(
                f'on_limit must be "fail" or "truncate", got {self.on_limit!r}'
            )
        if self.deadline <= timedelta(0):
            raise ConfigurationError("the deadline must be in the future")

    @property
    def cap(self) -> int:
        """The effective cap: the lower of ``max_profiles`` and ``contract_cap``."""
        if self.contract_cap is None:
            return self.max_profiles
        return min(self.max_profiles, self.contract_cap)

    @property
    def cap_reason(self) -> str:
        """Which setting the cap comes from, in words."""
        if self.contract_cap is not None and self.contract_cap < self.max_profiles:
            return "the contract cap"
        return "max_profiles"

    def check_count(self, rows: int | None) -> None:
        """Fail before sending when a counted segment is over the cap and ``on_limit="fail"``."""
        if rows is not None and rows > self.cap and self.on_limit == "fail":
            raise ExportLimitError(rows, self.cap, self.cap_reason)
