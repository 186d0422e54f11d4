"""Saved connections in Python: save, load, who may use them, list, remove, and the key kept out.

The keychain is keyring's own machinery with a small in-memory backend set through
``keyring.set_keyring`` (keyring's documented way to choose a backend); "no keychain" is keyring's
fail backend, what a headless CI runner has.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from omnisend_sdk import (
    ConfigurationError,
    Connection,
    ContactMapping,
    ExportDefinition,
    ExportLockedError,
    PrivacyAcknowledgementError,
    RateLimiter,
    UserNotAllowedError,
    export_segment,
    remove_connection,
    saved_connections,
)
from omnisend_sdk._keychain import KEYCHAIN_SERVICE, describe_keychain, keychain_available
from omnisend_sdk.export._journal import journal_path
from omnisend_sdk.export._lock import RunLock
from omnisend_sdk.testing import OmnisendEmulator

SECRET = "osk-saved-connection-SECRET-0123456789"
OTHER_SECRET = "osk-another-store-SECRET-9876543210"
REMOTE = "https://api.omnisend.com/api"
SEGMENT = "VIP customers"
ROWS = [
    {"EmailAddress": "ann@example.com", "FirstName": "Ann"},
    {"EmailAddress": "bob@example.com", "FirstName": "Bob"},
]
MAPPING = ContactMapping(email="EmailAddress", first_name="FirstName")


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keychain in memory, for tests: keyring's backend interface, nothing stored on disk."""

    priority = 1  # keyring's documented way: a plain number
    # Never chosen by keyring on its own (it registers every backend class): only through
    # keyring.set_keyring() in these tests.
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")


@contextlib.contextmanager
def use_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def keychain() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with use_keyring(backend):
        yield backend


