"""The facade: everything public is importable from omnisend_sdk, listed once, sorted."""

from __future__ import annotations

import re

import pytest

import omnisend_sdk
from omnisend_sdk import export
from omnisend_sdk._client import ClientOptions


def test_all_is_sorted_and_unique() -> None:
    assert omnisend_sdk.__all__ == sorted(set(omnisend_sdk.__all__))


def test_all_names_exist_and_nothing_public_is_unlisted() -> None:
    public = {
        name
        for name, value in vars(omnisend_sdk).items()
        if not name.startswith("_") and not isinstance(value, type(omnisend_sdk))
    }
    assert set(omnisend_sdk.__all__) - {"__version__"} == public


def test_every_exception_shares_one_root() -> None:
    errors = [
        value
        for value in vars(omnisend_sdk).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert len(errors) > 10
    assert all(issubclass(e, omnisend_sdk.OmnisendError) for e in errors)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ProgressCallbacks", "SilentProgress"),
        ("CallbackProgress", "FunctionProgress"),
        ("ExportOptions", "ExportSettings"),
    ],
)
def test_renamed_export_names_still_import_with_a_warning(old: str, new: str) -> None:
    with pytest.deprecated_call(match=f"{old} is deprecated; use {new}"):
        alias = getattr(export, old)
    assert alias is getattr(export, new)
    assert old not in export.__all__


def test_unknown_export_names_still_raise() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        export.Nope  # noqa: B018


def test_the_clients_docstring_gives_every_setting_with_its_declared_type() -> None:
    """The settings come through ``**options: Unpack[ClientOptions]``, which the reference cannot
    see: the docstring's Keyword Args section names each, with the type ClientOptions declares."""
    doc = omnisend_sdk.OmnisendClient.__doc__ or ""
    section = doc.split("Keyword Args:", 1)[1]
    documented = dict(re.findall(r"^        (\w+) \(([^)]*)\):", section, re.MULTILINE))
    declared = {
        name: getattr(kind, "__forward_arg__", kind)  # the module's annotations are strings
        for name, kind in ClientOptions.__annotations__.items()
    }
    assert documented == declared
