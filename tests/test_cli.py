"""The command line: every command's help, exit statuses and reasons, keys kept out of output."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnisend_sdk import ConfigurationError, ExportLockedError, ShrinkRefusedError, cli
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "segment.csv"
MAPPING = ROOT / "examples" / "mapping.toml"
SECRET = "osk-cli-test-SECRET-0123456789"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key, URL or state from the developer's machine leaks into a test, or out of it."""
    for name in ("OMNISEND_API_KEY", "OMNISEND_BASE_URL", "OMNISEND_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("OMNISEND_SDK_STATE_DIR", str(state))
    return state


@pytest.fixture
def clean_csv(tmp_path: Path) -> Path:
    path = tmp_path / "clean.csv"
    path.write_text(
        "EmailAddress,FirstName\nann@example.com,Ann\nbob@example.com,Bob\ncy@example.com,Cy\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def small_mapping(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text('email = "EmailAddress"\nfirst_name = "FirstName"\n', encoding="utf-8")
    return path


@pytest.fixture
def served() -> Iterator[tuple[OmnisendEmulator, str]]:
    emulator = OmnisendEmulator(time_scale=60)
    with emulator.serve() as url:
        yield emulator, url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return status, out, err


def export_args(source: Path, mapping: Path, *extra: str) -> list[str]:
    return ["export", str(source), "--mapping", str(mapping), "--segment", "VIP customers", *extra]


# --- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["export", "run", "plan", "verify", "acknowledge", "emulator", "Exit status"]),
        (
            ["export"],
            ["--mapping", "--segment", "--dry-run", "--no-resume", "--limit", "--emulator"],
        ),
        (["export"], ["--report", "--key-file", "--base-url", "OMNISEND_API_KEY"]),
        (["export"], ["--full", "--on-exit", "--max-exit-share", "--allow-shrink"]),
        (["export"], ["--omnisend-segment", "--no-omnisend-segment", "Exit status"]),
        (["run"], ["DEFINITION", "--source", "--dry-run", "--report", "--state-dir", "cron"]),
        (["run"], ["--full", "--on-exit", "--max-exit-share", "--allow-shrink", "Exit status"]),
        (["run"], ["--omnisend-segment", "--key-file", "--base-url", "OMNISEND_API_KEY"]),
        (["plan"], ["--mapping", "--limit", "--segment", "Needs no API key"]),
        (["verify"], ["--key-file", "--base-url"]),
        (["acknowledge"], ["--by", "personal data"]),
        (["emulator"], ["serve"]),
        (["emulator", "serve"], ["--port", "--time-scale"]),
    ],
)
def test_every_command_has_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]
) -> None:
    status, out, _ = run(capsys, *argv, "--help")
    assert status == 0
    for text in expected:
        assert text in out


def test_every_exit_status_is_documented_once_in_the_docstring_and_the_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    statuses = [status for status, _ in cli.EXIT_STATUSES]
    assert len(set(statuses)) == len(statuses)
    _, out, _ = run(capsys, "--help")
    help_text = " ".join(out.split())  # argparse wraps the epilog
    for status, meaning in cli.EXIT_STATUSES:
        assert f"\n    {status:<4} {meaning}\n" in (cli.__doc__ or "")
        assert f"{status} {meaning}" in help_text


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omnisend_sdk", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: python -m omnisend_sdk")


# --- export against the built-in emulator ---------------------------------------------------------


def test_sample_export_reports_every_row_and_exits_0_with_skipped_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated_env: Path
) -> None:
    report_path, issues_path = tmp_path / "report.json", tmp_path / "issues.csv"
    status, out, err = run(
        capsys,
        *export_args(SAMPLE, MAPPING, "--emulator"),
        "--report",
        str(report_path),
        "--issues",
        str(issues_path),
    )

    assert status == 0  # its invalid and duplicate rows are reported, not a failure
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["rows_read"] == 2_000
    assert report["exported"] + report["skipped"] + report["failed"] == 2_000
    assert report["invalid"] > 0
    assert report["duplicates"] > 0
    assert report["tagged"] == report["exported"]
    assert "Export of segment 'VIP customers' to Omnisend: completed" in out
    assert issues_path.read_text(encoding="utf-8").startswith("row,")
    # One line per outcome on stderr, ending with the reason for the status.
    assert err.strip().splitlines()[-1].startswith(f"{cli.PROG}: 1,913 of 2,000 rows exported;")
    assert not isolated_env.exists()  # the emulator needs no acknowledgement and keeps no journal


