"""Saved exports: :class:`ExportDefinition`, an export described as data, run on demand.

A definition names its connection instead of holding it, so the file carries no secret and can sit
in version control. The process that runs it (a cron job, an Airflow or Dagster task) finds the
connection by that name: the one saved under it (``omnisend-export connect``,
:meth:`~omnisend_sdk.Connection.save`), else one built from its own environment
(``OMNISEND_API_KEY``), for pipelines that keep the key in their own secret store. Its options are
:class:`~omnisend_sdk.export.ExportSettings` keywords, checked when the definition is made.

A TOML definition reads::

    name = "vip-weekly"
    connection = "prod"
    segment = "VIP customers"
    source = "/data/exports/vip.csv"

    [options]
    max_profiles = 250000
    on_limit = "fail"

    [mapping]
    email = "EmailAddress"
    first_name = "FirstName"
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import attrs

from omnisend_sdk._connection import Connection
from omnisend_sdk._documents import read_document, write_document
from omnisend_sdk._errors import ConfigurationError, MappingError
from omnisend_sdk.export._api import export_segment, export_segment_async
from omnisend_sdk.export._report import ExportReport
from omnisend_sdk.export._settings import ExportSettings
from omnisend_sdk.mapping import ContactMapping

#: Version of the file layout, written to every file so a later SDK can read older ones.
DEFINITION_FORMAT: Final = 1
_SUFFIXES: Final = (".toml", ".json")
#: ``export_segment`` arguments the definition sets itself, or that cannot be saved.
_RESERVED_OPTIONS: Final = frozenset(
    {
        "source",
        "mapping",
        "connection",
        "client",
        "segment",
        "settings",
        "cancel",
        "progress",
        "api_key",
    }
)
#: Option names that suggest a secret: a definition file must never hold one.
_SECRET_NAME: Final = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)
_TOP_LEVEL: Final = frozenset(
    {"format", "name", "connection", "segment", "source", "options", "mapping"}
)


def _check_value(name: str, value: object) -> None:
    """Options must be plain data a TOML or JSON file can hold."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(name, item)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigurationError(f"option {name}: keys must be text")
            _check_value(name, item)
        return
    raise ConfigurationError(
        f"option {name} is a {type(value).__name__}, which a definition file cannot hold; "
        "pass it to run() instead"
    )


def _checked_options(options: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(options, Mapping):
        raise ConfigurationError("options must be a mapping of export_segment keywords")
    for name, value in options.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"option {name!r} is not a keyword argument name")
        if name in _RESERVED_OPTIONS:
            raise ConfigurationError(
                f"option {name!r} cannot be saved in a definition: the definition sets it, "
                "or it is given to run()"
            )
        if _SECRET_NAME.search(name):
            raise ConfigurationError(
                f"option {name!r} looks like a secret; a definition never holds one "
                "(the connection does)"
            )
        _check_value(name, value)
    try:  # every name and value as the export will take it, so a typo fails now, not at 3 am
        ExportSettings.from_options(**options)
    except TypeError as err:
        raise ConfigurationError(str(err)) from None
    # A read-only copy: the definition is frozen, so its options must not change behind it.
    # Tuples become lists, as they come back from a file, so a saved definition loads equal.
    return MappingProxyType(_plain(options))


def _text(name: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"an export definition needs a {name} (non-empty text)")

    return check


def _check_mapping(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, ContactMapping):
        raise ConfigurationError("mapping must be a ContactMapping")


