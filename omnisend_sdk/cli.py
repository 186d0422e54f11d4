"""The command line: ``python -m omnisend_sdk`` and the ``omnisend-export`` script.

Commands::

    export FILE --mapping MAPPING --segment NAME   export a CSV or JSON Lines segment
    run DEFINITION.toml                            run a saved export definition (what cron calls)
    plan FILE --mapping MAPPING [--segment NAME]   read and map it, send nothing, estimate
    verify                                         check that the API key works
    acknowledge --by NAME                          record the privacy acknowledgement
    connect NAME                                   check a key and save it as a named connection
    connections [list|allow|disallow|remove]       list, share or remove saved connections
    emulator serve                                 run the Omnisend emulator on loopback

The API key comes from ``OMNISEND_API_KEY`` or ``--key-file``, never from an argument: arguments
end up in shell history and in every other user's ``ps`` listing. A connection saved with
``connect NAME`` keeps it in the keychain; ``--connection NAME`` (and a definition naming NAME)
then uses the saved connection, and the environment only for names never saved.

A rerun of a completed export (``export`` or ``run``) is a refresh: only new and changed members
are sent, and members who left lose the segment tag. ``--full``, ``--on-exit``,
``--max-exit-share``, ``--allow-shrink`` and ``--omnisend-segment`` steer it.

Exit status (``export`` and ``run`` share it; the others use 0 and 2)::

    0    the export completed; invalid and duplicate rows were only skipped and reported
    1    rows failed or not sent, tags not added or removed, or more rows invalid than --max-invalid
    2    a usage or configuration error (a key refused mid-run too)
    3    a refresh refused by the shrink guard (too many members would leave): nothing was sent
    4    another run of the same export holds its lock: nothing was sent
    5    the source gave no rows: nothing was sent (--allow-empty makes it 0)
    130  interrupted (run the same command again to resume)

Every non-zero status comes with a one-line reason on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

import httpx

from omnisend_sdk import (
    ConfigurationError,
    ExportDefinition,
    ExportLockedError,
    ExportStateError,
    OmnisendError,
    PrivacyAcknowledgementError,
    RateLimiter,
    ShrinkRefusedError,
    __version__,
)
from omnisend_sdk._cli_connections import add_connection_commands, saved_connection
from omnisend_sdk._config import settings_from_env
from omnisend_sdk._constants import ENV_API_KEY, ENV_BASE_URL
from omnisend_sdk.export import (
    Connection,
    ExportInterrupted,
    ExportReport,
    ExportSettings,
    UserNotAllowedError,
    export_segment,
    plan_export,
)
from omnisend_sdk.export._plan import estimate_duration, tag_requests_for
from omnisend_sdk.export._verdict import InvalidBudget
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.sources import query_rows

PROG: Final = "omnisend-export"
EXIT_OK: Final = 0
EXIT_ROWS_NOT_EXPORTED: Final = 1
EXIT_USAGE: Final = 2  # argparse uses 2 for usage errors too, so every "fix your input" agrees
# 3 and 4 stay apart from 2 and from each other because a scheduler acts on them differently:
# a refused shrink needs a person to look at the source; a locked export only needs waiting.
EXIT_SHRINK_REFUSED: Final = 3
EXIT_LOCKED: Final = 4
# An empty source is how a broken query looks: a scheduler must not take it for success.
EXIT_EMPTY: Final = 5
EXIT_INTERRUPTED: Final = 130  # the shell's convention for a process stopped by Ctrl-C (SIGINT)
#: Every exit status and its meaning, for ``--help``; the module docstring shows the same table
#: (a test keeps the two equal).
EXIT_STATUSES: Final = (
    (EXIT_OK, "the export completed; invalid and duplicate rows were only skipped and reported"),
    (
        EXIT_ROWS_NOT_EXPORTED,
        "rows failed or not sent, tags not added or removed, or more rows invalid than "
        "--max-invalid",
    ),
    (EXIT_USAGE, "a usage or configuration error (a key refused mid-run too)"),
    (
        EXIT_SHRINK_REFUSED,
        "a refresh refused by the shrink guard (too many members would leave): nothing was sent",
    ),
    (EXIT_LOCKED, "another run of the same export holds its lock: nothing was sent"),
    (EXIT_EMPTY, "the source gave no rows: nothing was sent (--allow-empty makes it 0)"),
    (EXIT_INTERRUPTED, "interrupted (run the same command again to resume)"),
)
#: Errors that stop a run because of the key or the setup, not the rows: a run they stop exits 2.
KEY_ERRORS: Final = frozenset({"AuthenticationError", "PermissionDeniedError", "GoneError"})
#: Progress for ``export`` and ``run``: a bar on a terminal, nothing in a scheduler's log.
PROGRESS: Final = "auto"
#: The connection's name in reports when the command line does not give one.
DEFAULT_CONNECTION: Final = "default"
#: Flags that set the :class:`ExportSettings` option of the same name. A flag not given is
#: ``None`` and sets nothing, so a saved definition's option (or the default) stays.
SETTINGS_FLAGS: Final = (
    "dry_run",
    "full",
    "on_exit",
    "max_exit_share",
    "allow_shrink",
    "omnisend_segment",
    "state_dir",
)
#: Emulator seconds per real second under ``--emulator``: Omnisend's per-minute limits pass in a
#: second, so the sample segment's 20 batches take about a second instead of a minute.
EMULATOR_TIME_SCALE: Final = 60.0
#: The name reports show for the built-in emulator's connection.
EMULATOR_CONNECTION: Final = "built-in emulator"
#: Any loopback URL does: the in-process transport never opens a socket.
EMULATOR_BASE_URL: Final = "http://127.0.0.1/api"


class UsageError(Exception):
    """A mistake the user can fix in the command, the environment or the files (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse without its two ways of leaking a secret typed on the command line.

    Abbreviations are off: with them, ``--key sk-...`` was taken as ``--key-file`` and the key
    echoed back as a missing file. And error messages name the option at fault but never repeat
    a value, which may be a key pasted into the wrong place.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        super().error(_QUOTED_VALUE.sub("", message))


#: A value argparse quotes in an error ("invalid choice: 'x'", "invalid float value: 'x'"); the
#: list of valid choices that may follow is kept, as it holds no user input.
_QUOTED_VALUE: Final = re.compile(r"(?<=value|hoice): '[^']*'")


# --- the parser ---------------------------------------------------------------------------------


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser, one sub-parser per command.

    Args:
        prog: The program's name in usage lines and hints (``python -m omnisend_sdk`` there).
    """
    parser = _Parser(
        prog=prog,
        description="Export customer segments to Omnisend as contacts.",
        epilog=(
            "Start with: %(prog)s export examples/segment.csv --mapping examples/mapping.toml "
            '--segment "VIP customers" --emulator   (no key needed). ' + _exit_status_help()
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_export(commands)
    _add_run(commands)
    _add_plan(commands)
    _add_verify(commands)
    _add_acknowledge(commands)
    _add_emulator(commands)
    add_connection_commands(commands, command=_command, connection_options=_add_connection_options)
    return parser


def _exit_status_help() -> str:
    statuses = "; ".join(f"{status} {meaning}" for status, meaning in EXIT_STATUSES)
    return f"Exit status: {statuses}."


def _add_connection_options(parser: argparse.ArgumentParser, *, named: bool = True) -> None:
    """The key, URL and state flags; ``named=False`` when the command does not name the
    connection itself (``run`` takes the definition's name, ``plan`` needs none)."""
    group = parser.add_argument_group(
        "connection",
        f"The API key is read from ${ENV_API_KEY} or --key-file, never from the command line.",
    )
    group.add_argument(
        "--key-file",
        type=Path,
        metavar="PATH",
        help=f"read the API key from this file instead of ${ENV_API_KEY}",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        help=f"Omnisend API URL (default: ${ENV_BASE_URL} or Omnisend's own)",
    )
    if named:
        group.add_argument(
            "--connection",
            default=DEFAULT_CONNECTION,
            metavar="NAME",
            help="a connection saved with connect, or the name reports give the one "
            "the key and URL describe (default: %(default)s)",
        )
    else:
        parser.set_defaults(connection=DEFAULT_CONNECTION)
    _add_state_dir(group)


def _add_state_dir(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="where acknowledgements, resume journals and refresh states live "
        "(default: $OMNISEND_SDK_STATE_DIR or ~/.omnisend_sdk)",
    )


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        metavar="FILE",
        help="the segment: .csv, .tsv, .jsonl or .parquet (or a Parquet dataset directory); "
        "or leave it out and give --db and --query",
    )
    query = parser.add_argument_group(
        "database",
        "Read the segment straight from a database instead of a file. The URL is a SQLAlchemy "
        "URL (sqlite:///crm.db, duckdb:///lake.duckdb, postgresql://user@host/db); a password "
        'in it is masked in every message. Pass it from the environment (--db "$CRM_DB_URL"): '
        "a command line is visible to other users of the machine.",
    )
    query.add_argument("--db", metavar="URL", help="the database to query")
    query.add_argument("--query", metavar="SQL", help="the query whose rows are the segment")
    parser.add_argument(
        "--mapping",
        required=True,
        type=Path,
        metavar="MAPPING",
        help="mapping file (.toml or .json) saying which column feeds which contact field",
    )
    parser.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        help="send at most N profiles; the rest are reported as over the limit",
    )