def test_clean_export_exits_0(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, small_mapping: Path
) -> None:
    status, _, err = run(capsys, *export_args(clean_csv, small_mapping, "--emulator"))
    assert status == 0
    assert "all 3 rows exported" in err


def test_dry_run_sends_nothing(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, small_mapping: Path
) -> None:
    status, out, err = run(
        capsys, *export_args(clean_csv, small_mapping, "--emulator", "--dry-run")
    )
    assert status == 0
    assert out.startswith("Dry run of segment 'VIP customers'")
    assert "all 3 rows would be exported" in err


def test_limit_exports_the_first_n_and_reports_the_rest(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, small_mapping: Path, tmp_path: Path
) -> None:
    report_path = tmp_path / "r.json"
    status, _, err = run(
        capsys,
        *export_args(clean_csv, small_mapping, "--emulator", "--limit", "2"),
        "--report",
        str(report_path),
    )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (status, report["exported"], report["over_limit"]) == (0, 2, 1)
    assert "1 over the limit" in err


# --- usage and configuration errors: exit 2, one line ---------------------------------------------


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([], "no API key: set OMNISEND_API_KEY or pass --key-file PATH"),
        (["--emulator", "--base-url", "http://127.0.0.1:1/api"], "--emulator needs no key"),
        (["--key-file", "/nonexistent/key"], "cannot read the --key-file: No such file"),
        (["--emulator", "--report", "/nonexistent/r.json"], "no directory /nonexistent"),
    ],
)
def test_configuration_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    clean_csv: Path,
    small_mapping: Path,
    extra: list[str],
    reason: str,
) -> None:
    status, out, err = run(capsys, *export_args(clean_csv, small_mapping, *extra))
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert reason in err


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["export", "missing.csv", "--mapping", str(MAPPING), "--segment", "S"], "no segment file"),
        (["plan", str(SAMPLE), "--mapping", "missing.toml"], "no mapping file missing.toml"),
        (["plan", str(SAMPLE), "--mapping", str(MAPPING), "--limit", "0"], "must be at least 1"),
        (["export", str(SAMPLE), "--mapping", str(MAPPING)], "--segment"),
        (["verify", "--api-key", "x"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert reason in err


def test_a_mapping_that_does_not_fit_the_file_exits_2(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "wrong.toml"
    mapping.write_text('email = "Email"\n', encoding="utf-8")
    status, _, err = run(capsys, *export_args(clean_csv, mapping, "--emulator"))
    assert status == 2
    assert "MappingError: email: no column 'Email'" in err


# --- one mapping from errors to exit statuses, shared by export and run ---------------------------


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (
            ShrinkRefusedError("m", members=40, leaving=10, rows_read=30),
            cli.EXIT_SHRINK_REFUSED,
            "refresh refused: 10 of 40 members (25%) would leave; nothing was sent. Check the "
            "source, or run again with --allow-shrink if the segment really shrank",
        ),
        (
            ShrinkRefusedError("m", members=40, leaving=40, rows_read=0),
            cli.EXIT_SHRINK_REFUSED,
            "refresh refused: the source gave no rows, which would remove all 40 members;",
        ),
        (ExportLockedError("held by\ncron"), cli.EXIT_LOCKED, "ExportLockedError: held by cron"),
        (cli.UsageError("no mapping file m.toml"), cli.EXIT_USAGE, "no mapping file m.toml"),
        (ConfigurationError("bad"), cli.EXIT_USAGE, "ConfigurationError: bad"),
        (PermissionError(13, "Permission denied", "r.json"), cli.EXIT_USAGE, "r.json: Permission"),
    ],
    ids=["shrink", "empty-source", "locked", "usage", "configuration", "os-error"],
)
def test_each_error_has_one_exit_status_and_a_one_line_reason(
    error: Exception, status: int, reason: str
) -> None:
    got_status, got_reason = cli.failure(error)
    assert got_status == status
    assert got_reason.startswith(reason)
    assert "\n" not in got_reason


def parsed(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_export_refresh_flags_become_settings_in_one_place() -> None:
    args = parsed(
        *export_args(SAMPLE, MAPPING),
        *("--full", "--on-exit", "keep", "--max-exit-share", "0.25"),
        *("--allow-shrink", "--omnisend-segment", "--limit", "5"),
    )
    settings = cli._export_settings(args)
    assert (settings.full, settings.on_exit, settings.max_exit_share) == (True, "keep", 0.25)
    assert (settings.allow_shrink, settings.omnisend_segment) == (True, True)
    assert (settings.limits.max_profiles, settings.limits.on_limit) == (5, "truncate")


def test_run_flags_left_out_leave_the_definitions_options_alone() -> None:
    assert cli._export_options(parsed("run", "vip.toml")) == {}
    assert cli._export_options(parsed("run", "vip.toml", "--no-omnisend-segment")) == {
        "omnisend_segment": False
    }


# --- real Omnisend: privacy acknowledgement, key handling -----------------------------------------


def test_export_to_omnisend_refuses_until_acknowledged(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_csv: Path,
    small_mapping: Path,
    isolated_env: Path,
) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    status, out, err = run(capsys, *export_args(clean_csv, small_mapping))
    assert status == 2
    assert 'acknowledge --by "<your full name>"' in err

    status, _, ack = run(capsys, "acknowledge", "--by", "Jane Roe")
    assert status == 0
    assert "acknowledged by Jane Roe" in ack
    assert list((isolated_env / "privacy").glob("*.json"))
    assert SECRET not in out + err + ack


def test_key_file_is_read_and_never_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated_env: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    status, out, err = run(capsys, "acknowledge", "--by", "Jane Roe", "--key-file", str(key_file))
    assert status == 0
    assert SECRET not in out + err
    stored = "".join(p.read_text() for p in (isolated_env / "privacy").glob("*.json"))
    assert SECRET not in stored


# --- against a loopback server (what "emulator serve" gives) --------------------------------------


def test_verify_and_export_through_a_loopback_url(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    served: tuple[OmnisendEmulator, str],
    clean_csv: Path,
    small_mapping: Path,
) -> None:
    emulator, url = served
    monkeypatch.setenv("OMNISEND_API_KEY", EMULATOR_API_KEY)
    # Clients built from the environment pace for real Omnisend and look at a batch 1 s
    # after sending it, then less often; poll sooner, since the emulator runs 60x faster.
    monkeypatch.setattr("omnisend_sdk.export._engine.FIRST_POLLS_PER_WINDOW", 600)

    assert run(capsys, "verify", "--base-url", url)[0] == 0
    status, _, err = run(capsys, *export_args(clean_csv, small_mapping, "--base-url", url))

    assert status == 0, err  # a loopback URL needs no acknowledgement: nothing leaves
    emulator.run_until_idle()
    assert {c["email"] for c in emulator.contacts()} >= {"ann@example.com", "cy@example.com"}


def test_verify_with_a_wrong_key_exits_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    served: tuple[OmnisendEmulator, str],
) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    status, out, err = run(capsys, "verify", "--base-url", served[1])
    assert status == 2
    assert err.startswith(f"{cli.PROG}: AuthenticationError")
    assert SECRET not in out + err


def test_emulator_serve_hands_over_to_the_emulator_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str], *, prog: str) -> int:
        seen.append([prog, *argv])
        return 0

    monkeypatch.setattr("omnisend_sdk.testing.__main__.main", fake_main)
    assert run(capsys, "emulator", "serve", "--port", "0", "--time-scale", "60")[0] == 0
    assert seen == [[f"{cli.PROG} emulator", "serve", "--port", "0", "--time-scale", "60"]]


