"""ExportDefinition: saved without secrets, loaded back equal, run through the named connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk._connection import Connection
from omnisend_sdk._errors import ConfigurationError, MappingError
from omnisend_sdk.export import ExportLimits, ExportSettings, _definition
from omnisend_sdk.export._definition import ExportDefinition
from omnisend_sdk.mapping import ContactMapping

SECRET = "osk-test-1234567890abcdef-SECRET"
MAPPING = ContactMapping.from_dict(
    {
        "email": "EmailAddress",
        "first_name": "FirstName",
        "address": ["Street", "Line2"],
        "country": {"constant": "LT"},
        "custom_properties": {"LoyaltyTier": "loyalty_tier"},
    }
)
#: What the stand-in engine returns.
REPORT: Any = object()
OPTIONS = {
    "membership": "tag",
    "max_profiles": 250_000,
    "on_limit": "truncate",
    "deadline": 3600.5,
    "dry_run": False,
}


def make(**changes: Any) -> ExportDefinition:
    values: dict[str, Any] = {
        "name": "vip-weekly",
        "connection": "prod",
        "mapping": MAPPING,
        "segment": "VIP customers",
        "source": "/data/vip.csv",
        "options": OPTIONS,
    }
    return ExportDefinition(**(values | changes))


@pytest.fixture
def connection(tmp_path: Path) -> Connection:
    return Connection("prod", SECRET, state_dir=tmp_path / "state")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Stand in for the engine: record what run() passes to export_segment."""
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def export_segment(*args: Any, **kwargs: Any) -> Any:
        seen.append((args, kwargs))
        return REPORT

    async def export_segment_async(*args: Any, **kwargs: Any) -> Any:
        return export_segment(*args, **kwargs)

    monkeypatch.setattr(_definition, "export_segment", export_segment)
    monkeypatch.setattr(_definition, "export_segment_async", export_segment_async)
    return seen


def effective_settings(kwargs: dict[str, Any]) -> ExportSettings:
    """The settings export_segment would run with, given what run() passed it."""
    fixed = {"connection", "segment", "settings", "client"}
    options = {name: value for name, value in kwargs.items() if name not in fixed}
    return ExportSettings.from_options(kwargs.get("settings"), **options)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"source": None},
        {"options": {}},
        {"options": {"max_profiles": 5, "source_options": {"delimiter": ";", "skip": ("a", "b")}}},
    ],
)
def test_round_trip(tmp_path: Path, suffix: str, changes: dict[str, Any]) -> None:
    definition = make(**changes)
    path = definition.save(tmp_path / f"vip{suffix}")
    assert ExportDefinition.load(path) == definition