def _add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=None,  # not given: a saved definition's own dry_run stays (see SETTINGS_FLAGS)
        help="read and map every row, send nothing, report what would happen",
    )


def _add_refresh_options(parser: argparse.ArgumentParser) -> None:
    """The refresh flags; each one left out keeps the definition's option or the default."""
    defaults = ExportSettings()
    group = parser.add_argument_group(
        "refresh",
        "A rerun of a completed export is a refresh: it sends only new and changed members "
        "and removes the segment tag from members who left (never the contact).",
    )
    group.add_argument(
        "--full",
        action="store_true",
        default=None,
        help="resend every member, changed or not (leavers still lose the tag)",
    )
    group.add_argument(
        "--on-exit",
        choices=("untag", "keep"),
        help=f"members who left: remove the segment tag or keep it (default: {defaults.on_exit})",
    )
    group.add_argument(
        "--max-exit-share",
        type=float,  # ExportSettings checks the range, with the one message for every caller
        metavar="SHARE",
        help="refuse a refresh in which more than this share of the members left, sending "
        f"nothing (a share from 0 to 1; default: {defaults.max_exit_share:.2f})",
    )
    group.add_argument(
        "--allow-shrink",
        action="store_true",
        default=None,
        help="go ahead even when the shrink guard (--max-exit-share, an empty source) refuses",
    )
    group.add_argument(
        "--omnisend-segment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep a segment in Omnisend whose rule is the segment tag and report its count",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-invalid",
        type=_invalid_budget,
        metavar="N|P%",
        help="exit 1 when more rows than this were skipped as invalid or duplicate: a count "
        "(100) or a share of the rows read (2%%); by default they are only reported",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 when the source gives no rows (by default an empty source exits 5)",
    )
    parser.add_argument("--report", type=Path, metavar="PATH", help="also write the report as JSON")
    parser.add_argument(
        "--issues", type=Path, metavar="PATH", help="also write every row issue as CSV"
    )


