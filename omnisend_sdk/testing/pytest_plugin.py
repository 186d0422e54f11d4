"""The pytest plugin (``pytest11`` entry point): the ``omnisend_emulator`` fixture.

Options for one test go in a marker::

    @pytest.mark.omnisend_emulator(time_scale=60, welcome_workflow=False)
    def test_export(omnisend_emulator): ...
"""

from __future__ import annotations

import pytest

from ._emulator import OmnisendEmulator


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "omnisend_emulator(**options): keyword arguments for the omnisend_emulator fixture's "
        "OmnisendEmulator",
    )


@pytest.fixture
def omnisend_emulator(request: pytest.FixtureRequest) -> OmnisendEmulator:
    """A fresh :class:`OmnisendEmulator` for each test, configured by the closest marker."""
    marker = request.node.get_closest_marker("omnisend_emulator")
    return OmnisendEmulator(**(marker.kwargs if marker else {}))