def _check_source(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError("source must be a file path (text) or None")


def _source_text(value: str | Path | None) -> str | None:
    return str(value) if isinstance(value, Path) else value


@attrs.frozen(kw_only=True)
class ExportDefinition:
    """An export described as data: saved to TOML or JSON, run on demand.

    Attributes:
        name: What the export is called (``"vip-weekly"``).
        connection: The *name* of the connection to export through: a saved connection, or
            the name given to one built from the environment when running.
        mapping: How rows become contacts.
        segment: The segment's name (and tag, with ``membership="tag"``).
        source: The file to read (CSV or JSON Lines), or ``None`` when ``run()`` is given one.
            A relative path is relative to the working directory of the process that runs it.
        options: Further ``export_segment`` keywords (``membership``, ``max_profiles``,
            ``contract_cap``, ``on_limit``, ``deadline`` (seconds)...): plain data only.

    Raises:
        ConfigurationError: An empty name, connection or segment; options that cannot be saved,
            name something the definition sets itself, or look like a secret.
    """

    name: str = attrs.field(validator=_text("name"))
    connection: str = attrs.field(validator=_text("connection name"))
    mapping: ContactMapping = attrs.field(validator=_check_mapping)
    segment: str = attrs.field(validator=_text("segment"))
    source: str | None = attrs.field(default=None, converter=_source_text, validator=_check_source)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_checked_options)

    @property
    def settings(self) -> ExportSettings:
        """The saved options as the export takes them."""
        return ExportSettings.from_options(**self.options)

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data (what :meth:`save` writes).

        Raises:
            MappingError: The mapping uses a function, which cannot be saved.
        """
        data: dict[str, Any] = {
            "format": DEFINITION_FORMAT,
            "name": self.name,
            "connection": self.connection,
            "segment": self.segment,
        }
        if self.source is not None:
            data["source"] = self.source
        data["options"] = _plain(self.options)
        data["mapping"] = self.mapping.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportDefinition:
        """The definition :meth:`to_dict` describes.

        Raises:
            ConfigurationError: Unknown keys, a later format, missing or invalid values.
        """
        unknown = sorted(str(key) for key in data if key not in _TOP_LEVEL)
        if unknown:
            raise ConfigurationError(f"unknown export definition keys: {', '.join(unknown)}")
        version = data.get("format", DEFINITION_FORMAT)
        if version != DEFINITION_FORMAT:
            raise ConfigurationError(
                f"export definition format {version!r} is not supported (this SDK reads "
                f"{DEFINITION_FORMAT}); upgrade omnisend-sdk"
            )
        mapping = data.get("mapping")
        if not isinstance(mapping, Mapping):
            raise ConfigurationError("an export definition needs a [mapping] table")
        try:
            contact_mapping = ContactMapping.from_dict(mapping)
        except MappingError as err:
            raise ConfigurationError(f"mapping: {err}") from err
        return cls(
            name=data.get("name", ""),  # the validators check the types
            connection=data.get("connection", ""),
            segment=data.get("segment", ""),
            source=data.get("source"),
            mapping=contact_mapping,
            options=data.get("options", {}),
        )

    def save(self, path: str | Path) -> Path:
        """Write the definition to a ``.toml`` or ``.json`` file. Saving never runs anything.

        Returns:
            The path written.

        Raises:
            ConfigurationError: Another extension, or an option TOML cannot hold (``None``).
            MappingError: The mapping uses a function, which cannot be saved.
        """
        path = _checked_path(path)
        data = self.to_dict()
        if path.suffix.lower() == ".toml":
            empty = sorted(name for name, value in self.options.items() if value is None)
            if empty:
                raise ConfigurationError(
                    f"TOML cannot hold None (options {', '.join(empty)}): leave them out, "
                    "or save as .json"
                )
        write_document(path, data)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ExportDefinition:
        """Read a definition written by :meth:`save` or by hand.

        Raises:
            ConfigurationError: A file that cannot be read as a definition, naming it.
        """
        path = _checked_path(path)
        try:
            data = read_document(path, "export definition")
        except MappingError as err:  # its message names the file already
            raise ConfigurationError(str(err)) from err
        try:
            return cls.from_dict(data)
        except (ConfigurationError, MappingError) as err:
            raise ConfigurationError(f"{path}: {err}") from err

    def run(
        self, *, connection: Connection | None = None, source: Any = None, **overrides: Any
    ) -> ExportReport:
        """Run the export now through its connection.

        Args:
            connection: The connection the definition names (checked by name). Left out, it is
                found by name: the connection saved under it, else one from the environment
                (:meth:`Connection.named <omnisend_sdk.Connection.named>`).
            source: What to read instead of ``self.source``: a path, an iterable of mappings,
                a DataFrame or an Arrow table.
            **overrides: ``export_segment`` keywords that win over the saved options
                (``progress``, ``dry_run``, ``deadline`` (seconds)...).

        Returns:
            The export's report.

        Raises:
            ConfigurationError: The connection has another name, or there is no source; the
                named connection was removed, or has no saved profile and no key in the
                environment.
            UserNotAllowedError: The user running it may not use the saved connection.
        """
        return export_segment(
            self._source(source), self.mapping, **self._arguments(connection, overrides)
        )

    async def run_async(
        self, *, connection: Connection | None = None, source: Any = None, **overrides: Any
    ) -> ExportReport:
        """Like :meth:`run`, with ``export_segment_async``."""
        return await export_segment_async(
            self._source(source), self.mapping, **self._arguments(connection, overrides)
        )

    def _source(self, source: Any) -> Any:
        # "is None", not "or": a DataFrame refuses to be a truth value.
        chosen = source if source is not None else self.source
        if chosen is None:
            raise ConfigurationError(
                f"export {self.name!r} has no source: save one in the definition or pass source="
            )
        return chosen

    def _arguments(
        self, connection: Connection | None, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        if connection is None:
            # Saved connections live in the state directory the export uses.
            state_dir = overrides.get("state_dir", self.options.get("state_dir"))
            connection = Connection.named(self.connection, state_dir=state_dir)
        if getattr(connection, "name", None) != self.connection:
            raise ConfigurationError(
                f"export {self.name!r} runs through connection {self.connection!r}, "
                f"not {getattr(connection, 'name', connection)!r}"
            )
        fixed = sorted({"connection", "client", "segment", "settings"} & set(overrides))
        if fixed:
            raise ConfigurationError(
                f"{', '.join(fixed)} cannot be overridden: the definition sets them"
            )
        return {
            "connection": connection,
            "segment": self.segment,
            "settings": self.settings,
            **overrides,
        }


def _plain(value: Any) -> Any:
    """Options as plain dicts and lists, for the writers."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _checked_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise ConfigurationError(f"{path}: an export definition file must end in .toml or .json")
    return path