def _command(
    commands: Any, name: str, handler: Callable[..., int], *, summary: str, description: str
) -> argparse.ArgumentParser:
    """A sub-command whose parsed arguments go to ``handler``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=description
    )
    parser.set_defaults(handler=handler)
    return parser


def _add_export(commands: Any) -> None:
    export = _command(
        commands,
        "export",
        run_export,
        summary="export a segment file to Omnisend",
        description=(
            "Export a segment file to Omnisend as contacts and print a report of every row. "
            "Contacts get the segment's tag, no welcome message and no subscription change. "
            "An interrupted export resumes when the same command runs again; a completed one "
            "is refreshed. " + _exit_status_help()
        ),
    )
    _add_source_options(export)
    export.add_argument(
        "--segment", required=True, metavar="NAME", help="the segment's name (also its tag)"
    )
    _add_dry_run(export)
    export.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the export's state so a rerun continues an interrupted export or refreshes "
        "a completed one (default: on)",
    )
    export.add_argument(
        "--emulator",
        action="store_true",
        help="export to a built-in Omnisend emulator instead (no key, nothing leaves this "
        "machine; time runs 60x faster)",
    )
    _add_output_options(export)
    _add_refresh_options(export)
    _add_connection_options(export)


def _add_run(commands: Any) -> None:
    run = _command(
        commands,
        "run",
        run_definition,
        summary="run a saved export definition (what cron calls)",
        description=(
            "Run an export saved as a definition file (.toml or .json: name, connection, "
            "segment, source, [options], [mapping]) and print its report. The connection the "
            "definition names is the one saved under that name (see connect), else its key "
            f"comes from ${ENV_API_KEY} or --key-file. The first run "
            "exports the segment; later runs refresh it. Flags given here win over the "
            "definition's options. A progress bar shows on a terminal only, so a cron log "
            "holds the report alone. " + _exit_status_help()
        ),
    )
    run.add_argument(
        "definition", type=Path, metavar="DEFINITION", help="the export definition (.toml/.json)"
    )
    run.add_argument(
        "--source", type=Path, metavar="PATH", help="read this file instead of the definition's"
    )
    _add_dry_run(run)
    _add_output_options(run)
    _add_refresh_options(run)
    _add_connection_options(run, named=False)


def _add_plan(commands: Any) -> None:
    plan = _command(
        commands,
        "plan",
        run_plan,
        summary="read and map a segment file, send nothing, estimate the export",
        description=(
            "Read and map every row of a segment file without sending anything; print the "
            "counts (valid, invalid, duplicates, over the limit), the requests an export needs "
            "and how long Omnisend's rate limits make it take. Needs no API key, except with "
            "--segment: then the key's store (its fingerprint and URL, nothing is sent) finds "
            "the last export of the segment, and the plan shows what a refresh would send "
            "(new, changed, unchanged, leaving)."
        ),
    )
    _add_source_options(plan)
    plan.add_argument(
        "--segment", metavar="NAME", help="diff against the last export of this segment"
    )
    _add_connection_options(plan, named=False)


def _add_verify(commands: Any) -> None:
    verify = _command(
        commands,
        "verify",
        run_verify,
        summary="check that the API key works and may read contacts",
        description="Send one cheap request to check the API key and its contacts permission.",
    )
    _add_connection_options(verify)


def _add_acknowledge(commands: Any) -> None:
    acknowledge = _command(
        commands,
        "acknowledge",
        run_acknowledge,
        summary="accept, once per key, that exports send personal data to Omnisend",
        description=(
            "Record that you accept that exports through this API key send people's personal "
            "data to Omnisend, outside your compliance boundary. Exports to Omnisend refuse to "
            "run until this is recorded; the record names you, the time and the key's "
            "fingerprint (never the key) and appears in every export report."
        ),
    )
    acknowledge.add_argument(
        "--by", required=True, metavar="NAME", help="your full name, as the person responsible"
    )
    _add_connection_options(acknowledge)


def _add_emulator(commands: Any) -> None:
    emulator = _command(
        commands,
        "emulator",
        run_emulator,
        summary="run the Omnisend emulator",
        description="Run the Omnisend emulator (see docs/testing.md).",
    )
    actions = emulator.add_subparsers(dest="action", required=True, metavar="ACTION")
    # add_help=False: "emulator serve --help" reaches the emulator's own parser, which owns the
    # options (--port, --time-scale...) so they are defined in exactly one place.
    actions.add_parser(
        "serve",
        add_help=False,
        help="serve it on a loopback URL (options: emulator serve --help)",
    )


def _invalid_budget(text: str) -> InvalidBudget:
    try:
        return InvalidBudget.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be a count (100) or a percentage of the rows read (2%)"
        ) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError("not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# --- shared steps -------------------------------------------------------------------------------


def _key_from_file(args: argparse.Namespace) -> str | None:
    """The API key from ``--key-file``, if given; never echoed anywhere."""
    key_file: Path | None = args.key_file
    if key_file is None:
        return None
    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except OSError as err:
        # Not the path: a key pasted where the path belongs would be echoed to the terminal.
        raise UsageError(f"cannot read the --key-file: {err.strerror}") from None
    if not key:
        raise UsageError("the --key-file is empty")
    return key


def _connection(args: argparse.Namespace, *, name: str | None = None) -> Connection:
    """The connection saved as ``name`` (default: ``--connection``), else the one the flags and
    the environment describe (flags win), called ``name``."""
    saved = saved_connection(
        name or args.connection,
        key_file=args.key_file,
        base_url=args.base_url,
        state_dir=args.state_dir,
    )
    if saved is not None:
        return saved
    try:
        settings = settings_from_env(api_key=_key_from_file(args))
    except ConfigurationError:  # the one thing it refuses: no key at all
        hint = " (or try --emulator, which needs none)" if "emulator" in args else ""
        raise UsageError(f"no API key: set {ENV_API_KEY} or pass --key-file PATH{hint}") from None
    if args.base_url:
        settings["base_url"] = args.base_url
    return Connection(name or args.connection, **settings, state_dir=args.state_dir)


def _mapping(path: Path) -> ContactMapping:
    if not path.is_file():
        raise UsageError(f"no mapping file {path}")
    return ContactMapping.load(path)


def _source(path: Path) -> Path:
    if not (path.is_file() or (path.is_dir() and _is_parquet_dataset(path))):
        raise UsageError(f"no segment file {path}")
    return path


def _is_parquet_dataset(path: Path) -> bool:
    return any(path.rglob("*.parquet"))


@contextlib.contextmanager
def _segment(args: argparse.Namespace) -> Iterator[object]:
    """The segment the command reads: FILE, or the rows of --query at --db (while open)."""
    given = (args.db is not None, args.query is not None)
    if args.file is not None and any(given):
        raise UsageError("give a FILE or --db and --query, not both")
    if args.file is not None:
        yield _source(args.file)
        return
    if given != (True, True):
        raise UsageError("give the segment: a FILE, or --db URL and --query SQL together")
    with query_rows(args.db, args.query) as rows:
        yield rows


def _definition(path: Path) -> ExportDefinition:
    if not path.is_file():
        raise UsageError(f"no export definition {path}")
    return ExportDefinition.load(path)


def _definition_source(definition: ExportDefinition, args: argparse.Namespace) -> Path:
    """``--source``, or the file the definition names; checked before anything is sent."""
    if args.source is not None:
        return _source(args.source)
    if definition.source is None:
        raise UsageError(
            f'export {definition.name!r} has no source: add  source = "PATH"  to '
            f"{args.definition} or pass --source PATH"
        )
    return _source(Path(definition.source))


def _check_outputs(args: argparse.Namespace) -> None:
    for output in (args.report, args.issues):
        # Checked before sending: finding out after an hour-long export would lose its report.
        if output is not None and not output.parent.is_dir():
            raise UsageError(f"cannot write {output}: no directory {output.parent}")


def _export_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`ExportSettings` options the command's flags give (only the flags given)."""
    flags = vars(args)
    options = {name: flags[name] for name in SETTINGS_FLAGS if flags.get(name) is not None}
    if flags.get("limit") is not None:
        options.update(max_profiles=flags["limit"], on_limit="truncate")
    return options