def test_plan_prints_counts_and_needs_no_key(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plan", str(SAMPLE), "--mapping", str(MAPPING))
    assert status == 0
    assert out.startswith("rows")
    assert "2,000" in out


def test_rows_the_mapper_rejected_exit_0_until_they_pass_max_invalid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, small_mapping: Path
) -> None:
    segment = tmp_path / "with-bad.csv"
    segment.write_text(
        "EmailAddress,FirstName\nann@example.com,Ann\nnot-an-email,Bo\nann@example.com,Ann\n"
        "cy@example.com,Cy\n",
        encoding="utf-8",
    )

    tolerant, _, err = run(capsys, *export_args(segment, small_mapping, "--emulator"))
    assert tolerant == 0
    assert "2 of 4 rows exported; 1 invalid, 1 duplicates skipped (see the issues)" in err

    within, _, _ = run(
        capsys, *export_args(segment, small_mapping, "--emulator", "--max-invalid", "2")
    )
    over, _, err = run(
        capsys, *export_args(segment, small_mapping, "--emulator", "--max-invalid", "1")
    )
    share, _, _ = run(
        capsys, *export_args(segment, small_mapping, "--emulator", "--max-invalid", "25%")
    )
    assert (within, over, share) == (0, 1, 1)  # 2 skipped of 4 rows is 50%
    assert "2 invalid or duplicate rows, more than max_invalid 1" in err


