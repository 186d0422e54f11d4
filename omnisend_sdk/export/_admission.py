"""Admission: what an export does with each mapped row, decided in one place.

The engine and the dry run (``plan_export``) both walk the mapped rows through :class:`Admission`,
so a plan says exactly what the export will do: which rows go to Omnisend, which are skipped as
invalid, duplicate or over the profile cap, and which issues the report will carry for each.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, TypeAlias

from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.mapping import MappedRow, RowIssue, is_duplicate

Admitted: TypeAlias = Literal["send", "invalid", "duplicate", "over_limit"]


class Decision(NamedTuple):
    """What happens to one row, and the issues the report gives it.

    A row that is sent keeps its warnings; a skipped row carries the reasons it was skipped. A
    row over the cap carries only ``over_limit``: warnings about values never sent would mislead.
    """

    outcome: Admitted
    issues: tuple[RowIssue, ...]


class Admission:
    """Decides, row by row, which rows an export sends. Pure: no I/O, one instance per pass.

    Args:
        limits: The export's caps.
        admitted: Rows an earlier run of the same export already admitted (they count against
            the cap).
    """

    def __init__(self, limits: ExportLimits, *, admitted: int = 0) -> None:
        self._limits = limits
        self._admitted = admitted
        self.limit_reached = False  # a row was over the cap, and on_limit="fail" stops the export

    def decide(self, mapped: MappedRow) -> Decision:
        """The decision for the next row of the source."""
        if not mapped.ok:
            return Decision("duplicate" if is_duplicate(mapped) else "invalid", mapped.issues)
        if self._admitted >= self._limits.cap:
            self.limit_reached = self._limits.on_limit == "fail"
            return Decision("over_limit", (self._over_limit_issue(mapped.row),))
        self._admitted += 1
        return Decision("send", mapped.issues)

    def _over_limit_issue(self, row: int) -> RowIssue:
        limits = self._limits
        return RowIssue(
            row=row,
            field="row",
            severity="error",
            code="over_limit",
            message=f"not sent: the export is capped at {limits.cap:,} profiles "
            f"({limits.cap_reason})",
        )
