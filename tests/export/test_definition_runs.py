"""A saved export definition, loaded back, runs the real engine through its connection."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from omnisend_sdk import ConfigurationError, RateLimiter
from omnisend_sdk.export import Connection, ExportDefinition
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator
from tests.export.conftest import LOCAL_URL, MAPPING, TIME_SCALE, expected_email, segment_rows


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_saved_definition_runs_on_demand(
    emulator: OmnisendEmulator, tmp_path: Path, suffix: str
) -> None:
    definition = ExportDefinition(
        name="vip-daily",
        connection="local",
        mapping=MAPPING,
        segment="VIP customers",
        options={"membership": "tag", "max_profiles": 1_000, "deadline": 600},
    )
    path = definition.save(tmp_path / f"vip{suffix}")
    assert EMULATOR_API_KEY not in path.read_text()

    loaded = ExportDefinition.load(path)
    connection = Connection("local", EMULATOR_API_KEY, base_url=LOCAL_URL, state_dir=tmp_path)
    report = loaded.run(
        connection=connection,
        source=segment_rows(120),
        state_dir=tmp_path,
        progress=None,
        client_options={
            "http_client": httpx.Client(transport=emulator.transport()),
            "rate_limiter": RateLimiter(window=60 / TIME_SCALE),
        },
    )
    emulator.run_until_idle()

    assert (report.status, report.exported, report.connection_name) == ("completed", 120, "local")
    assert {c["email"] for c in emulator.contacts()} == {expected_email(i) for i in range(120)}
    assert all(c["tags"] == ["VIP customers"] for c in emulator.contacts())


def test_a_definition_refuses_another_connection(tmp_path: Path) -> None:
    definition = ExportDefinition(name="d", connection="prod", mapping=MAPPING, segment="VIP")
    staging = Connection("staging", EMULATOR_API_KEY, base_url=LOCAL_URL, state_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="prod"):
        definition.run(connection=staging, source=segment_rows(1))
