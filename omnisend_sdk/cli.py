"""The command line: ``python -m omnisend_sdk`` and the ``omnisend-export`` script.

Commands::

    export FILE --mapping MAPPING --segment NAME   export a CSV or JSON Lines segment
    plan FILE --mapping MAPPING                    read and map it, send nothing, estimate
    verify                                         check that the API key works
    acknowledge --by NAME                          record the privacy acknowledgement
    emulator serve                                 run the Omnisend emulator on loopback

The API key comes from ``OMNISEND_API_KEY`` or ``--key-file``, never from an argument: arguments
end up in shell history and in every other user's ``ps`` listing.

Exit status: 0 every row exported; 1 some rows skipped or failed (the report says which);
2 a usage or configuration error; 130 interrupted (run the same command again to resume).
Every non-zero status comes with a one-line reason on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

import httpx

from omnisend_sdk import (
    ConfigurationError,
    OmnisendError,
    PrivacyAcknowledgementError,
    RateLimiter,
    __version__,
)
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
from omnisend_sdk.mapping import ContactMapping

PROG: Final = "omnisend-export"
EXIT_OK: Final = 0
EXIT_ROWS_NOT_EXPORTED: Final = 1
EXIT_USAGE: Final = 2  # argparse uses 2 for usage errors too, so every "fix your input" agrees
EXIT_INTERRUPTED: Final = 130  # the shell's convention for a process stopped by Ctrl-C (SIGINT)
#: Emulator seconds per real second under ``--emulator``: Omnisend's per-minute limits pass in a
#: second, so the sample segment's 20 batches take about a second instead of a minute.
EMULATOR_TIME_SCALE: Final = 60.0
#: The name reports show for the built-in emulator's connection.
EMULATOR_CONNECTION: Final = "built-in emulator"
#: Any loopback URL does: the in-process transport never opens a socket.
EMULATOR_BASE_URL: Final = "http://127.0.0.1/api"


class UsageError(Exception):
    """A mistake the user can fix in the command, the environment or the files (exit 2)."""


# --- the parser ---------------------------------------------------------------------------------


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser, one sub-parser per command.

    Args:
        prog: The program's name in usage lines and hints (``python -m omnisend_sdk`` there).
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Export customer segments to Omnisend as contacts.",
        epilog=(
            "Start with: %(prog)s export examples/segment.csv --mapping examples/mapping.toml "
            '--segment "VIP customers" --emulator   (no key needed). '
            "Exit status: 0 all rows exported, 1 some rows skipped or failed, "
            "2 usage or configuration error, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_export(commands)
    _add_plan(commands)
    _add_verify(commands)
    _add_acknowledge(commands)
    _add_emulator(commands)
    return parser


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
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
    group.add_argument(
        "--connection",
        default="default",
        metavar="NAME",
        help="name the connection in reports (default: %(default)s)",
    )
    _add_state_dir(group)


def _add_state_dir(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="where acknowledgements and resume journals live "
        "(default: $OMNISEND_SDK_STATE_DIR or ~/.omnisend_sdk)",
    )


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="the segment: .csv, .tsv or .jsonl")
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
            "An interrupted export resumes when the same command runs again."
        ),
    )
    _add_source_options(export)
    export.add_argument(
        "--segment", required=True, metavar="NAME", help="the segment's name (also its tag)"
    )
    export.add_argument(
        "--dry-run",
        action="store_true",
        help="read and map every row, send nothing, report what would happen",
    )
    export.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a journal so a rerun continues an interrupted export (default: on)",
    )
    export.add_argument(
        "--emulator",
        action="store_true",
        help="export to a built-in Omnisend emulator instead (no key, nothing leaves this "
        "machine; time runs 60x faster)",
    )
    export.add_argument("--report", type=Path, metavar="PATH", help="also write the report as JSON")
    export.add_argument(
        "--issues", type=Path, metavar="PATH", help="also write every row issue as CSV"
    )
    _add_connection_options(export)


def _add_plan(commands: Any) -> None:
    plan = _command(
        commands,
        "plan",
        run_plan,
        summary="read and map a segment file, send nothing, estimate the export",
        description=(
            "Read and map every row of a segment file without sending anything; print the "
            "counts (valid, invalid, duplicates, over the limit), the requests an export needs "
            "and how long Omnisend's rate limits make it take. Needs no API key."
        ),
    )
    _add_source_options(plan)


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


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
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
        raise UsageError(f"cannot read --key-file {key_file}: {err.strerror}") from None
    if not key:
        raise UsageError(f"--key-file {key_file} is empty")
    return key


def _connection(args: argparse.Namespace) -> Connection:
    """The connection the flags and the environment describe (flags win)."""
    try:
        settings = settings_from_env(api_key=_key_from_file(args))
    except ConfigurationError:  # the one thing it refuses: no key at all
        raise UsageError(
            f"no API key: set {ENV_API_KEY} or pass --key-file PATH "
            "(or try --emulator, which needs none)"
        ) from None
    if args.base_url:
        settings["base_url"] = args.base_url
    return Connection(args.connection, **settings, state_dir=args.state_dir)


def _mapping(path: Path) -> ContactMapping:
    if not path.is_file():
        raise UsageError(f"no mapping file {path}")
    return ContactMapping.load(path)


def _source(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"no segment file {path}")
    return path


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


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# --- commands -----------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    """``export``: run the export, print the report, exit by what happened to the rows."""
    source, mapping = _source(args.file), _mapping(args.mapping)
    for output in (args.report, args.issues):
        # Checked before sending: finding out after an hour-long export would lose its report.
        if output is not None and not output.parent.is_dir():
            raise UsageError(f"cannot write {output}: no directory {output.parent}")
    if args.emulator:
        if args.key_file or args.base_url:
            raise UsageError("--emulator needs no key or URL: drop --key-file and --base-url")
        _say("exporting to a built-in Omnisend emulator; nothing leaves this machine")
        with _emulator_connection() as (connection, client_options):
            # No journal: the emulator forgets everything when this command ends.
            report = _export(source, mapping, args, connection, client_options, resume=False)
        # The report's times are real ones, at the emulator's 60x pace; say what Omnisend's is.
        real_pace = report.duration.total_seconds() * EMULATOR_TIME_SCALE
        _say(f"at Omnisend's real pace this export would take about {real_pace:,.0f} s")
    else:
        report = _export(source, mapping, args, _connection(args), {})
    return _finish(report, args)


def _export_settings(args: argparse.Namespace, **options: Any) -> ExportSettings:
    """The export's settings from the command's flags (``export`` has more than ``plan``)."""
    if args.limit is not None:
        options.update(max_profiles=args.limit, on_limit="truncate")
    return ExportSettings.from_options(**options)


def _export(
    source: Path,
    mapping: ContactMapping,
    args: argparse.Namespace,
    connection: Connection,
    client_options: dict[str, Any],
    **options: Any,
) -> ExportReport:
    from_flags = {
        "dry_run": args.dry_run,
        "resume": args.resume,
        "state_dir": args.state_dir,
        "progress": "auto",  # a bar on a terminal, nothing in a scheduler's log
        "client_options": client_options,
    }
    settings = _export_settings(args, **(from_flags | options))
    try:
        return export_segment(
            source, mapping, segment=args.segment, connection=connection, settings=settings
        )
    except UserNotAllowedError:
        raise
    except PrivacyAcknowledgementError as err:
        raise UsageError(
            f"exports to {connection.base_url} need a privacy acknowledgement first: "
            f'run  {args.prog} acknowledge --by "<your full name>"  (once per key)'
        ) from err


def _finish(report: ExportReport, args: argparse.Namespace) -> int:
    """Print and save the report; the exit status and its one-line reason."""
    print(report, flush=True)
    if args.report is not None:
        args.report.write_text(report.to_json() + "\n", encoding="utf-8")
    if args.issues is not None:
        report.write_issues_csv(args.issues)
    status, reason = outcome(report)
    _say(reason)
    return status


def outcome(report: ExportReport) -> tuple[int, str]:
    """The exit status for a report and a one-line reason for it."""
    verb = "would be exported" if report.dry_run else "exported"
    done = report.valid if report.dry_run else report.exported
    problems = [
        f"{count:,} {what}"
        for count, what in (
            (report.invalid, "invalid"),
            (report.duplicates, "duplicates"),
            (report.over_limit, "over the limit"),
            (report.failed, "failed"),
            (0 if report.dry_run else report.not_sent, "not sent"),
            (report.tag_failed, "not tagged"),
        )
        if count
    ]
    if not problems:
        return EXIT_OK, f"all {report.rows_read:,} rows {verb}"
    after = (
        "run the same command again to resume"
        if report.status in ("partial", "cancelled")
        else "see the issues in the report"
    )
    return EXIT_ROWS_NOT_EXPORTED, (
        f"{done:,} of {report.rows_read:,} rows {verb}; {', '.join(problems)} ({after})"
    )


def run_plan(args: argparse.Namespace) -> int:
    """``plan``: print what an export of the file would do; sends nothing, needs no key."""
    source, mapping = _source(args.file), _mapping(args.mapping)
    print(plan_export(source, mapping, settings=_export_settings(args)), flush=True)
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """``verify``: one cheap request proves the key works and may read contacts."""
    connection = _connection(args)
    connection.verify()
    _say(f"key {connection.key_fingerprint} works at {connection.base_url}")
    return EXIT_OK


def run_acknowledge(args: argparse.Namespace) -> int:
    """``acknowledge``: record the privacy acknowledgement for this key and URL."""
    connection = _connection(args)
    record = connection.acknowledge_privacy(by=args.by)
    _say(f"{record} for key {record.key_fingerprint} at {record.base_url}")
    return EXIT_OK


def run_emulator(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """``emulator serve``: the emulator's own command line, reused as it is."""
    from omnisend_sdk.testing.__main__ import main as emulator_main  # noqa: PLC0415 - as above

    return emulator_main([args.action, *extra])


# --- entry point --------------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    _say(message)
    raise SystemExit(EXIT_USAGE)


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
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return handler(args)
    except UsageError as err:
        _fail(str(err))
    except ExportInterrupted as interrupted:
        print(interrupted.report, flush=True)
        _say("interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED
    except OmnisendError as err:
        # Configuration, permission, limit and mapping errors: nothing (more) can be sent.
        _fail(_one_line(err))
    except OSError as err:  # a --report or --issues path that cannot be written, a full disk
        _fail(f"{err.filename or 'file'}: {err.strerror or err}")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


if __name__ == "__main__":  # pragma: no cover - python -m omnisend_sdk.cli
    sys.exit(main())