def _export_settings(args: argparse.Namespace, **options: Any) -> ExportSettings:
    """The export's settings from the command's flags; ``options`` are the command's own."""
    return ExportSettings.from_options(**(_export_options(args) | options))


@contextlib.contextmanager
def _privacy_hint(connection: Connection, args: argparse.Namespace) -> Iterator[None]:
    """Turns a missing privacy acknowledgement into the command that gives it."""
    try:
        yield
    except UserNotAllowedError:  # a PrivacyAcknowledgementError, but acknowledging cannot help
        raise
    except PrivacyAcknowledgementError as err:
        # A saved connection is acknowledged by name; an unsaved one by the key it is given.
        which = f" --connection {connection.name}" if connection.is_saved else ""
        raise UsageError(
            f"exports to {connection.base_url} need a privacy acknowledgement first: "
            f'run  {args.prog} acknowledge{which} --by "<your full name>"  (once per key)'
        ) from err


@contextlib.contextmanager
def _emulator_connection() -> Iterator[tuple[Connection, dict[str, Any]]]:
    """A connection to a fresh in-process emulator, and the client options that reach it."""
    # Imported here: the emulator is a test tool, and real exports never need to load it.
    from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator  # noqa: PLC0415

    emulator = OmnisendEmulator(time_scale=EMULATOR_TIME_SCALE)
    with httpx.Client(transport=emulator.transport()) as http:
        connection = Connection(EMULATOR_CONNECTION, EMULATOR_API_KEY, base_url=EMULATOR_BASE_URL)
        # The client's limiter must count in emulator minutes, or it would pace 60x too slowly.
        limiter = RateLimiter(window=60.0 / EMULATOR_TIME_SCALE)
        yield connection, {"http_client": http, "rate_limiter": limiter}


