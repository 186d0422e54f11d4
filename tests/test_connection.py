"""Connection: the key never shows, the privacy acknowledgement is stored safely, who may export."""

from __future__ import annotations

import getpass
import json
import os
import pickle
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnisend_sdk._auth import ApiKey
from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient
from omnisend_sdk._connection import (
    Connection,
    acknowledge_privacy,
    current_user,
    privacy_acknowledgement,
    require_privacy_acknowledgement,
)
from omnisend_sdk._errors import (
    AuthenticationError,
    ConfigurationError,
    PrivacyAcknowledgementError,
    UserNotAllowedError,
)
from omnisend_sdk._privacy import PrivacyAcknowledgement
from omnisend_sdk._retry import RetryPolicy
from omnisend_sdk._state import default_state_dir

SECRET = "osk-test-1234567890abcdef-SECRET"
REMOTE = "https://api.omnisend.com/api"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state directory; none touches the real home."""
    state = tmp_path / "state"
    monkeypatch.setenv("OMNISEND_SDK_STATE_DIR", str(state))
    return state


def connect(**options: Any) -> Connection:
    return Connection("prod", SECRET, **options)


def every_file(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_the_key_is_wrapped_and_never_shown() -> None:
    connection = connect()
    assert SECRET not in repr(connection)
    assert SECRET not in str(connection)
    assert connection.key_fingerprint in repr(connection)
    assert connection.key_fingerprint == ApiKey(SECRET).fingerprint
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(connection)


@pytest.mark.parametrize(
    ("args", "options", "complaint"),
    [
        (("", SECRET), {}, "needs a name"),
        (("prod", "  "), {}, "key is empty"),
        (("prod", SECRET), {"base_url": "http://example.com/api"}, "https://"),
        (("prod", SECRET), {"api_version": "v2"}, "unsupported"),
        (("prod", SECRET), {"allowed_users": []}, "nobody could export"),
    ],
)
def test_bad_settings_are_refused(
    args: tuple[str, str], options: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        Connection(*args, **options)


def test_state_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert connect().state_dir == tmp_path / "state"
    monkeypatch.delenv("OMNISEND_SDK_STATE_DIR")
    assert default_state_dir() == Path.home() / ".omnisend_sdk"
    assert connect(state_dir=tmp_path / "x").state_dir == tmp_path / "x"


def test_acknowledgement_is_recorded_and_found_by_a_new_connection(state_dir: Path) -> None:
    before = datetime.now(UTC)
    record = connect().acknowledge_privacy(by="  Jane Roe ")
    assert record.by == "Jane Roe"
    assert record.connection_name == "prod"
    assert record.base_url == REMOTE
    assert record.key_fingerprint == ApiKey(SECRET).fingerprint
    assert before <= record.at <= datetime.now(UTC)
    assert record.at.tzinfo == UTC
    # Another object, another name, same key and URL: the same store, already acknowledged.
    again = Connection("production", SECRET)
    assert again.acknowledgement == record
    assert again.check_can_export() == record
    assert privacy_acknowledgement(again) == record


@pytest.mark.parametrize(
    ("other_key", "other_url"),
    [("osk-another-key", REMOTE), (SECRET, "https://eu.api.omnisend.com/api")],
)
def test_acknowledgement_is_per_key_and_url(other_key: str, other_url: str) -> None:
    connect().acknowledge_privacy(by="Jane Roe")
    other = Connection("other", other_key, base_url=other_url)
    assert other.acknowledgement is None
    with pytest.raises(PrivacyAcknowledgementError):
        other.check_can_export()


def test_without_acknowledgement_export_is_refused_saying_how() -> None:
    with pytest.raises(PrivacyAcknowledgementError) as caught:
        connect().check_can_export()
    message = str(caught.value)
    assert "connection.acknowledge_privacy(by=" in message
    assert "compliance boundary" in message
    assert SECRET not in message


def test_the_record_holds_no_key_is_written_atomically_and_private(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: Any, target: Any) -> None:
        replaced.append((os.fspath(source), os.fspath(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    connect().acknowledge_privacy(by="Jane Roe")
    files = every_file(state_dir)
    assert len(files) == 1
    [path] = files
    assert replaced == [(replaced[0][0], str(path))]
    assert Path(replaced[0][0]).parent == path.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert json.loads(text)["acknowledgement"]["by"] == "Jane Roe"


def test_a_failed_write_leaves_neither_a_record_nor_a_temporary_file(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        connect().acknowledge_privacy(by="Jane Roe")
    assert every_file(state_dir) == []


def test_acknowledging_again_replaces_the_record() -> None:
    connect().acknowledge_privacy(by="Jane Roe")
    record = connect().acknowledge_privacy(by="John Doe")
    assert connect().acknowledgement == record


@pytest.mark.parametrize("content", ["not json", '{"format": 1}', '{"acknowledgement": {}}'])
def test_a_damaged_record_is_not_consent(state_dir: Path, content: str) -> None:
    connect().acknowledge_privacy(by="Jane Roe")
    [path] = every_file(state_dir)
    path.write_text(content, encoding="utf-8")
    assert connect().acknowledgement is None
    with pytest.raises(PrivacyAcknowledgementError):
        connect().check_can_export()


def test_a_record_for_another_key_in_the_file_is_not_consent(state_dir: Path) -> None:
    connect().acknowledge_privacy(by="Jane Roe")
    [path] = every_file(state_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["acknowledgement"]["key_fingerprint"] = "sha256:000000000000"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert connect().acknowledgement is None


def test_acknowledging_needs_a_name() -> None:
    with pytest.raises(ConfigurationError, match="name of the person"):
        connect().acknowledge_privacy(by=" ")


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8080/api", "http://localhost:9000/api", "http://[::1]:8000/api"],
)
def test_a_loopback_emulator_needs_no_acknowledgement(base_url: str) -> None:
    connection = connect(base_url=base_url)
    assert connection.is_loopback
    assert connection.check_can_export() is None


@pytest.mark.parametrize(
    ("allowed", "user", "allowed_to_export"),
    [
        (None, "anyone", True),
        (["etl", "jane"], "jane", True),
        (["etl", "jane"], " jane ", True),
        (["etl", "jane"], "mallory", False),
        (["etl", "jane"], "Jane", False),
        ("jane", "jane", True),  # one name, not a set of letters
        ("jane", "j", False),
    ],
)
def test_allowed_users(allowed: Any, user: str, allowed_to_export: bool) -> None:
    connection = connect(allowed_users=allowed, base_url="http://127.0.0.1:1/api")
    if allowed_to_export:
        assert connection.check_can_export(user) is None
    else:
        with pytest.raises(UserNotAllowedError, match=repr(user)):
            connection.check_can_export(user)


def test_allowed_users_checks_the_os_user_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "mallory")
    connection = connect(allowed_users=["jane"])
    with pytest.raises(UserNotAllowedError, match="mallory"):
        connection.check_can_export()
    assert issubclass(UserNotAllowedError, PrivacyAcknowledgementError)


def test_a_user_who_cannot_be_named_is_not_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def nameless() -> str:
        raise OSError("no user name for uid 1234")

    monkeypatch.setattr(getpass, "getuser", nameless)
    assert current_user() is None
    with pytest.raises(UserNotAllowedError, match="<unknown>"):
        connect(allowed_users=["jane"]).check_can_export()


def test_allowed_users_are_checked_before_the_acknowledgement() -> None:
    with pytest.raises(UserNotAllowedError):
        connect(allowed_users=["jane"]).check_can_export("mallory")


@pytest.mark.parametrize("client_class", [OmnisendClient, AsyncOmnisendClient])
def test_a_bare_client_can_acknowledge_for_its_key(client_class: type[Any]) -> None:
    client = client_class(SECRET)
    with pytest.raises(PrivacyAcknowledgementError, match=r"omnisend_sdk\.acknowledge_privacy"):
        require_privacy_acknowledgement(client)
    record = acknowledge_privacy(client, "Jane Roe")
    assert record.connection_name is None
    assert require_privacy_acknowledgement(client) == record
    # The connection over the same key and URL shares it, and vice versa.
    assert connect().acknowledgement == record


def test_module_function_on_a_connection_records_its_name(tmp_path: Path) -> None:
    assert acknowledge_privacy(connect(), "Jane Roe").connection_name == "prod"
    elsewhere = acknowledge_privacy(connect(), "Jane Roe", state_dir=tmp_path / "other")
    assert elsewhere.connection_name == "prod"
    assert privacy_acknowledgement(connect(), state_dir=tmp_path / "other") == elsewhere


def test_record_round_trip_and_validation() -> None:
    record = PrivacyAcknowledgement(
        connection_name=None,
        by="Jane",
        at=datetime(2026, 3, 20, 11, 0, tzinfo=UTC) + timedelta(hours=0),
        key_fingerprint="sha256:0123456789ab",
        base_url=REMOTE,
    )
    assert PrivacyAcknowledgement.from_dict(record.to_dict()) == record
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        PrivacyAcknowledgement(
            connection_name=None,
            by="Jane",
            at=datetime(2026, 3, 20),
            key_fingerprint="f",
            base_url=REMOTE,
        )
    with pytest.raises(ConfigurationError):
        PrivacyAcknowledgement.from_dict({"by": 3})


def test_clients_get_the_connection_settings() -> None:
    connection = connect(base_url="http://127.0.0.1:9/api", api_version="v3")
    with connection.client(retry=RetryPolicy.disabled()) as client:
        assert (client.base_url, client.api_version) == ("http://127.0.0.1:9/api", "v3")
        assert client.key_fingerprint == connection.key_fingerprint
    async_client = connection.async_client()
    assert isinstance(async_client, AsyncOmnisendClient)
    assert async_client.base_url == "http://127.0.0.1:9/api"
    with pytest.raises(ConfigurationError, match="sets api_key"):
        connection.client(api_key="another")


def test_verify_sends_one_request_with_the_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"contacts": [], "paging": {}})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    connect().verify(http_client=http, retry=RetryPolicy.disabled())
    [request] = seen
    assert request.url.path == "/api/contacts"
    assert request.headers["Authorization"] == f"Omnisend-API-Key {SECRET}"


def test_verify_reports_a_bad_key_without_showing_it() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(401, json={})))
    with pytest.raises(AuthenticationError) as caught:
        connect().verify(http_client=http, retry=RetryPolicy.disabled())
    assert SECRET not in str(caught.value)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    monkeypatch.setenv("OMNISEND_BASE_URL", "http://localhost:8000/api")
    connection = Connection.from_env()
    assert connection.name == "default"
    assert connection.base_url == "http://localhost:8000/api"
    assert connection.key_fingerprint == ApiKey(SECRET).fingerprint
    named = Connection.from_env("prod", base_url=REMOTE, allowed_users=["etl"])
    assert (named.name, named.base_url, named.allowed_users) == ("prod", REMOTE, frozenset({"etl"}))
    monkeypatch.delenv("OMNISEND_API_KEY")
    with pytest.raises(ConfigurationError, match="OMNISEND_API_KEY"):
        Connection.from_env()
