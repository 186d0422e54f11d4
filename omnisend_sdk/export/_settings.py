"""Every option of an export in one value: :class:`ExportSettings`.

``export_segment(**options)``, ``export_segment_async``, ``plan_export``, saved definitions and the
command line all build this one value, so an option is declared, defaulted and checked here once.
The limits (``max_profiles``, ``contract_cap``, ``on_limit``, ``deadline``) keep their own value,
:class:`~omnisend_sdk.export.ExportLimits`, and are given as flat keywords like the rest.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

import attrs

from omnisend_sdk._connection import current_user
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._state import state_dir_or_default
from omnisend_sdk.export._engine import DEFAULT_CONCURRENCY
from omnisend_sdk.export._limits import ExportLimits
from omnisend_sdk.export._progress import ExportProgress, SilentProgress, default_progress

Membership: TypeAlias = Literal["tag", "none"]
OnExit: TypeAlias = Literal["untag", "keep"]
ProgressOption: TypeAlias = ExportProgress | Literal["auto"] | None

#: The limits' own options, given flat (``max_profiles=...``) rather than as ``limits=``.
_LIMIT_OPTIONS: Final = frozenset(field.name for field in attrs.fields(ExportLimits))


def _membership(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("tag", "none"):
        raise ConfigurationError(f'membership must be "tag" or "none", got {value!r}')


def _on_exit(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("untag", "keep"):
        raise ConfigurationError(f'on_exit must be "untag" or "keep", got {value!r}')


def _share(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigurationError(
            f"{attribute.name} must be a share between 0 and 1 (0.10 is 10%), got {value!r}"
        )


def _concurrency(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"concurrency must be a whole number of at least 1, got {value!r}")


def _progress(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and value != "auto" and not isinstance(value, ExportProgress):
        raise ConfigurationError(
            f'progress must be "auto", None or an ExportProgress, got {type(value).__name__}'
        )


def _limits(value: ExportLimits) -> ExportLimits:
    if not isinstance(value, ExportLimits):
        raise ConfigurationError(f"limits must be an ExportLimits, got {type(value).__name__}")
    return value


def _optional_path(value: str | Path | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _read_only(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # Frozen settings must not change behind the export's back through a shared dict.
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"expected a mapping of options, got {type(value).__name__}")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ExportSettings:
    """How one export runs: every keyword option of :func:`~omnisend_sdk.export_segment`.

    Build it from keywords with :meth:`from_options`, which also takes the limits flat
    (``max_profiles=250_000``). Every value is checked when the settings are made, before
    anything is read or sent.

    Attributes:
        membership: ``"tag"`` (default): add the segment's tag to every exported contact;
            ``"none"``: do not mark membership.
        segment_tag: The tag to add; defaults to the segment's name.
        limits: The caps and the deadline. As keywords: ``max_profiles`` (1,000,000),
            ``contract_cap`` (a lower cap from your Omnisend contract), ``on_limit`` (``"fail"``:
            refuse an over-cap segment before sending when it can be counted first;
            ``"truncate"``: send up to the cap and report the rest) and ``deadline`` (stop
            sending after this long, seconds or a timedelta; 4 hours; rerun to resume).
        dry_run: Read and map everything, send nothing, report what would happen.
        resume: Keep the export's state (default True): a rerun resumes an interrupted export,
            and a rerun of a completed one is a refresh. ``False`` keeps nothing: every run
            sends the whole segment.
        full: Make a refresh resend and retag every member, changed or not: a full resync that
            repairs contacts edited or untagged inside Omnisend (the tags of members who left
            are still removed).
        on_exit: What a refresh does for members who left the segment: ``"untag"`` (default)
            removes the segment tag, ``"keep"`` leaves it. The contact itself is never deleted
            or changed.
        max_exit_share: The shrink guard: a refresh in which more than this share of the
            members left (0.10) refuses before sending anything, as does an empty source.
        allow_shrink: Go ahead whatever the shrink guard says.
        omnisend_segment: Keep a segment in Omnisend whose rule is "tags any of the segment
            tag", created on the first run, recreated if deleted; the report gives its count.
        state_dir: Where export states and acknowledgements live (``$OMNISEND_SDK_STATE_DIR``
            or ``~/.omnisend_sdk``).
        state_file: The SQLite file of this export's state; by default one file per store and
            segment under ``state_dir``.
        progress: ``"auto"`` (a tqdm bar on a terminal or in a notebook, when tqdm is
            installed), ``None``, or your own :class:`~omnisend_sdk.export.ExportProgress`.
        run_by: Who runs the export, for the report and ``allowed_users`` (default: the OS user).
        concurrency: Batch requests in flight at most (16), to use the rate budget at any latency.
        detailed: Fetch every batch's items to tell created from updated contacts (costs one
            request per batch).
        client_options: Options for the client a connection makes (``rate_limiter``, ``retry``...).
        source_options: Options for the source (``delimiter``, ``encoding``...).

    Raises:
        ConfigurationError: A value that cannot work (``membership="all"``, ``concurrency=0``...).
    """

    membership: Membership = attrs.field(default="tag", validator=_membership)
    segment_tag: str | None = None
    limits: ExportLimits = attrs.field(factory=ExportLimits, converter=_limits)
    dry_run: bool = False
    resume: bool = True
    full: bool = False
    on_exit: OnExit = attrs.field(default="untag", validator=_on_exit)
    max_exit_share: float = attrs.field(default=0.10, validator=_share)
    allow_shrink: bool = False
    omnisend_segment: bool = False
    state_dir: Path | None = attrs.field(default=None, converter=_optional_path)
    state_file: Path | None = attrs.field(default=None, converter=_optional_path)
    progress: ProgressOption = attrs.field(default="auto", validator=_progress)
    run_by: str | None = None
    concurrency: int = attrs.field(default=DEFAULT_CONCURRENCY, validator=_concurrency)
    detailed: bool = False
    client_options: Mapping[str, Any] = attrs.field(factory=dict, converter=_read_only)
    source_options: Mapping[str, Any] = attrs.field(factory=dict, converter=_read_only)

    @classmethod
    def option_names(cls) -> frozenset[str]:
        """Every keyword :meth:`from_options` takes."""
        return frozenset(field.name for field in attrs.fields(cls)) | _LIMIT_OPTIONS

    @classmethod
    def from_options(cls, base: ExportSettings | None = None, /, **options: Any) -> ExportSettings:
        """Settings from keyword options, over ``base`` (or the defaults).

        Raises:
            TypeError: An unknown option name (the message suggests the closest one).
            ConfigurationError: A value that cannot work, or ``limits=`` together with one of
                its flat options.
        """
        unknown = sorted(set(options) - cls.option_names())
        if unknown:
            raise TypeError(_unknown_options_message(unknown, cls.option_names()))
        settings = base or cls()
        flat_limits = {name: options.pop(name) for name in _LIMIT_OPTIONS & set(options)}
        if flat_limits:
            if "limits" in options:
                raise ConfigurationError(
                    f"pass limits= or {', '.join(sorted(flat_limits))}, not both"
                )
            options["limits"] = attrs.evolve(settings.limits, **flat_limits)
        return attrs.evolve(settings, **options)

    def tag_for(self, segment: str) -> str | None:
        """The tag that marks membership of ``segment``, or ``None`` without membership."""
        return (self.segment_tag or segment) if self.membership == "tag" else None

    def progress_listener(self) -> ExportProgress:
        """What the engine reports progress to: the ``progress`` option, resolved."""
        if self.progress == "auto":
            return default_progress()
        return self.progress or SilentProgress()

    def state_directory(self) -> Path:
        """``state_dir``, or the default state directory."""
        return state_dir_or_default(self.state_dir)

    def user(self) -> str | None:
        """Who runs the export: ``run_by``, or the operating-system user."""
        return self.run_by or current_user()


def _unknown_options_message(unknown: list[str], known: frozenset[str]) -> str:
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return (
        f"unknown export options: {', '.join(hints)}; the options are: {', '.join(sorted(known))}"
    )
