"""Whether an export succeeded: the one rule behind ``raise_for_failures()`` and the CLI's exit.

Real segments always hold a few bad rows. A scheduled job that fails on every one of them would
alert on every run, and people learn to ignore alerts. So rows the mapper skipped (invalid values,
repeated emails) are reported but do not fail a run, unless they pass a budget the caller sets:
``max_invalid``, a count (``100``) or a share of the rows read (``"2%"``). Rows over a cap the
caller chose (``on_limit="truncate"``) are skipped on purpose and never fail it either.

What does fail it: rows Omnisend rejected or never received, tags not added or removed, a run that
stopped early, and a source that gave no rows (unless ``allow_empty``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias, TypeVar

import attrs

if TYPE_CHECKING:
    from omnisend_sdk.export._report import ExportReport

#: A budget for skipped rows: a count, ``"N%"`` of the rows read, or ``None`` for no budget.
MaxInvalid: TypeAlias = int | str | None

_PERCENT: Final = "%"
_Number = TypeVar("_Number", int, float)


@attrs.frozen
class InvalidBudget:
    """How many skipped rows (invalid + duplicates) a run may have and still succeed.

    Build it with :meth:`parse`; the default allows any number.
    """

    count: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, value: MaxInvalid | InvalidBudget) -> InvalidBudget:
        """The budget ``value`` spells: ``None``, a count such as ``100`` or ``"1,000"``, or a
        share of the rows read such as ``"2%"`` or ``"0.5%"``.

        Raises:
            ValueError: Not a count or a percentage, or out of range.
        """
        if isinstance(value, InvalidBudget) or value is None:
            return value or cls()
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"max_invalid must be a count or a percentage, not {value!r}")
        if isinstance(value, int):
            return cls(count=_at_least_zero(value, value))
        text = value.strip()
        if text.endswith(_PERCENT):
            percent = _number(text[:-1], value, float)
            if percent > 100:
                raise ValueError(f"max_invalid {value!r} is more than 100%")
            return cls(percent=_at_least_zero(percent, value))
        return cls(count=_at_least_zero(_number(text, value, int), value))

    def exceeded(self, skipped: int, rows_read: int) -> bool:
        """Whether ``skipped`` rows of ``rows_read`` are more than the budget allows."""
        if self.count is not None:
            return skipped > self.count
        if self.percent is not None:
            return skipped * 100 > rows_read * self.percent
        return False

    def __str__(self) -> str:
        if self.count is not None:
            return f"{self.count:,}"
        if self.percent is not None:
            return f"{self.percent:g}%"
        return "no limit"


def _number(text: str, value: str, kind: type[_Number]) -> _Number:
    try:
        return kind(text.replace("_", "").replace(",", "").strip())
    except ValueError:
        raise ValueError(
            f"max_invalid must be a count (100) or a percentage (2%), not {value!r}"
        ) from None


def _at_least_zero(number: _Number, value: object) -> _Number:
    if number < 0:
        raise ValueError(f"max_invalid must not be negative, got {value!r}")
    return number


def failures(
    report: ExportReport,
    *,
    max_invalid: MaxInvalid | InvalidBudget = None,
    allow_empty: bool = False,
) -> list[str]:
    """What makes ``report`` a failure, one phrase each; empty when it succeeded."""
    found = []
    if report.status == "empty":
        if not allow_empty:
            found.append(report.status_reason)
    elif report.status != "completed":
        found.append(report.status_reason)
    skipped = report.invalid + report.duplicates
    budget = InvalidBudget.parse(max_invalid)
    if budget.exceeded(skipped, report.rows_read):
        found.append(f"{skipped:,} invalid or duplicate rows, more than max_invalid {budget}")
    found.extend(
        f"{count:,} {what}"
        for count, what in (
            (report.failed, "failed"),
            # A completed run sent every row it meant to; a dry run's rows are all "not sent".
            (0 if report.status == "completed" else report.not_sent, "not sent"),
            (report.tag_failed, "not tagged"),
            (report.untag_failed, "not untagged"),
        )
        if count
    )
    return found
