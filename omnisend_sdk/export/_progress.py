"""Progress of an export: what the engine reports, and three ways to listen.

The engine reports to an :class:`ExportProgress`: ``started`` once, ``batch_sent`` and
``batch_done`` per batch, ``throttled`` when it waits for the rate limit, ``finished`` with the
report. To listen, subclass :class:`SilentProgress` (which ignores everything) and override only
what you need, pass plain functions to :class:`FunctionProgress`, or use :class:`TqdmProgress`'s
bar. tqdm is optional (``pip install omnisend-sdk[progress]``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from omnisend_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from omnisend_sdk.export._report import ExportReport


@runtime_checkable
class ExportProgress(Protocol):
    """What the export engine tells about its progress. Calls come from the engine's thread."""

    def started(self, total_rows: int | None) -> None:
        """The export began; ``total_rows`` when the source could be counted cheaply."""

    def batch_sent(self, rows: int) -> None:
        """A batch of ``rows`` contacts was posted to Omnisend."""

    def batch_done(self, exported: int, failed: int) -> None:
        """Omnisend finished a batch: ``exported`` rows accepted, ``failed`` rejected.

        A resumed export first reports, in one call, the rows its earlier runs finished.
        """

    def throttled(self, seconds: float) -> None:
        """The engine waits ``seconds`` for the rate limit."""

    def finished(self, report: ExportReport) -> None:
        """The export ended (completed or not), with its report."""


class SilentProgress:
    """An :class:`ExportProgress` that ignores every event: subclass it, override what you need.

    The events and their arguments are documented on :class:`ExportProgress`.
    """

    def started(self, total_rows: int | None) -> None:
        return

    def batch_sent(self, rows: int) -> None:
        return

    def batch_done(self, exported: int, failed: int) -> None:
        return

    def throttled(self, seconds: float) -> None:
        return

    def finished(self, report: ExportReport) -> None:
        return


@attrs.frozen(kw_only=True)
class FunctionProgress(SilentProgress):
    """Progress reported to plain functions, one per event; events without one are ignored.

    Example::

        progress = FunctionProgress(on_batch_done=lambda ok, failed: print(ok, failed))
    """

    on_started: Callable[[int | None], object] | None = None
    on_batch_sent: Callable[[int], object] | None = None
    on_batch_done: Callable[[int, int], object] | None = None
    on_throttled: Callable[[float], object] | None = None
    on_finished: Callable[[ExportReport], object] | None = None

    def started(self, total_rows: int | None) -> None:
        if self.on_started is not None:
            self.on_started(total_rows)

    def batch_sent(self, rows: int) -> None:
        if self.on_batch_sent is not None:
            self.on_batch_sent(rows)

    def batch_done(self, exported: int, failed: int) -> None:
        if self.on_batch_done is not None:
            self.on_batch_done(exported, failed)

    def throttled(self, seconds: float) -> None:
        if self.on_throttled is not None:
            self.on_throttled(seconds)

    def finished(self, report: ExportReport) -> None:
        if self.on_finished is not None:
            self.on_finished(report)


def _tqdm_class() -> Any:
    """tqdm's class for this environment: a widget in notebooks that have ipywidgets, else text.

    ``tqdm.auto`` would pick the widget in any notebook and warn when ipywidgets is missing; the
    text bar works everywhere.
    """
    try:
        # Imported on use: tqdm is an optional dependency.
        text = importlib.import_module("tqdm")
    except ImportError as err:
        raise ConfigurationError(
            "TqdmProgress needs tqdm: pip install 'omnisend-sdk[progress]'"
        ) from err
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        return importlib.import_module("tqdm.notebook").tqdm
    return text.tqdm


class TqdmProgress(SilentProgress):
    """A tqdm progress bar over the rows of the source.

    The bar counts rows Omnisend has finished (exported or failed) and shows rows sent, rows
    failed and time spent waiting for the rate limit; at the end it counts skipped rows too.

    Args:
        desc: The bar's label.
        **options: Passed to ``tqdm`` (``file``, ``leave``, ``disable``...).

    Raises:
        ConfigurationError: tqdm is not installed.
    """

    def __init__(self, *, desc: str = "Exporting to Omnisend", **options: Any) -> None:
        self._tqdm = _tqdm_class()
        self._options: dict[str, Any] = {"desc": desc, "unit": "row", **options}
        self._bar: Any = None
        self._sent = 0
        self._failed = 0
        self._throttled = 0.0

    def started(self, total_rows: int | None) -> None:
        # The bar is made here, not in __init__, so a progress object can be built ahead of time.
        self._bar = self._tqdm(total=total_rows, **self._options)

    def batch_sent(self, rows: int) -> None:
        self._sent += rows
        self._show()

    def batch_done(self, exported: int, failed: int) -> None:
        self._failed += failed
        if self._bar is not None:
            self._bar.update(exported + failed)
        self._show()

    def throttled(self, seconds: float) -> None:
        self._throttled += seconds
        self._show()

    def finished(self, report: ExportReport) -> None:
        if self._bar is None:
            return
        # Skipped rows never go through a batch; count them now so a full run ends at 100%.
        done = report.rows_read - report.not_sent
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)
        self._bar.set_postfix_str(f"{report.status}, {report.failed:,} failed", refresh=False)
        self._bar.close()

    def _show(self) -> None:
        if self._bar is not None:
            # refresh=False: tqdm redraws at its own pace, not once per batch.
            self._bar.set_postfix_str(
                f"sent {self._sent:,}, failed {self._failed:,}, throttled {self._throttled:.0f}s",
                refresh=False,
            )


def _tqdm_installed() -> bool:
    # Ask without importing: the import is slow, and a silent run never needs it.
    return importlib.util.find_spec("tqdm") is not None


def _in_notebook() -> bool:
    # Look IPython up without importing it: importing is slow, and a process that never loaded
    # it is not a notebook.
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return callable(get_ipython) and get_ipython() is not None


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(callable(isatty) and isatty())


def default_progress() -> ExportProgress:
    """A tqdm bar when tqdm is installed and someone is watching (a terminal or a notebook),
    else progress that does nothing (a scheduler's log has no use for a bar)."""
    if _tqdm_installed() and (_stderr_is_terminal() or _in_notebook()):
        return TqdmProgress()
    return SilentProgress()
