"""``omnisend-export connect`` and ``connections``: save once, export by name, share, remove.

The store is a loopback emulator that keeps its contacts across commands (what ``emulator serve``
gives); the keychain is keyring's machinery with an in-memory backend; the user is set through
``LOGNAME``, which :func:`getpass.getuser` reads first.
"""

from __future__ import annotations

import builtins
import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from omnisend_sdk import Connection, ExportDefinition
from omnisend_sdk.export._journal import journal_path
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.testing import OmnisendEmulator
from omnisend_sdk.testing._auth import CONTACTS_READ, CONTACTS_WRITE, ScopedKey
from tests import test_cli, test_saved_connections
from tests.test_cli import SECRET, run
from tests.test_saved_connections import MemoryKeyring

#: test_cli's autouse fixture: no key, URL or state of the developer's machine gets in.
isolated_env = test_cli.isolated_env
#: The in-memory keychain, and a machine without one, as the Python API's tests use them.
keychain = test_saved_connections.keychain
no_keychain = test_saved_connections.no_keychain

#: A key with contacts permissions only, as many stores hand out.
CONTACTS_ONLY_SECRET = "osk-cli-contacts-only-SECRET-42"
SEGMENT = "VIP customers"


class Store(NamedTuple):
    emulator: OmnisendEmulator
    url: str


@pytest.fixture(autouse=True)
def alice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "alice")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    emulator = OmnisendEmulator(
        time_scale=60,
        api_keys=(SECRET, ScopedKey(CONTACTS_ONLY_SECRET, {CONTACTS_READ, CONTACTS_WRITE})),
    )
    # Clients pace for real Omnisend and look at a batch 1 s after sending it; poll sooner,
    # since the emulator runs 60x faster.
    monkeypatch.setattr("omnisend_sdk.export._engine.FIRST_POLLS_PER_WINDOW", 600)
    with emulator.serve() as url:
        yield Store(emulator, url)


