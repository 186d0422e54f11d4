"""The facade: everything public is importable from omnisend_sdk, listed once, sorted."""

from __future__ import annotations

import omnisend_sdk


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