def _say(args: argparse.Namespace, message: str) -> None:
    """A message on standard error, prefixed with the command's name as it was called."""
    print(f"{args.prog}: {message}", file=sys.stderr, flush=True)


# --- commands -----------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    """``export``: run the export, print the report, exit by what happened to the rows."""
    mapping = _mapping(args.mapping)
    _check_outputs(args)
    if args.emulator and (args.key_file or args.base_url):
        raise UsageError("--emulator needs no key or URL: drop --key-file and --base-url")
    with _segment(args) as source:
        if args.emulator:
            _say(args, "exporting to a built-in Omnisend emulator; nothing leaves this machine")
            with _emulator_connection() as (connection, client_options):
                # No journal: the emulator forgets everything when this command ends.
                report = _export(source, mapping, args, connection, client_options, resume=False)
            _say(args, f"at Omnisend's real pace this export would take {_real_pace(report)}")
        else:
            report = _export(source, mapping, args, _connection(args), {})
    return _finish(report, args)


def _real_pace(report: ExportReport) -> str:
    """How long the emulator's export would take at Omnisend's pace: the plan's estimate, from
    the batches and tag calls the export made."""
    tag_requests = tag_requests_for(
        report.tagged + report.tag_failed, report.untagged + report.untag_failed
    )
    duration, _ = estimate_duration(report.batches, tag_requests)
    return _about(duration.total_seconds())