@pytest.fixture
def typed_key(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key typed at the hidden prompt; the prompts shown are collected."""
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        prompts.append(prompt)
        return SECRET

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return prompts


def answer(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """Type ``answers`` at the ``input()`` prompts, in order; EOF after them (a closed stdin)."""
    queue, asked = list(answers), []

    def fake_input(prompt: str = "") -> str:
        asked.append(prompt)
        if not queue:
            raise EOFError
        return queue.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    return asked


@pytest.fixture
def segment_file(tmp_path: Path) -> Path:
    path = tmp_path / "vip.csv"
    path.write_text(
        "EmailAddress,FirstName\nann@example.com,Ann\nbob@example.com,Bob\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text('email = "EmailAddress"\nfirst_name = "FirstName"\n', encoding="utf-8")
    return path


class Outputs:
    """Everything the commands printed, to search for the key at the end."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.seen: list[str] = []

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        status, out, err = run(self.capsys, *argv)
        self.seen += [out, err]
        return status, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Outputs:
    return Outputs(capsys)


def assert_key_nowhere(root: Path, outputs: Outputs, *key_files: Path) -> None:
    """The key is in no file under ``root`` but the user's own key files, and in no output."""
    for path in (p for p in root.rglob("*") if p.is_file() and p not in key_files):
        assert SECRET.encode() not in path.read_bytes(), path
    for text in outputs.seen:
        assert SECRET not in text


def export_args(segment: Path, mapping: Path, *extra: str) -> list[str]:
    return ["export", str(segment), "--mapping", str(mapping), "--segment", SEGMENT, *extra]


# --- connect ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("keychain")
def test_connect_asks_for_the_key_checks_it_and_saves_it_in_the_keychain(
    cli: Outputs, store: Store, typed_key: list[str], keychain: MemoryKeyring, tmp_path: Path
) -> None:
    status, out, err = cli("connect", "prod", "--base-url", store.url)

    assert status == 0, err
    assert typed_key == ["Omnisend API key for 'prod' (not shown): "]
    assert "reads contacts: yes" in out
    assert "reads segments: yes" in out
    assert "writes contacts: not checked" in out
    assert "may use it:   alice" in out
    assert "saved connection 'prod'" in err
    assert list(keychain.secrets.values()) == [SECRET]
    connection = Connection.load("prod")
    assert connection.base_url == store.url
    assert_key_nowhere(tmp_path, cli)


@pytest.mark.usefixtures("keychain")
def test_connect_says_which_key_it_uses_and_what_it_cannot_do(
    cli: Outputs, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", CONTACTS_ONLY_SECRET)
    status, out, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 0, err
    assert "using the key in $OMNISEND_API_KEY" in err
    assert "reads contacts: yes" in out
    assert "reads segments: no (needed only for --omnisend-segment)" in out


def test_connect_with_a_wrong_key_saves_nothing(
    cli: Outputs, store: Store, keychain: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", "osk-wrong-key-123")
    status, _, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 2
    assert "AuthenticationError" in err
    assert keychain.secrets == {}
    assert cli("connections")[2].endswith("save one with: connect NAME\n")


@pytest.mark.usefixtures("keychain", "typed_key")
def test_connect_asks_for_the_privacy_acknowledgement_and_a_refusal_saves_nothing(
    cli: Outputs, store: Store, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    # Treat the emulator as remote, so that the acknowledgement is needed.
    monkeypatch.setattr(Connection, "is_loopback", property(lambda self: False))
    asked = answer(monkeypatch, "")
    status, _, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 2
    assert "personal data" in err
    assert asked == ["Your full name, to accept (empty to cancel): "]
    assert "privacy not acknowledged: nothing saved" in err
    assert not (isolated_env / "connections").exists()

    answer(monkeypatch, "Jane Roe")
    status, out, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 0, err
    assert "acknowledged by Jane Roe" in out


@pytest.mark.usefixtures("keychain", "typed_key")
def test_connect_acknowledges_without_asking_for_scripts(
    cli: Outputs, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Connection, "is_loopback", property(lambda self: False))
    asked = answer(monkeypatch)
    status, out, err = cli(
        "connect", "prod", "--base-url", store.url, "--acknowledge-by", "Jane Roe",
        "--allow", "etl", "--allow", "bob",
    )  # fmt: skip
    assert status == 0, err
    assert asked == []
    assert "acknowledged by Jane Roe" in out
    assert "may use it:   alice, bob, etl" in out


@pytest.mark.usefixtures("keychain", "typed_key")
def test_connect_twice_needs_replace(cli: Outputs, store: Store) -> None:
    assert cli("connect", "prod", "--base-url", store.url)[0] == 0
    status, _, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 2
    assert "--replace" in err
    assert cli("connect", "prod", "--base-url", store.url, "--replace")[0] == 0


@pytest.mark.usefixtures("no_keychain")
def test_without_a_keychain_connect_saves_where_the_key_is_read(
    cli: Outputs,
    store: Store,
    typed_key: list[str],
    tmp_path: Path,
    segment_file: Path,
    mapping_file: Path,
) -> None:
    status, _, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 2
    assert typed_key == []  # refused before the key is typed: it could not be kept anywhere
    assert "--key-file" in err

    key_file = tmp_path / "omnisend.key"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    status, out, err = cli("connect", "prod", "--base-url", store.url, "--key-file", str(key_file))
    assert status == 0, err
    assert f"read from {key_file}" in out

    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 0, err
    assert_key_nowhere(tmp_path, cli, key_file)


@pytest.mark.usefixtures("keychain")
def test_connect_can_keep_the_key_in_its_variable(
    cli: Outputs, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROD_KEY", SECRET)
    args = ("connect", "prod", "--base-url", store.url, "--key-env", "PROD_KEY", "--no-keychain")
    status, out, err = cli(*args)
    assert status == 0, err
    assert "read from $PROD_KEY" in out
    status, _, err = cli("connect", "other", "--key-env", "UNSET_VAR")
    assert status == 2
    assert "$UNSET_VAR is not set" in err


# --- exporting through a saved connection -------------------------------------------------------


@pytest.fixture
def prod(cli: Outputs, store: Store, keychain: MemoryKeyring, typed_key: list[str]) -> Store:
    """A connection "prod" saved by alice."""
    status, _, err = cli("connect", "prod", "--base-url", store.url)
    assert status == 0, err
    return store


def test_export_and_run_by_name_and_the_listing_shows_the_last_export(
    cli: Outputs,
    prod: Store,
    segment_file: Path,
    mapping_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 0, err

    definition = ExportDefinition(
        name="vip", connection="prod", segment=SEGMENT, source=str(segment_file),
        mapping=ContactMapping(email="EmailAddress", first_name="FirstName"),
    ).save(tmp_path / "vip.toml")  # fmt: skip
    monkeypatch.setenv("OMNISEND_API_KEY", "osk-not-this-one")  # the saved connection wins
    status, out, err = cli("run", str(definition))
    assert status == 0, err

    status, out, _ = cli("connections")
    assert status == 0
    for expected in ("prod", prod.url, "sha256:", "may use it:   alice", "last export:  20"):
        assert expected in out
    assert "UTC by alice" in out
    status, out, _ = cli("connections", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["name"] == "prod"
    assert listed["allowed_users"] == ["alice"]
    assert listed["last_export"]["by"] == "alice"
    assert_key_nowhere(tmp_path, cli)


def test_a_saved_connection_refuses_key_and_url_flags(
    cli: Outputs, prod: Store, segment_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(SECRET, encoding="utf-8")
    extra = ("--connection", "prod", "--key-file", str(key_file))
    status, _, err = cli(*export_args(segment_file, mapping_file, *extra))
    assert status == 2
    assert "saved with its own key and URL" in err


def test_another_user_is_refused_before_any_request_until_allowed(
    cli: Outputs,
    prod: Store,
    segment_file: Path,
    mapping_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = len(prod.emulator.requests)
    monkeypatch.setenv("LOGNAME", "bob")
    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 2
    assert "user 'bob' may not export through connection 'prod'" in err
    assert "connections allow prod bob" in err
    assert len(prod.emulator.requests) == before
    status, _, err = cli("connections", "allow", "prod", "bob")
    assert status == 2
    assert "may not change connection 'prod'" in err

    monkeypatch.setenv("LOGNAME", "alice")
    status, _, err = cli("connections", "allow", "prod", "bob", "carol")
    assert status == 0, err
    assert "may be used by: alice, bob, carol" in err

    monkeypatch.setenv("LOGNAME", "bob")
    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 0, err

    status, _, err = cli("connections", "disallow", "prod", "bob", "alice", "carol")
    assert status == 2
    assert "leave nobody" in err
    status, _, err = cli("connections", "disallow", "prod", "bob")
    assert status == 0, err
    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 2
    assert "user 'bob' may not export" in err


# --- remove -------------------------------------------------------------------------------------


def test_remove_asks_first_and_then_deletes_everything_kept_for_the_store(
    cli: Outputs,
    prod: Store,
    keychain: MemoryKeyring,
    segment_file: Path,
    mapping_file: Path,
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli(*export_args(segment_file, mapping_file, "--connection", "prod"))[0] == 0
    state = journal_path(isolated_env, SEGMENT, Connection.load("prod"))
    assert state.exists()

    asked = answer(monkeypatch, "n")
    status, _, err = cli("connections", "remove", "prod")
    assert status == 2
    assert "1 export state(s)? [y/N]" in asked[0]
    assert "nothing removed" in err
    answer(monkeypatch)  # no terminal: stdin is closed
    assert cli("connections", "remove", "prod")[0] == 2
    assert Connection.load("prod").is_saved

    answer(monkeypatch, "y")
    status, out, err = cli("connections", "remove", "prod")
    assert status == 0, err
    assert "key: deleted from the keychain" in out
    assert keychain.secrets == {}
    assert not list(state.parent.glob(state.name + "*"))
    assert "exports through it now refuse" in err

    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 2
    assert "connection 'prod' was removed at" in err
    assert "by alice" in err
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)  # not even from the environment
    status, _, err = cli(*export_args(segment_file, mapping_file, "--connection", "prod"))
    assert status == 2
    assert "was removed" in err
    assert cli("connections")[2].endswith("save one with: connect NAME\n")
    assert_key_nowhere(tmp_path, cli)


@pytest.mark.usefixtures("prod")
def test_remove_yes_does_not_ask(cli: Outputs, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answer(monkeypatch)
    status, _, err = cli("connections", "remove", "prod", "--yes")
    assert status == 0, err
    assert asked == []
    status, _, err = cli("connections", "remove", "prod", "--yes")
    assert status == 2
    assert "was removed" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["connect"],
            ["NAME", "--key-file", "--key-env", "--allow", "--acknowledge-by", "keychain"],
        ),
        (["connect"], ["--no-keychain", "--replace", "--state-dir", "shared machine"]),
        (["connections"], ["list", "allow", "disallow", "remove", "--json", "last"]),
        (["connections", "remove"], ["--yes", "export state", "refuse"]),
        (["connections", "allow"], ["NAME", "USER"]),
    ],
)
def test_help(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    status, out, _ = run(capsys, *argv, "--help")
    assert status == 0
    text = " ".join(out.split())  # argparse wraps lines
    for wanted in expected:
        assert wanted in text


def test_state_dir_works_before_and_after_the_action(
    cli: Outputs, tmp_path: Path, keychain: MemoryKeyring
) -> None:
    elsewhere = tmp_path / "elsewhere"
    Connection("prod", SECRET, state_dir=elsewhere).save()
    for argv in (
        ["connections", "--state-dir", str(elsewhere)],
        ["connections", "list", "--state-dir", str(elsewhere)],
        ["connections", "--state-dir", str(elsewhere), "list"],
    ):
        status, out, err = cli(*argv)
        assert status == 0, err
        assert out.startswith("prod\n"), argv