@pytest.fixture
def no_keychain() -> Iterator[None]:
    with use_keyring(keyring.backends.fail.Keyring()):
        yield


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory of the test's own, and the environment cleared of keys and URLs."""
    for name in ("OMNISEND_API_KEY", "OMNISEND_BASE_URL", "OMNISEND_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("OMNISEND_SDK_STATE_DIR", str(state))
    monkeypatch.setenv("LOGNAME", "alice")  # getpass.getuser() reads it first
    return state


@pytest.fixture
def emulator() -> OmnisendEmulator:
    return OmnisendEmulator(time_scale=60, api_keys=(SECRET, OTHER_SECRET))


@pytest.fixture
def http(emulator: OmnisendEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Requests to Omnisend's own URL, answered by the emulator in process."""
    monkeypatch.setattr("omnisend_sdk.export._engine.FIRST_POLLS_PER_WINDOW", 600)
    with httpx.Client(transport=emulator.transport()) as client:
        yield client


def client_options(http: httpx.Client) -> dict[str, Any]:
    # The emulator runs 60x faster: pace in its minutes, as the CLI's --emulator does.
    return {"http_client": http, "rate_limiter": RateLimiter(window=1.0)}


def export(connection: Connection, http: httpx.Client, **options: Any) -> Any:
    return export_segment(
        ROWS, MAPPING, segment=SEGMENT, connection=connection, progress=None,
        client_options=client_options(http), **options,
    )  # fmt: skip


def saved_prod(**options: Any) -> Connection:
    connection = Connection("prod", SECRET, state_dir=options.pop("state_dir", None))
    connection.acknowledge_privacy(by="Jane Roe")
    connection.save(**options)
    return connection


def every_file(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def assert_key_nowhere(root: Path, *texts: str) -> None:
    """The key is in no file under ``root`` (read as bytes: SQLite files too) and no text."""
    for path in every_file(root):
        assert SECRET.encode() not in path.read_bytes(), path
    for text in texts:
        assert SECRET not in text


# --- saving and loading -----------------------------------------------------------------------


def test_save_keeps_the_key_in_the_keychain_and_the_rest_in_a_private_profile(
    keychain: MemoryKeyring, state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = Connection("prod", SECRET)
    saved = connection.save()

    assert connection.is_saved
    entry = f"prod ({connection.key_fingerprint})"
    assert keychain.secrets == {(KEYCHAIN_SERVICE, entry): SECRET}
    assert saved.profile.allowed_users == {"alice"}  # only the creator, by default
    assert saved.profile.created_by == "alice"
    assert saved.profile.key_source.kind == "keychain"
    profile = state_dir / "connections" / "prod" / "connection.json"
    data = json.loads(profile.read_text(encoding="utf-8"))["connection"]
    assert data["key_fingerprint"] == connection.key_fingerprint
    assert data["base_url"] == REMOTE

    loaded = Connection.load("prod")
    assert (loaded.name, loaded.key_fingerprint, loaded.base_url) == (
        "prod", connection.key_fingerprint, REMOTE,
    )  # fmt: skip
    assert loaded.is_saved
    assert loaded.allowed_users == frozenset({"alice"})
    assert_key_nowhere(state_dir, repr(loaded), str(saved), repr(saved), caplog.text)


def test_profile_files_are_0600_in_0700_directories(
    keychain: MemoryKeyring, state_dir: Path
) -> None:
    umask = os.umask(0o022)  # a usual umask, which would give 0755 directories and 0644 files
    try:
        Connection("prod", SECRET, base_url="http://127.0.0.1/api").save()
        Connection.load("prod").check_can_export()  # writes the last export too
    finally:
        os.umask(umask)

    files = every_file(state_dir / "connections")
    assert {f.name for f in files} == {"connection.json", "last-export.json"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # The state directory too, as saving the connection created it.
    for directory in (state_dir, state_dir / "connections", state_dir / "connections" / "prod"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_without_a_keychain_the_profile_names_a_variable_or_a_file(
    no_keychain: None, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not keychain_available()
    assert "no usable backend" in describe_keychain()
    with pytest.raises(ConfigurationError, match="key_env=") as caught:
        Connection("prod", SECRET).save()
    assert SECRET not in str(caught.value)

    Connection("prod", SECRET).save(key_env="PROD_OMNISEND_KEY")
    with pytest.raises(ConfigurationError, match=r"read from \$PROD_OMNISEND_KEY, which is not"):
        Connection.load("prod")
    monkeypatch.setenv("PROD_OMNISEND_KEY", SECRET)
    assert Connection.load("prod").key_fingerprint == Connection("x", SECRET).key_fingerprint

    key_file = tmp_path / "omnisend.key"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    Connection("ci", SECRET).save(key_file=key_file)
    listed = {saved.name: saved for saved in saved_connections()}
    assert str(listed["ci"].profile.key_source) == f"read from {key_file}"
    assert str(listed["prod"].profile.key_source) == "read from $PROD_OMNISEND_KEY"
    assert Connection.load("ci").name == "ci"
    assert_key_nowhere(state_dir, *(str(saved) for saved in listed.values()))


def test_without_the_keyring_package_the_machine_has_no_keychain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # what "not installed" looks like
    assert not keychain_available()
    assert "keyring package is not installed" in describe_keychain()
    with pytest.raises(ConfigurationError, match="omnisend-sdk\\[keyring\\]"):
        Connection("prod", SECRET).save()


@pytest.mark.usefixtures("no_keychain")
def test_a_variable_or_file_holding_another_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(OTHER_SECRET, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="was saved with key"):
        Connection("prod", SECRET).save(key_file=key_file)

    Connection("prod", SECRET).save(key_env="PROD_KEY")
    monkeypatch.setenv("PROD_KEY", OTHER_SECRET)  # rotated in the secret store, not saved again
    with pytest.raises(ConfigurationError, match="save the connection again") as caught:
        Connection.load("prod")
    assert SECRET not in str(caught.value)
    assert OTHER_SECRET not in str(caught.value)


def test_a_key_gone_from_the_keychain_says_to_connect_again(keychain: MemoryKeyring) -> None:
    saved_prod()
    keychain.secrets.clear()
    with pytest.raises(ConfigurationError, match=r"no longer in the keychain.*connect it again"):
        Connection.load("prod")


def test_a_keychain_saved_connection_on_a_machine_without_one_says_so(
    keychain: MemoryKeyring,
) -> None:
    saved_prod()
    with (
        use_keyring(keyring.backends.fail.Keyring()),
        pytest.raises(ConfigurationError, match="keeps its key in the keychain"),
    ):
        Connection.load("prod")


@pytest.mark.usefixtures("keychain")
@pytest.mark.parametrize("name", ["my prod", "../prod", ".hidden", "prod/x", "x" * 65])
def test_names_that_cannot_be_a_folder_are_refused(name: str, state_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot save a connection called"):
        Connection(name, SECRET).save()
    with pytest.raises(ConfigurationError, match="cannot save a connection called"):
        Connection.load(name)
    assert not (state_dir / "connections").exists()


def test_saving_twice_needs_replace_and_a_new_key_replaces_the_old_one(
    keychain: MemoryKeyring,
) -> None:
    saved_prod()
    with pytest.raises(ConfigurationError, match="saved already"):
        Connection("prod", OTHER_SECRET).save()
    with pytest.raises(ConfigurationError, match="differing only in case"):
        Connection("Prod", OTHER_SECRET).save()

    with pytest.raises(UserNotAllowedError, match="may not change connection 'prod'"):
        Connection("prod", OTHER_SECRET).save(replace=True, by="mallory")
    Connection("prod", OTHER_SECRET).save(replace=True)

    assert list(keychain.secrets.values()) == [OTHER_SECRET]  # the old key is not left behind
    assert Connection.load("prod").key_fingerprint == Connection("x", OTHER_SECRET).key_fingerprint


@pytest.mark.usefixtures("keychain")
def test_a_damaged_profile_is_an_error_naming_the_file(state_dir: Path) -> None:
    saved_prod()
    profile = state_dir / "connections" / "prod" / "connection.json"
    profile.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"connection\.json"):
        Connection.load("prod")
    with pytest.raises(ConfigurationError, match=r"connection\.json"):
        Connection("prod", SECRET).save()
    Connection("prod", SECRET).save(replace=True)  # replacing it needs no reading
    assert Connection.load("prod").is_saved


def test_load_of_a_name_never_saved_lists_the_saved_ones(keychain: MemoryKeyring) -> None:
    saved_prod()
    with pytest.raises(ConfigurationError, match=r"no saved connection 'staging'.*saved: prod"):
        Connection.load("staging")


# --- who may use it ---------------------------------------------------------------------------


@pytest.mark.usefixtures("keychain")
def test_another_user_is_refused_before_any_request(
    emulator: OmnisendEmulator, http: httpx.Client
) -> None:
    connection = saved_prod()
    with pytest.raises(UserNotAllowedError) as caught:
        export(connection, http, run_by="bob")
    message = str(caught.value)
    assert "user 'bob' may not export through connection 'prod'" in message
    assert "connections allow prod bob" in message
    assert emulator.requests == []


@pytest.mark.usefixtures("keychain")
def test_allow_and_disallow_change_who_may_export(
    emulator: OmnisendEmulator, http: httpx.Client, state_dir: Path
) -> None:
    alices = saved_prod(allowed_users=["etl"])
    assert alices.allowed_users == frozenset({"alice", "etl"})

    assert alices.allow("bob") == {"alice", "bob", "etl"}
    bobs = Connection.load("prod")
    assert export(bobs, http, run_by="bob").exported == 2

    # A change made elsewhere applies to a connection loaded before it: revoked is revoked.
    alices.disallow("bob")
    with pytest.raises(UserNotAllowedError, match="'bob'"):
        bobs.check_can_export("bob")
    with pytest.raises(UserNotAllowedError, match="may not change connection 'prod'"):
        bobs.allow("bob", by="bob")
    with pytest.raises(ConfigurationError, match="leave nobody"):
        alices.disallow("alice", "etl")
    assert Connection.load("prod").allowed_users == frozenset({"alice", "etl"})


@pytest.mark.usefixtures("keychain")
def test_allow_needs_a_saved_connection() -> None:
    saved_prod()
    by_hand = Connection("prod", OTHER_SECRET)  # same name, another key: not the saved one
    with pytest.raises(ConfigurationError, match="is not saved"):
        by_hand.allow("bob")
    assert Connection.load("prod").allowed_users == frozenset({"alice"})


@pytest.mark.usefixtures("keychain")
def test_a_user_without_a_name_cannot_save(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omnisend_sdk._connection.current_user", lambda: None)
    with pytest.raises(ConfigurationError, match="pass by="):
        Connection("prod", SECRET).save()
    assert Connection("prod", SECRET).save(by="etl").profile.allowed_users == {"etl"}


# --- the listing and the last export ------------------------------------------------------------


@pytest.mark.usefixtures("keychain")
def test_the_listing_shows_acknowledgement_users_and_last_export(
    http: httpx.Client, state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = saved_prod()
    (before,) = saved_connections()
    assert before.last_export is None
    assert before.acknowledgement is not None
    assert before.acknowledgement.by == "Jane Roe"

    before_export = datetime.now(UTC)
    report = export(connection, http)

    (after,) = saved_connections()
    assert after.last_export is not None
    assert after.last_export.by == "alice"
    assert before_export <= after.last_export.at <= report.finished_at
    text = str(after)
    for expected in ("prod", REMOTE, connection.key_fingerprint, "alice", "Jane Roe", "UTC by"):
        assert expected in text
    assert_key_nowhere(state_dir, text, json.dumps(after.to_dict()), caplog.text, str(report))


# --- definitions find saved connections by name -------------------------------------------------


@pytest.mark.usefixtures("keychain")
def test_a_definition_runs_through_the_connection_saved_under_its_name(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved_prod()
    # A key in the environment does not win over the saved connection of that name.
    monkeypatch.setenv("OMNISEND_API_KEY", OTHER_SECRET)
    definition = ExportDefinition(name="vip", connection="prod", mapping=MAPPING, segment=SEGMENT)
    report = definition.run(source=ROWS, progress=None, client_options=client_options(http))
    assert report.key_fingerprint == Connection("x", SECRET).key_fingerprint
    assert report.exported == 2


@pytest.mark.usefixtures("keychain")
def test_a_definition_naming_an_unsaved_connection_still_uses_the_environment(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    Connection("staging", SECRET).acknowledge_privacy(by="Jane Roe")
    definition = ExportDefinition(
        name="vip", connection="staging", mapping=MAPPING, segment=SEGMENT
    )
    report = definition.run(source=ROWS, progress=None, client_options=client_options(http))
    assert report.exported == 2
    assert saved_connections() == []


# --- removal --------------------------------------------------------------------------------------


def test_remove_deletes_profile_key_acknowledgement_and_the_stores_export_states(
    keychain: MemoryKeyring,
    http: httpx.Client,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    prod = saved_prod()
    export(prod, http)
    other = Connection("other", OTHER_SECRET)  # another store, exported from the environment
    other.acknowledge_privacy(by="Jane Roe")
    export(other, http)
    prod_state = journal_path(state_dir, SEGMENT, prod)
    other_state = journal_path(state_dir, SEGMENT, other)
    assert prod_state.exists()
    assert other_state.exists()

    removal = remove_connection("prod")

    assert removal.key_deleted
    assert keychain.secrets == {}
    assert not (state_dir / "connections" / "prod" / "connection.json").exists()
    assert prod.acknowledgement is None
    assert not list(prod_state.parent.glob(prod_state.name + "*"))  # with -wal, -shm, .lock
    assert prod_state in removal.deleted
    assert other_state.exists()  # another store's state stays
    assert other.acknowledgement is not None
    assert_key_nowhere(state_dir, str(removal), caplog.text)

    # Afterwards every way of exporting by that name refuses, saying why.
    with pytest.raises(ConfigurationError, match=r"'prod' was removed at .* by alice"):
        Connection.load("prod")
    with pytest.raises(ConfigurationError, match="was removed"):
        prod.check_can_export()
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    with pytest.raises(ConfigurationError, match="was removed"):
        Connection.from_env("prod").check_can_export()
    definition = ExportDefinition(name="vip", connection="prod", mapping=MAPPING, segment=SEGMENT)
    with pytest.raises(ConfigurationError, match="was removed"):
        definition.run(source=ROWS)
    assert saved_connections() == []

    # Saving it again lifts the refusal.
    saved_prod()
    assert Connection.load("prod").check_can_export() is not None


@pytest.mark.usefixtures("keychain")
@pytest.mark.parametrize(
    "options",
    [{"membership": "none"}, {"segment_tag": "vip-2026"}],
    ids=["no membership tag", "a tag of its own"],
)
def test_remove_finds_a_state_whose_name_does_not_tell_its_store(
    http: httpx.Client, state_dir: Path, options: dict[str, Any]
) -> None:
    # The state names its store inside (key fingerprint and URL), so neither the tag nor the
    # file name has to lead back to it.
    prod = saved_prod()
    export(prod, http, **options)
    state = journal_path(state_dir, SEGMENT, prod)
    assert state.exists()

    removal = remove_connection("prod")

    assert state in removal.deleted
    assert not state.exists()


@pytest.mark.usefixtures("keychain")
def test_remove_refuses_while_an_export_through_it_runs(
    http: httpx.Client, state_dir: Path
) -> None:
    prod = saved_prod()
    export(prod, http)
    state = journal_path(state_dir, SEGMENT, prod)
    with RunLock(state, holder="a test run"), pytest.raises(ExportLockedError, match="running"):
        remove_connection("prod")
    assert Connection.load("prod").is_saved
    assert state.exists()


@pytest.mark.usefixtures("keychain")
def test_remove_keeps_what_another_saved_name_for_the_store_still_uses(
    http: httpx.Client, state_dir: Path
) -> None:
    prod = saved_prod()
    Connection("prod-copy", SECRET).save()
    export(prod, http)

    removal = remove_connection("prod")

    assert removal.shared_with == ("prod-copy",)
    assert journal_path(state_dir, SEGMENT, prod).exists()
    copy = Connection.load("prod-copy")
    assert copy.check_can_export() is not None  # its acknowledgement is still there


@pytest.mark.usefixtures("keychain")
def test_only_an_allowed_user_may_remove() -> None:
    saved_prod()
    with pytest.raises(UserNotAllowedError, match="'mallory'"):
        remove_connection("prod", by="mallory")
    with pytest.raises(ConfigurationError, match="no saved connection"):
        remove_connection("staging")
    assert Connection.load("prod").is_saved


def test_remove_of_a_key_kept_in_a_variable_leaves_the_variable(
    no_keychain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROD_KEY", SECRET)
    Connection("prod", SECRET).save(key_env="PROD_KEY")
    removal = remove_connection("prod")
    assert not removal.key_deleted
    assert "$PROD_KEY" in str(removal.key_note)


@pytest.mark.usefixtures("keychain")
def test_an_unsaved_connection_with_the_same_name_is_not_refused_before_removal(
    http: httpx.Client,
) -> None:
    saved_prod()
    # A connection built by hand is governed by its own arguments, as before: everyone.
    assert Connection("prod", SECRET).check_can_export("bob") is not None
    with pytest.raises(PrivacyAcknowledgementError):
        Connection("prod", OTHER_SECRET).check_can_export()
