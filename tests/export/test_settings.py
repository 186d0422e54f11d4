"""ExportSettings: every export option once, with its default and its check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import ConfigurationError, Connection, ExportSettings
from omnisend_sdk.export import ExportLimits, SilentProgress, plan_export
from omnisend_sdk.mapping import ContactMapping


def test_defaults() -> None:
    settings = ExportSettings()
    assert settings.membership == "tag"
    assert settings.limits == ExportLimits()
    assert settings.limits.cap == 1_000_000
    assert settings.limits.deadline == timedelta(hours=4)
    assert (settings.dry_run, settings.resume, settings.detailed) == (False, True, False)
    assert settings.progress == "auto"
    assert settings.concurrency == 16


def test_limits_are_given_flat_and_land_in_their_own_value() -> None:
    settings = ExportSettings.from_options(max_profiles=500, on_limit="truncate", deadline=90)
    assert settings.limits == ExportLimits(
        max_profiles=500, on_limit="truncate", deadline=timedelta(seconds=90)
    )


def test_options_override_a_base_and_keep_the_rest() -> None:
    base = ExportSettings.from_options(max_profiles=500, membership="none", dry_run=True)
    settings = ExportSettings.from_options(base, contract_cap=100, dry_run=False)
    assert settings.limits.cap == 100
    assert settings.limits.max_profiles == 500  # kept from the base
    assert settings.membership == "none"
    assert settings.dry_run is False


def test_limits_whole_or_flat_not_both() -> None:
    assert ExportSettings.from_options(limits=ExportLimits(max_profiles=3)).limits.cap == 3
    with pytest.raises(ConfigurationError, match="pass limits= or max_profiles, not both"):
        ExportSettings.from_options(limits=ExportLimits(), max_profiles=3)


def test_an_unknown_option_names_the_closest_one() -> None:
    with pytest.raises(TypeError, match=r"on_limits \(did you mean on_limit\?\)"):
        ExportSettings.from_options(on_limits="fail")


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"membership": "all"}, "membership must be"),
        ({"concurrency": 0}, "concurrency must be"),
        ({"concurrency": True}, "concurrency must be"),
        ({"on_limit": "drop"}, "on_limit must be"),
        ({"max_profiles": 0}, "at least 1"),
        ({"deadline": -1}, "the deadline must be in the future"),
        ({"deadline": "soon"}, "seconds or a timedelta"),
        ({"progress": "bar"}, "progress must be"),
        ({"limits": {"max_profiles": 3}}, "limits must be an ExportLimits"),
        ({"source_options": ["delimiter"]}, "expected a mapping"),
    ],
)
def test_values_that_cannot_work_are_refused(options: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        ExportSettings.from_options(**options)


def test_option_mappings_are_copied_and_read_only() -> None:
    given = {"delimiter": ";"}
    settings = ExportSettings(source_options=given)
    given["delimiter"] = ","
    assert settings.source_options == {"delimiter": ";"}
    with pytest.raises(TypeError):
        settings.source_options["delimiter"] = ","  # type: ignore[index]


def test_resolved_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNISEND_SDK_STATE_DIR", str(tmp_path / "env"))
    assert ExportSettings().tag_for("VIP") == "VIP"
    assert ExportSettings(segment_tag="vip-2026").tag_for("VIP") == "vip-2026"
    assert ExportSettings(membership="none", segment_tag="x").tag_for("VIP") is None
    assert ExportSettings().state_directory() == tmp_path / "env"
    assert ExportSettings(state_dir=tmp_path / "mine").state_directory() == tmp_path / "mine"
    assert isinstance(ExportSettings(progress=None).progress_listener(), SilentProgress)
    assert ExportSettings(run_by="jane").user() == "jane"


def test_every_option_is_a_keyword_of_from_options() -> None:
    assert ExportSettings.option_names() >= {
        "membership",
        "segment_tag",
        "max_profiles",
        "contract_cap",
        "on_limit",
        "deadline",
        "limits",
        "dry_run",
        "resume",
        "state_dir",
        "progress",
        "run_by",
        "concurrency",
        "detailed",
        "client_options",
        "source_options",
    }


ROWS = [{"Email": f"p{i}@example.com"} for i in range(250)]


def test_plan_export_takes_the_export_options() -> None:
    mapping = ContactMapping(email="Email")
    plan = plan_export(ROWS, mapping, max_profiles=200, on_limit="truncate", membership="none")
    assert (plan.to_send, plan.over_limit, plan.batches, plan.tag_requests) == (200, 50, 2, 0)
    settings = ExportSettings.from_options(max_profiles=200, on_limit="truncate")
    assert plan_export(ROWS, mapping, settings=settings).tag_requests == 1


@pytest.mark.parametrize(("version", "batches"), [("2026-03-15", 3), ("v3", 1)])
def test_plan_export_sizes_batches_by_the_clients_api_version(
    version: str, batches: int, tmp_path: Path
) -> None:
    connection = Connection("plan", "key", api_version=version, state_dir=tmp_path)
    plan = plan_export(ROWS, ContactMapping(email="Email"), client=connection)
    assert plan.batches == batches
    # An explicit version wins over the client's.
    assert (
        plan_export(
            ROWS, ContactMapping(email="Email"), client=connection, api_version="v3"
        ).batches
        == 1
    )


def test_plan_export_membership_as_a_bool_is_deprecated() -> None:
    with pytest.deprecated_call(match='membership="tag" or "none"'):
        plan = plan_export(ROWS, ContactMapping(email="Email"), membership=False)
    assert plan.tag_requests == 0