def test_rows_over_a_chosen_limit_exit_0(
    capsys: pytest.CaptureFixture[str], small_mapping: Path, clean_csv: Path
) -> None:
    status, _, err = run(
        capsys, *export_args(clean_csv, small_mapping, "--emulator", "--limit", "2")
    )
    assert status == 0
    assert "over the limit skipped" in err


@pytest.mark.parametrize("budget", ["lots", "-1", "150%"])
def test_a_malformed_max_invalid_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], small_mapping: Path, clean_csv: Path, budget: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*export_args(clean_csv, small_mapping, "--emulator", "--max-invalid", budget)])
    assert exited.value.code == 2
    assert "--max-invalid: must be a count (100) or a percentage" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error_type", "status"),
    [("AuthenticationError", 2), ("PermissionDeniedError", 2), ("APIConnectionError", 1)],
)
def test_a_run_stopped_by_a_refused_key_exits_2_and_names_the_cause(
    error_type: str, status: int
) -> None:
    from tests.export.test_report import make  # noqa: PLC0415 - a report of chosen counts

    report = make(
        status="partial",
        stop_reason="error",
        stop_detail=f"{error_type}: revoked (POST /batches)",
        error_type=error_type,
    )
    exit_status, reason = cli.outcome(report)
    assert exit_status == status
    assert f"stopped early: {error_type}: revoked" in reason


# --- secrets typed on the command line ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--key", SECRET],  # once an abbreviation of --key-file, echoed as a path
        ["verify", f"--key={SECRET}"],
        ["verify", SECRET],
        [SECRET],  # a key pasted where the command belongs
        ["export", str(SAMPLE), "--mapping", str(MAPPING), "--segment", "x", "--limit", SECRET],
        ["verify", "--key-file", SECRET],
    ],
)
def test_no_error_repeats_what_was_typed(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert SECRET not in out + err
    assert err.strip()  # and still says what is wrong


def test_options_are_never_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, *export_args(SAMPLE, MAPPING, "--emul"))
    assert status == 2
    assert "unrecognized arguments: --emul" in err


def test_messages_start_with_the_name_the_command_was_called_by(
    capsys: pytest.CaptureFixture[str], clean_csv: Path, small_mapping: Path
) -> None:
    argv = export_args(clean_csv, small_mapping, "--emulator")
    assert cli.main(argv, prog="python -m omnisend_sdk") == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines
    assert all(line.startswith("python -m omnisend_sdk: ") for line in lines)


def test_the_emulators_estimate_is_the_plans(capsys: pytest.CaptureFixture[str]) -> None:
    # One estimate: what export --emulator says a real export would take is what plan says.
    status, _, err = run(capsys, *export_args(SAMPLE, MAPPING, "--emulator"))
    assert status == 0
    plan = cli.plan_export(SAMPLE, cli.ContactMapping.load(MAPPING))
    seconds = plan.estimated_duration.total_seconds()
    assert seconds == 8  # 20 batches, 8 tag calls: the tag window (60 a minute) sets the pace
    assert f"at Omnisend's real pace this export would take about {seconds:,.0f} s" in err
