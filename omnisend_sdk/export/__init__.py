"""Exporting segments: ``export_segment()``, its plan, limits, journal and report."""

from omnisend_sdk.export._api import (
    ExportInterrupted,
    ExportOptions,
    export_segment,
    export_segment_async,
)
from omnisend_sdk.export._limits import ExportLimitError, ExportLimits
from omnisend_sdk.export._plan import ExportPlan, plan_export

__all__ = [
    "ExportInterrupted",
    "ExportLimitError",
    "ExportLimits",
    "ExportOptions",
    "ExportPlan",
    "export_segment",
    "export_segment_async",
    "plan_export",
]