def _about(seconds: float) -> str:
    return f"about {seconds:,.0f} s" if seconds < 120 else f"about {seconds / 60:,.1f} min"


def _export(
    source: object,
    mapping: ContactMapping,
    args: argparse.Namespace,
    connection: Connection,
    client_options: dict[str, Any],
    **options: Any,
) -> ExportReport:
    from_flags = {
        "resume": args.resume,
        "progress": PROGRESS,
        "client_options": client_options,
    }
    settings = _export_settings(args, **(from_flags | options))
    with _privacy_hint(connection, args):
        return export_segment(
            source, mapping, segment=args.segment, connection=connection, settings=settings
        )


def run_definition(args: argparse.Namespace) -> int:
    """``run``: run a saved export definition; what a scheduler calls."""
    definition = _definition(args.definition)
    source = _definition_source(definition, args)
    _check_outputs(args)
    # The definition names its connection and refuses any other: build it under that name.
    connection = _connection(args, name=definition.connection)
    with _privacy_hint(connection, args):
        report = definition.run(
            connection=connection, source=source, progress=PROGRESS, **_export_options(args)
        )
    return _finish(report, args)


def _finish(report: ExportReport, args: argparse.Namespace) -> int:
    """Print and save the report; the exit status and its one-line reason."""
    print(report, flush=True)
    if args.report is not None:
        args.report.write_text(report.to_json() + "\n", encoding="utf-8")
    if args.issues is not None:
        report.write_issues_csv(args.issues)
    status, reason = outcome(report, allow_empty=args.allow_empty, max_invalid=args.max_invalid)
    _say(args, reason)
    return status


def outcome(
    report: ExportReport, *, allow_empty: bool = False, max_invalid: InvalidBudget | None = None
) -> tuple[int, str]:
    """The exit status for a report and a one-line reason for it.

    The rule is :meth:`ExportReport.failures`, the one ``raise_for_failures()`` follows: rows
    skipped as invalid or duplicate are named in the reason but fail the run only past
    ``max_invalid``.
    """
    verb = "would be exported" if report.dry_run else "exported"
    if report.status == "empty":
        return (EXIT_OK if allow_empty else EXIT_EMPTY), "the source gave no rows: nothing sent"
    troubles = report.failures(max_invalid=max_invalid)
    if report.stop_reason == "error" and report.error_type in KEY_ERRORS:
        # A key refused mid-run needs a person to fix the setup, as a refused key at start does.
        return EXIT_USAGE, f"{_done(report, verb)}; {', '.join(troubles)}"
    if troubles:
        after = (
            "run the same command again to resume"
            if report.status in ("partial", "cancelled")
            else "see the issues in the report"
        )
        return EXIT_ROWS_NOT_EXPORTED, f"{_done(report, verb)}; {', '.join(troubles)} ({after})"
    skipped = [
        f"{count:,} {what}"
        for count, what in (
            (report.invalid, "invalid"),
            (report.duplicates, "duplicates"),
            (report.over_limit, "over the limit"),
        )
        if count
    ]
    if not skipped:
        return EXIT_OK, _done(report, verb, clean=True)
    return EXIT_OK, f"{_done(report, verb)}; {', '.join(skipped)} skipped (see the issues)"


