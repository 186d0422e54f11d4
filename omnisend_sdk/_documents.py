"""Settings files: a table in TOML (read with :mod:`tomllib`, written here) or JSON.

Mappings and export definitions are both saved this way. Only what they hold needs writing:
strings, booleans, numbers, lists of scalars and one level of tables, so a small writer does it
without a dependency. Problems raise :class:`~omnisend_sdk.MappingError`, with the messages a
mapping file has always given; an export definition turns them into its own error.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from omnisend_sdk._errors import MappingError

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
# TOML basic strings must escape ", \ and every control character but tab.
_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NEEDS_ESCAPE: Final = re.compile(r'["\\\x00-\x08\x0a-\x1f\x7f]')


def read_document(path: Path, what: str = "mapping") -> dict[str, Any]:
    """The table a ``.toml`` or ``.json`` file holds; ``what`` names the file in errors.

    Raises:
        MappingError: Unknown extension, unreadable file, invalid syntax, or not a table.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as file:
                data: object = tomllib.load(file)
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise MappingError(f"{path}: a mapping file must end in .toml or .json")
    except (OSError, UnicodeDecodeError, ValueError) as err:  # TOMLDecodeError is a ValueError
        if isinstance(err, MappingError):
            raise
        raise MappingError(f"{path}: cannot read the {what} file: {err}") from err
    if not isinstance(data, dict):
        raise MappingError(f"{path}: a {what} file must hold a table (an object)")
    return data


def write_document(path: Path, data: Mapping[str, Any]) -> None:
    """Write a table to a ``.toml`` or ``.json`` file, chosen by the extension.

    Raises:
        MappingError: Unknown extension, or a value the format cannot hold.
    """
    suffix = path.suffix.lower()
    if suffix == ".toml":
        text = toml_dumps(data)
    elif suffix == ".json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        raise MappingError(f"{path}: a mapping file must end in .toml or .json")
    path.write_text(text, encoding="utf-8")


def toml_dumps(data: Mapping[str, Any]) -> str:
    """TOML text for a table of scalars, lists of scalars and tables of scalars.

    Raises:
        MappingError: A value of another kind (nested tables deeper than one level, None...).
    """
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping) and not _is_inline(value):
            tables.append((key, value))
        else:
            lines.append(f"{toml_key(key)} = {_toml_value(value)}")
    for key, table in tables:
        lines.append(f"\n[{toml_key(key)}]")
        lines.extend(f"{toml_key(k)} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def toml_key(key: str) -> str:
    """A key, bare when TOML allows it, quoted otherwise."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A TOML basic string."""
    body = _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text)
    return f'"{body}"'


def _is_inline(value: Mapping[str, Any]) -> bool:
    # A constant, {constant = value}, reads best inline next to its field.
    return set(value) == {"constant"}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise MappingError(f"cannot write a {type(value).__name__} to TOML")
