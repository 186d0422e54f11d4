"""The package itself: its public names, and its independence from the client it tests."""

from __future__ import annotations

import ast
import pathlib

import pytest

import omnisend_sdk.testing as testing

PACKAGE = pathlib.Path(testing.__file__).parent


def test_all_is_sorted_and_importable() -> None:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions, each alphabetical.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert testing.__all__ == sorted(set(testing.__all__), key=kind)
    for name in testing.__all__:
        assert hasattr(testing, name), name


@pytest.mark.parametrize(
    ("old", "new"),
    [("ApiKey", testing.ScopedKey), ("FieldError", testing.InvalidField)],
)
def test_old_names_still_import_with_a_deprecation_warning(old: str, new: type) -> None:
    # The old names were also the client's (omnisend_sdk.ApiKey, omnisend_sdk.FieldError).
    with pytest.deprecated_call(match=new.__name__):
        alias = getattr(testing, old)
    assert alias is new
    assert old not in testing.__all__


def test_unknown_names_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(testing, "NoSuchName")  # noqa: B009 - the name must not be a literal attribute


def test_imports_nothing_from_the_rest_of_the_sdk() -> None:
    # Validation shared with the client would agree with the client's mistakes.
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("omnisend_sdk"), f"{module.name} imports {name}"
