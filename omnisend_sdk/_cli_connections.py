"""The command line's saved connections: ``connect`` and ``connections`` (list, allow, remove).

``connect NAME`` asks for the key without echoing it (or reads ``--key-file`` or an environment
variable), checks it against Omnisend, shows what it can do, asks for the privacy acknowledgement
and saves the connection; ``connections`` lists them, ``connections allow|disallow NAME USER``
changes who may use one, ``connections remove NAME`` deletes one and everything kept for it.

:mod:`omnisend_sdk.cli` registers these commands with :func:`add_connection_commands`, handing
over its own helpers (this module never imports it, so neither depends on the other's order of
definition), and builds an export's connection with :func:`saved_connection` first.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

from omnisend_sdk import _keychain
from omnisend_sdk._config import settings_from_env
from omnisend_sdk._connection import Connection, change_allowed_users, current_user
from omnisend_sdk._constants import API_VERSIONS, ENV_API_KEY
from omnisend_sdk._errors import ConfigurationError, OmnisendError, PermissionDeniedError
from omnisend_sdk._profiles import (
    ProfileStore,
    checked_name,
    is_saveable_name,
    saved_connections,
)
from omnisend_sdk._state import state_dir_or_default
from omnisend_sdk.export._removal import remove_connection, store_states

EXIT_OK: Final = 0
EXIT_USAGE: Final = 2  # as the rest of the command line: "fix your input"
#: The statement a person accepts for the privacy acknowledgement (the ``acknowledge`` command's).
PRIVACY_STATEMENT: Final = (
    "Exports through this connection send people's personal data (emails, names, addresses) "
    "to Omnisend, outside your compliance boundary. The person responsible for that data must "
    "accept this once for this key; the record names them, the time and the key's fingerprint "
    "(never the key) and appears in every export report."
)

CommandMaker = Callable[..., argparse.ArgumentParser]
ConnectionOptions = Callable[..., None]
KeyOrigin = tuple[Literal["file", "env", "prompt"], str]


def add_connection_commands(
    commands: Any, *, command: CommandMaker, connection_options: ConnectionOptions
) -> None:
    """Add ``connect`` and ``connections`` to the command line.

    Args:
        commands: The sub-parsers action of the main parser.
        command: ``cli._command``: makes a sub-command whose arguments go to a handler.
        connection_options: ``cli._add_connection_options``: ``--key-file``, ``--base-url``,
            ``--state-dir``.
    """
    _add_connect(commands, command, connection_options)
    _add_connections(commands, command)


def saved_connection(
    name: str, *, key_file: Path | None, base_url: str | None, state_dir: Path | None
) -> Connection | None:
    """The saved connection called ``name``, or ``None`` when there is none (the command then
    builds one from the environment, as before saved connections existed).

    Raises:
        ConfigurationError: ``name`` was removed (exports by it refuse); ``--key-file`` or
            ``--base-url`` given for a saved connection, which has its own; its key cannot be
            read.
    """
    if not is_saveable_name(name):
        return None
    store = ProfileStore(state_dir_or_default(state_dir))
    if store.load(name) is None and store.removal(name) is None:
        return None
    if key_file is not None or base_url:
        raise ConfigurationError(
            f"connection {name!r} is saved with its own key and URL: drop --key-file and "
            "--base-url, or name another connection"
        )
    return Connection.load(name, state_dir=store.state_dir)


# --- the parsers --------------------------------------------------------------------------------


def _add_connect(
    commands: Any, command: CommandMaker, connection_options: ConnectionOptions
) -> None:
    connect = command(
        commands,
        "connect",
        run_connect,
        summary="save a named connection: check the key, acknowledge, keep the key safe",
        description=(
            "Save a connection to an Omnisend store under NAME, for export --connection NAME "
            "and definitions that name it. Asks for the API key without showing it (or reads "
            f"--key-file or ${ENV_API_KEY}), checks it against Omnisend, shows what it can do, "
            "asks for the privacy acknowledgement, and saves the profile (never the key) in "
            "the state directory. The key goes to the operating system's keychain (the keyring "
            "extra); where there is none, the profile names the key file or the environment "
            "variable to read it from. Only you may use the connection unless you --allow "
            "others: a guard against mistakes on a shared machine, not against someone holding "
            "the key."
        ),
    )
    connect.add_argument("name", metavar="NAME", help="the connection's name (e.g. prod)")
    connect.add_argument(
        "--key-env",
        metavar="VAR",
        help=f"read the key from this environment variable (default: ${ENV_API_KEY}, if set)",
    )
    connect.add_argument(
        "--api-version", choices=API_VERSIONS, help="the Omnisend API version to speak"
    )
    connect.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="USER",
        help="let this operating-system user export through it too (repeat for more)",
    )
    connect.add_argument(
        "--acknowledge-by",
        metavar="NAME",
        help="give the privacy acknowledgement as NAME without being asked (for scripts)",
    )
    connect.add_argument(
        "--no-keychain",
        action="store_true",
        help="keep the key where it was read (--key-file or the variable), not in the keychain",
    )
    connect.add_argument(
        "--replace", action="store_true", help="overwrite a connection saved under NAME"
    )
    connection_options(connect, named=False)


def _add_connections(commands: Any, command: CommandMaker) -> None:
    connections = command(
        commands,
        "connections",
        run_list,
        summary="list, share or remove saved connections",
        description=(
            "Without an action, list the saved connections: name, URL, key fingerprint and "
            "where the key is kept, who may use it, who acknowledged and when, and the last "
            "export through it."
        ),
    )
    _add_listing_options(connections, default=None)
    actions = connections.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list the saved connections (the default)")
    listing.set_defaults(handler=run_list)
    _add_listing_options(listing, default=argparse.SUPPRESS)
    for name, handler, verb in (
        ("allow", run_allow, "let USER export through it too"),
        ("disallow", run_disallow, "stop USER exporting through it"),
    ):
        action = actions.add_parser(name, help=verb, description=f"{verb.capitalize()}.")
        action.set_defaults(handler=handler)
        action.add_argument("name", metavar="NAME", help="the saved connection")
        action.add_argument("users", nargs="+", metavar="USER", help="operating-system user")
        _add_state_dir(action, default=argparse.SUPPRESS)
    remove = actions.add_parser(
        "remove",
        help="delete a connection and everything kept for it",
        description=(
            "Delete the saved connection NAME: its profile, its key in the keychain, its "
            "privacy acknowledgement and every export state (resume journal, refresh state) "
            "of its store. Contacts in Omnisend are not touched. Afterwards exports through "
            "NAME refuse until it is saved again. Asks first, unless --yes."
        ),
    )
    remove.set_defaults(handler=run_remove)
    remove.add_argument("name", metavar="NAME", help="the saved connection")
    remove.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    _add_state_dir(remove, default=argparse.SUPPRESS)


def _add_listing_options(parser: argparse.ArgumentParser, *, default: Any) -> None:
    # A sub-parser's defaults overwrite what its parent parsed; SUPPRESS leaves them alone, so
    # "connections --json list" and "connections list --json" both work.
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if default is None else default,
        help="print JSON, for scripts",
    )
    _add_state_dir(parser, default=default)


def _add_state_dir(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=default,
        metavar="DIR",
        help="where connections are saved (default: $OMNISEND_SDK_STATE_DIR or ~/.omnisend_sdk)",
    )


# --- connect ------------------------------------------------------------------------------------


def run_connect(args: argparse.Namespace) -> int:
    """``connect NAME``: check the key, show what it can do, acknowledge, save."""
    name = checked_name(args.name)
    store = ProfileStore(state_dir_or_default(args.state_dir))
    if not args.replace and store.load(name) is not None:
        raise ConfigurationError(
            f"connection {name!r} is saved already: pass --replace to overwrite it, or "
            f"remove it first (connections remove {name})"
        )
    creator = current_user()
    if creator is None:
        raise ConfigurationError(
            "cannot tell which user you are (this process's user has no name), so nobody "
            "could use the connection"
        )
    keychain = not args.no_keychain and _keychain.keychain_available()
    key, origin = _key(args, name, keychain=keychain)
    if origin[0] != "prompt":  # an admin's shell may hold a variable they forgot about
        _say(args, f"using the key in {'$' if origin[0] == 'env' else ''}{origin[1]}")
    connection = _unsaved(args, name, key)
    _say(args, f"checking key {connection.key_fingerprint} at {connection.base_url}")
    for line in _capabilities(connection):
        print(f"  {line}", flush=True)
    _acknowledge(args, connection)
    where: dict[str, str] = {}
    if not keychain:  # the profile names where the key was read, for every later run
        where = {"key_file" if origin[0] == "file" else "key_env": origin[1]}
    saved = connection.save(allowed_users=args.allow, replace=args.replace, by=creator, **where)
    print(saved, flush=True)
    _say(args, f"saved connection {name!r}; export with --connection {name}")
    return EXIT_OK


def _key(args: argparse.Namespace, name: str, *, keychain: bool) -> tuple[str, KeyOrigin]:
    """The key, and where it came from: ``--key-file``, the variable, or typed (hidden)."""
    if args.key_file is not None:
        path = Path(args.key_file).expanduser().resolve()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigurationError(f"cannot read --key-file {path}: {err.strerror}") from None
        if not text:
            raise ConfigurationError(f"--key-file {path} is empty")
        return text, ("file", str(path))
    variable = args.key_env or ENV_API_KEY
    text = os.environ.get(variable, "").strip()
    if text:
        return text, ("env", variable)
    if args.key_env:
        raise ConfigurationError(f"--key-env {variable}: ${variable} is not set")
    if not keychain:  # refused before the key is typed: it could not be kept anywhere
        raise ConfigurationError(
            f"this machine has {_keychain.describe_keychain()}: put the key in a file only you "
            f"can read and pass --key-file PATH, or in an environment variable (--key-env VAR), "
            "and the saved connection will read it from there"
        )
    typed = _ask(f"Omnisend API key for {name!r} (not shown): ", secret=True)
    if not typed.strip():
        raise ConfigurationError("no API key given: nothing saved")
    return typed.strip(), ("prompt", "")


def _unsaved(args: argparse.Namespace, name: str, key: str) -> Connection:
    settings: dict[str, Any] = dict(settings_from_env(api_key=key))  # URL and version from env
    if args.base_url:
        settings["base_url"] = args.base_url
    if args.api_version:
        settings["api_version"] = args.api_version
    return Connection(name, **settings, state_dir=args.state_dir)


def _capabilities(connection: Connection) -> list[str]:
    """What the key can do, found with read requests only (nothing in the store changes).

    Raises:
        AuthenticationError: The key is invalid.
        PermissionDeniedError: The key may not read contacts.
    """
    with connection.client() as client:
        client.verify()
        lines = ["reads contacts: yes"]
        try:
            client.segments.list(limit=1)
            segments = "yes"
        except PermissionDeniedError:
            segments = "no (needed only for --omnisend-segment)"
        except OmnisendError as err:
            segments = f"could not tell ({type(err).__name__})"
    lines.append(f"reads segments: {segments}")
    lines.append(
        "writes contacts: not checked (no request can test it without changing the store); "
        "an export without that permission stops at its first batch"
    )
    return lines


def _acknowledge(args: argparse.Namespace, connection: Connection) -> None:
    """The privacy acknowledgement: kept if given before for this key, else asked for."""
    if connection.is_loopback:
        _say(args, "privacy acknowledgement not needed: the URL is on this machine")
        return
    existing = connection.acknowledgement
    if existing is not None and not args.acknowledge_by:
        _say(args, f"privacy: {existing}")
        return
    by = args.acknowledge_by
    if not by:
        print(PRIVACY_STATEMENT, file=sys.stderr, flush=True)
        by = _ask("Your full name, to accept (empty to cancel): ")
        if not by.strip():
            raise ConfigurationError(
                "privacy not acknowledged: nothing saved (pass --acknowledge-by NAME in scripts)"
            )
    record = connection.acknowledge_privacy(by=by)
    _say(args, f"privacy: {record}")


# --- connections --------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """``connections [list]``: the saved connections; no key is read."""
    saved = saved_connections(state_dir=args.state_dir)
    if args.json:
        print(json.dumps([entry.to_dict() for entry in saved], indent=2), flush=True)
    elif not saved:
        where = ProfileStore(state_dir_or_default(args.state_dir)).root
        _say(args, f"no saved connections in {where}; save one with: connect NAME")
    else:
        print("\n\n".join(str(entry) for entry in saved), flush=True)
    return EXIT_OK


def run_allow(args: argparse.Namespace) -> int:
    """``connections allow NAME USER...``."""
    return _change_users(args, add=args.users)


def run_disallow(args: argparse.Namespace) -> int:
    """``connections disallow NAME USER...``."""
    return _change_users(args, remove=args.users)


def _change_users(
    args: argparse.Namespace, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> int:
    profile = change_allowed_users(args.name, add=add, remove=remove, state_dir=args.state_dir)
    users = ", ".join(sorted(profile.allowed_users))
    _say(args, f"connection {profile.name!r} may be used by: {users}")
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    """``connections remove NAME [--yes]``."""
    store = ProfileStore(state_dir_or_default(args.state_dir))
    profile = store.require(args.name)
    if not args.yes:
        states = len(store_states(store.state_dir, profile))
        question = (
            f"Remove connection {profile.name!r} ({profile.base_url}, key "
            f"{profile.key_fingerprint}): its profile, its key {profile.key_source}, its "
            f"privacy acknowledgement and {states} export state(s)? [y/N] "
        )
        if _ask(question).strip().lower() not in {"y", "yes"}:
            _say(args, "nothing removed (pass --yes to remove without being asked)")
            return EXIT_USAGE
    removal = remove_connection(profile.name, state_dir=store.state_dir)
    print(removal, flush=True)
    _say(args, f"removed connection {profile.name!r}; exports through it now refuse")
    return EXIT_OK


def _ask(prompt: str, *, secret: bool = False) -> str:
    """The answer typed at ``prompt`` (hidden when ``secret``); empty when there is nobody to
    answer (stdin closed) or the person pressed Ctrl-C, which every caller takes as "no"."""
    try:
        return getpass.getpass(prompt) if secret else input(prompt)
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr, flush=True)  # end the prompt's line
        return ""


def _say(args: argparse.Namespace, message: str) -> None:
    print(f"{args.prog}: {message}", file=sys.stderr, flush=True)
