"""Exporting segments: ``export_segment()``, connections, plans, limits, progress and reports."""

from omnisend_sdk.export._api import (
    ExportInterrupted,
    ExportOptions,
    export_segment,
    export_segment_async,
)
from omnisend_sdk.export._connection import (
    Connection,
    PrivacyAcknowledgement,
    UserNotAllowedError,
    acknowledge_privacy,
    default_state_dir,
)
from omnisend_sdk.export._definition import ExportDefinition
from omnisend_sdk.export._limits import ExportLimitError, ExportLimits
from omnisend_sdk.export._plan import ExportPlan, plan_export
from omnisend_sdk.export._progress import (
    CallbackProgress,
    ExportProgress,
    ProgressCallbacks,
    TqdmProgress,
    default_progress,
)
from omnisend_sdk.export._report import (
    ExportFailedError,
    ExportReport,
    ExportStatus,
    Membership,
)
from omnisend_sdk.export._test_send import (
    TestSendResult,
    send_test_profile,
    send_test_profile_async,
)

__all__ = [
    "CallbackProgress",
    "Connection",
    "ExportDefinition",
    "ExportFailedError",
    "ExportInterrupted",
    "ExportLimitError",
    "ExportLimits",
    "ExportOptions",
    "ExportPlan",
    "ExportProgress",
    "ExportReport",
    "ExportStatus",
    "Membership",
    "PrivacyAcknowledgement",
    "ProgressCallbacks",
    "TestSendResult",
    "TqdmProgress",
    "UserNotAllowedError",
    "acknowledge_privacy",
    "default_progress",
    "default_state_dir",
    "export_segment",
    "export_segment_async",
    "plan_export",
    "send_test_profile",
    "send_test_profile_async",
]