def _done(report: ExportReport, verb: str, *, clean: bool = False) -> str:
    """What was (or would be) exported, in words."""
    # A refresh leaves unchanged rows unsent on purpose: "all rows exported" would be untrue.
    done = (report.valid - report.unchanged) if report.dry_run else report.exported
    if report.refresh:
        return (
            f"refresh: {done:,} new or changed of {report.rows_read:,} rows {verb}, "
            f"{report.unchanged:,} unchanged, {report.exited:,} left"
        )
    if clean:
        return f"all {report.rows_read:,} rows {verb}"
    return f"{done:,} of {report.rows_read:,} rows {verb}"


def run_plan(args: argparse.Namespace) -> int:
    """``plan``: print what an export of the file would do; sends nothing.

    With ``--segment`` the plan diffs against that segment's last export, whose state belongs to
    a store: so only then is the key needed (its fingerprint and URL name the store).
    """
    mapping = _mapping(args.mapping)
    store = _connection(args) if args.segment else None
    with _segment(args) as source:
        plan = plan_export(
            source, mapping, settings=_export_settings(args), segment=args.segment, client=store
        )
    print(plan, flush=True)
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """``verify``: one cheap request proves the key works and may read contacts."""
    connection = _connection(args)
    connection.verify()
    _say(args, f"key {connection.key_fingerprint} works at {connection.base_url}")
    return EXIT_OK


def run_acknowledge(args: argparse.Namespace) -> int:
    """``acknowledge``: record the privacy acknowledgement for this key and URL."""
    connection = _connection(args)
    record = connection.acknowledge_privacy(by=args.by)
    _say(args, f"{record} for key {record.key_fingerprint} at {record.base_url}")
    return EXIT_OK


def run_emulator(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """``emulator serve``: the emulator's own command line, reused as it is."""
    from omnisend_sdk.testing.__main__ import main as emulator_main  # noqa: PLC0415 - as above

    return emulator_main([args.action, *extra], prog=f"{args.prog} emulator")


# --- entry point --------------------------------------------------------------------------------


def failure(error: Exception) -> tuple[int, str]:
    """The exit status for an error that stopped a command, and a one-line reason for it.

    The one mapping from errors to statuses, so ``export`` and ``run`` always agree.
    """
    if isinstance(error, ShrinkRefusedError):
        return EXIT_SHRINK_REFUSED, _shrink_reason(error)
    if isinstance(error, ExportLockedError):
        return EXIT_LOCKED, _one_line(error)
    if isinstance(error, UsageError):
        return EXIT_USAGE, str(error)
    if isinstance(
        error, OSError
    ):  # a --report or --issues path that cannot be written, a full disk
        return EXIT_USAGE, f"{error.filename or 'file'}: {error.strerror or error}"
    # Configuration, permission, limit and mapping errors: nothing (more) can be sent.
    return EXIT_USAGE, _one_line(error)


def _shrink_reason(error: ShrinkRefusedError) -> str:
    # Built from the numbers, not str(error), which speaks to Python callers (allow_shrink=True).
    if error.rows_read == 0:
        what = f"the source gave no rows, which would remove all {error.members:,} members"
    else:  # the guard never refuses without members, so the share is defined
        share = error.leaving / error.members
        what = f"{error.leaving:,} of {error.members:,} members ({share:.0%}) would leave"
    return (
        f"refresh refused: {what}; nothing was sent. Check the source, or run again with "
        "--allow-shrink if the segment really shrank"
    )


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: The arguments after the program name; defaults to ``sys.argv[1:]``.
        prog: The program's name in usage lines and hints.
    """
    parser = build_parser(prog)
    args, extra = parser.parse_known_args(argv)
    handler: Callable[..., int] = args.handler
    if args.command == "emulator":
        return handler(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {_named_only(extra)}")
    try:
        return handler(args)
    except ExportInterrupted as interrupted:
        print(interrupted.report, flush=True)
        _say(args, "interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED
    except (UsageError, OmnisendError, OSError) as err:
        if isinstance(err, ExportStateError) and err.report is not None:
            print(err.report, flush=True)  # what was sent before the disk failed
        status, reason = failure(err)
        _say(args, reason)
        return status


def _named_only(arguments: Sequence[str]) -> str:
    """The options among ``arguments``, without their values: a value may be a secret."""
    options = [argument.split("=", 1)[0] for argument in arguments if argument.startswith("-")]
    values = len(arguments) - len(options)
    hidden = [f"{values} value{'s' if values > 1 else ''} not shown"] if values else []
    return " ".join(options + hidden)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


if __name__ == "__main__":  # pragma: no cover - python -m omnisend_sdk.cli
    sys.exit(main())
