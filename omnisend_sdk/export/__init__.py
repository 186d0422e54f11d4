"""Exporting segments: ``export_segment()``, settings, plans, limits, progress and reports."""

import warnings
from typing import Any

from omnisend_sdk._connection import Connection, acknowledge_privacy
from omnisend_sdk._errors import UserNotAllowedError
from omnisend_sdk._key_sources import KeySource
from omnisend_sdk._privacy import PrivacyAcknowledgement
from omnisend_sdk._profiles import ConnectionProfile, LastExport, SavedConnection, saved_connections
from omnisend_sdk._state import default_state_dir
from omnisend_sdk.export._api import ExportInterrupted, export_segment, export_segment_async
from omnisend_sdk.export._definition import ExportDefinition
from omnisend_sdk.export._limits import ExportLimitError, ExportLimits
from omnisend_sdk.export._lock import ExportLockedError
from omnisend_sdk.export._plan import ExportPlan, plan_export
from omnisend_sdk.export._progress import (
    ExportProgress,
    FunctionProgress,
    SilentProgress,
    TqdmProgress,
    default_progress,
)
from omnisend_sdk.export._refresh import ShrinkRefusedError
from omnisend_sdk.export._removal import ConnectionRemoval, remove_connection
from omnisend_sdk.export._report import ExportFailedError, ExportReport, ExportStatus
from omnisend_sdk.export._settings import ExportSettings, Membership, OnExit
from omnisend_sdk.export._storage import ExportStateError
from omnisend_sdk.export._test_send import (
    TestSendResult,
    send_test_profile,
    send_test_profile_async,
)

__all__ = [
    "Connection",
    "ConnectionProfile",
    "ConnectionRemoval",
    "ExportDefinition",
    "ExportFailedError",
    "ExportInterrupted",
    "ExportLimitError",
    "ExportLimits",
    "ExportLockedError",
    "ExportPlan",
    "ExportProgress",
    "ExportReport",
    "ExportSettings",
    "ExportStateError",
    "ExportStatus",
    "FunctionProgress",
    "KeySource",
    "LastExport",
    "Membership",
    "OnExit",
    "PrivacyAcknowledgement",
    "SavedConnection",
    "ShrinkRefusedError",
    "SilentProgress",
    "TestSendResult",
    "TqdmProgress",
    "UserNotAllowedError",
    "acknowledge_privacy",
    "default_progress",
    "default_state_dir",
    "export_segment",
    "export_segment_async",
    "plan_export",
    "remove_connection",
    "saved_connections",
    "send_test_profile",
    "send_test_profile_async",
]

#: Names that were renamed, kept importable for a deprecation period (see the changelog).
_RENAMED = {
    "CallbackProgress": FunctionProgress,
    "ProgressCallbacks": SilentProgress,
    "ExportOptions": ExportSettings,
}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        new = _RENAMED[name]
        warnings.warn(
            f"omnisend_sdk.export.{name} is deprecated; use {new.__name__}",
            DeprecationWarning,
            stacklevel=2,
        )
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