def test_toml_reads_well(tmp_path: Path) -> None:
    text = make().save(tmp_path / "vip.toml").read_text(encoding="utf-8")
    assert text.startswith('format = 1\nname = "vip-weekly"\nconnection = "prod"\n')
    assert '\n[options]\nmembership = "tag"\n' in text
    assert '\n[mapping]\nemail = "EmailAddress"\n' in text


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_no_key_material_is_ever_written(
    tmp_path: Path, suffix: str, connection: Connection, calls: list[Any]
) -> None:
    connection.acknowledge_privacy(by="Jane Roe")
    definition = make(connection=connection.name)
    definition.save(tmp_path / f"vip{suffix}")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8")
    assert SECRET not in repr(definition)
    assert calls == []  # saving never runs anything


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"api_key": SECRET}, "cannot be saved"),
        ({"omnisend_token": "x"}, "looks like a secret"),
        ({"client_secret": "x"}, "looks like a secret"),
        ({"segment": "other"}, "cannot be saved"),
        ({"progress": None}, "cannot be saved"),
        ({"on_batch": print}, "cannot hold"),
        ({"deadline": float("inf")}, "cannot hold"),
        ({"bad name": 1}, "not a keyword"),
        ({"nested": {1: "x"}}, "keys must be text"),
        (
            {"max_profile": 5},
            r"unknown export options: max_profile \(did you mean max_profiles\?\)",
        ),
        ({"on_limit": "drop"}, "on_limit must be"),
        ({"membership": "all"}, "membership must be"),
    ],
)
def test_options_that_cannot_be_saved_are_refused(options: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        make(options=options)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"name": ""}, "name"),
        ({"connection": " "}, "connection name"),
        ({"segment": None}, "segment"),
        ({"mapping": {"email": "E"}}, "ContactMapping"),
        ({"source": ""}, "source"),
    ],
)
def test_required_fields(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        make(**changes)


def test_a_path_source_is_kept_as_text(tmp_path: Path) -> None:
    assert make(source=tmp_path / "vip.csv").source == str(tmp_path / "vip.csv")


def test_options_cannot_change_behind_a_frozen_definition() -> None:
    options = {"max_profiles": 10}
    definition = make(options=options)
    options["max_profiles"] = 20
    assert definition.options["max_profiles"] == 10
    with pytest.raises(TypeError):
        definition.options["max_profiles"] = 30  # type: ignore[index]


def test_none_is_saved_to_json_but_not_to_toml(tmp_path: Path) -> None:
    definition = make(options={"contract_cap": None})
    assert ExportDefinition.load(definition.save(tmp_path / "d.json")) == definition
    with pytest.raises(ConfigurationError, match="TOML cannot hold None"):
        definition.save(tmp_path / "d.toml")


def test_a_mapping_with_a_function_cannot_be_saved(tmp_path: Path) -> None:
    definition = make(mapping=ContactMapping(email=lambda row: row["E"]))
    with pytest.raises(MappingError, match="function"):
        definition.save(tmp_path / "d.toml")


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('name = "x"\nconnection = "c"\nsegment = "s"\n', "needs a \\[mapping\\] table"),
        ('format = 2\nname = "x"\n[mapping]\nemail = "E"\n', "format 2"),
        ('nmae = "x"\n[mapping]\nemail = "E"\n', "unknown export definition keys: nmae"),
        ('name = "x"\nconnection = "c"\nsegment = "s"\n[mapping]\nmail = "E"\n', "mapping:"),
        ('name = "x"\n[mapping]\nemail = "E"\n', "connection name"),
        ("name = ", "cannot read"),
    ],
)
def test_load_explains_bad_files(tmp_path: Path, content: str, complaint: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        ExportDefinition.load(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["vip.yaml", "vip"])
def test_other_extensions_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match=r"\.toml or \.json"):
        make().save(tmp_path / name)
    with pytest.raises(ConfigurationError, match=r"\.toml or \.json"):
        ExportDefinition.load(tmp_path / name)


def test_run_passes_the_definition_to_the_engine(
    connection: Connection, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    assert make().run(connection=connection) is REPORT
    [(args, kwargs)] = calls
    assert args == ("/data/vip.csv", MAPPING)
    assert kwargs == {
        "connection": connection,
        "segment": "VIP customers",
        "settings": ExportSettings.from_options(**OPTIONS),
    }
    assert effective_settings(kwargs).limits == ExportLimits(
        max_profiles=250_000, on_limit="truncate", deadline=3600.5
    )


def test_run_overrides_win_and_source_replaces(
    connection: Connection, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    rows = [{"EmailAddress": "a@example.com"}]
    make().run(connection=connection, source=rows, max_profiles=5, progress=None)
    [(args, kwargs)] = calls
    assert args[0] is rows
    settings = effective_settings(kwargs)
    assert settings.limits.max_profiles == 5  # the override wins
    assert settings.progress is None
    assert settings.limits.on_limit == "truncate"  # the saved option stays


class Falsy:
    """Like a DataFrame: refuses to be a truth value."""

    def __bool__(self) -> bool:
        raise ValueError("the truth value of a DataFrame is ambiguous")


def test_a_source_that_is_no_truth_value_is_still_used(
    connection: Connection, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    frame = Falsy()
    make().run(connection=connection, source=frame)
    assert calls[0][0][0] is frame


async def test_run_async(
    connection: Connection, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
) -> None:
    assert await make().run_async(connection=connection, dry_run=True) is REPORT
    assert effective_settings(calls[0][1]).dry_run is True


@pytest.mark.parametrize(
    ("changes", "run_options", "complaint"),
    [
        ({"connection": "staging"}, {}, "runs through connection 'staging', not 'prod'"),
        ({"source": None}, {}, "has no source"),
        ({}, {"segment": "other"}, "cannot be overridden"),
        ({}, {"client": object()}, "cannot be overridden"),
    ],
)
def test_run_refuses(
    connection: Connection,
    calls: list[Any],
    changes: dict[str, Any],
    run_options: dict[str, Any],
    complaint: str,
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        make(**changes).run(connection=connection, **run_options)
    assert calls == []
