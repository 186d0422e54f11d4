"""``omnisend-export run``: a saved definition run the way cron runs it, twice and more.

A refresh needs a store that outlives one command, so these tests talk to a loopback emulator
(what ``emulator serve`` gives) rather than ``--emulator``, which forgets everything at exit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from omnisend_sdk import Connection, ExportDefinition
from omnisend_sdk.export._journal import journal_path
from omnisend_sdk.export._lock import RunLock
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.testing import OmnisendEmulator
from tests import test_cli
from tests.test_cli import SECRET, run

#: test_cli's autouse fixture, so that no key, URL or state of the developer's machine gets in.
isolated_env = test_cli.isolated_env

SEGMENT = "VIP customers"
TAG = SEGMENT  # the segment's name is its tag by default
MEMBERS = (("ann@example.com", "Ann"), ("bob@example.com", "Bob"), ("cy@example.com", "Cy"))


class Store(NamedTuple):
    emulator: OmnisendEmulator
    url: str


class Result(NamedTuple):
    status: int
    out: str
    err: str
    report: dict[str, Any] | None


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An Omnisend store that keeps its contacts from one run to the next, as the real one does."""
    emulator = OmnisendEmulator(time_scale=60, api_keys=(SECRET,))
    monkeypatch.setenv("OMNISEND_API_KEY", SECRET)
    # Clients built from the environment look at a batch 1 s after sending it, then less often;
    # poll sooner, since the emulator runs 60x faster.
    monkeypatch.setattr("omnisend_sdk.export._engine.FIRST_POLLS_PER_WINDOW", 600)
    with emulator.serve() as url:
        yield Store(emulator, url)


def write_rows(path: Path, rows: tuple[tuple[str, str], ...]) -> Path:
    lines = ["EmailAddress,FirstName", *(f"{email},{name}" for email, name in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def definition(tmp_path: Path) -> Path:
    """A saved definition, as a user keeps it in version control: it names its connection."""
    return ExportDefinition(
        name="vip-nightly",
        connection="prod",
        segment=SEGMENT,
        source=str(write_rows(tmp_path / "vip.csv", MEMBERS)),
        mapping=ContactMapping(email="EmailAddress", first_name="FirstName"),
    ).save(tmp_path / "vip.toml")


def invoke(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path, *extra: str
) -> Result:
    """``run DEFINITION`` against the store, with the report it wrote (if it got that far)."""
    report_path = definition.with_name("report.json")
    report_path.unlink(missing_ok=True)
    options = ["--base-url", store.url, "--report", str(report_path), *extra]
    status, out, err = run(capsys, "run", str(definition), *options)
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    return Result(status, out, err, report)


def writes(store: Store) -> int:
    """Requests that could change anything in the store."""
    return sum(1 for request in store.emulator.requests if request.method != "GET")


def tags_of(store: Store, email: str) -> list[str]:
    """The contact's tags once Omnisend has applied every accepted change (it does so later)."""
    store.emulator.run_until_idle()
    return next(c["tags"] for c in store.emulator.contacts() if c["email"] == email)


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


# --- a refresh: the second run sends only what changed --------------------------------------------


def test_second_run_is_a_refresh_that_sends_nothing_unchanged(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path
) -> None:
    first = invoke(capsys, store, definition)
    assert first.status == 0, first.err
    assert first.report is not None
    assert (first.report["refresh"], first.report["exported"]) == (False, 3)
    assert last_line(first.err) == "omnisend-export: all 3 rows exported"
    sent = writes(store)

    second = invoke(capsys, store, definition)

    assert second.status == 0, second.err
    assert second.report is not None
    counts = {k: second.report[k] for k in ("refresh", "unchanged", "exported", "batches")}
    assert counts == {"refresh": True, "unchanged": 3, "exported": 0, "batches": 0}
    assert "new 0, changed 0, unchanged 3 (not sent)" in second.out
    assert last_line(second.err) == (
        "omnisend-export: refresh: 0 new or changed of 3 rows exported, 3 unchanged, 0 left"
    )
    assert writes(store) == sent


def test_full_resends_every_member(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path
) -> None:
    assert invoke(capsys, store, definition).status == 0

    full = invoke(capsys, store, definition, "--full")

    assert full.status == 0, full.err
    assert full.report is not None
    counts = {k: full.report[k] for k in ("new", "changed", "unchanged", "exported")}
    assert counts == {"new": 0, "changed": 3, "unchanged": 0, "exported": 3}


# --- the shrink guard: exit 3, nothing sent, unless --allow-shrink --------------------------------


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (MEMBERS[:1], "refresh refused: 2 of 3 members (67%) would leave; nothing was sent."),
        ((), "refresh refused: the source gave no rows, which would remove all 3 members;"),
    ],
    ids=["two-of-three-leave", "empty-source"],
)
def test_a_refused_shrink_exits_3_and_allow_shrink_goes_ahead(
    capsys: pytest.CaptureFixture[str],
    store: Store,
    definition: Path,
    tmp_path: Path,
    rows: tuple[tuple[str, str], ...],
    reason: str,
) -> None:
    assert invoke(capsys, store, definition).status == 0
    shrunk = str(write_rows(tmp_path / "shrunk.csv", rows))
    sent = writes(store)

    refused = invoke(capsys, store, definition, "--source", shrunk)

    assert refused.status == 3
    assert (refused.out, refused.report) == ("", None)
    assert refused.err.count("\n") == 1  # one line, no traceback
    assert refused.err.startswith(f"omnisend-export: {reason}")
    assert "--allow-shrink" in refused.err
    assert writes(store) == sent
    assert TAG in tags_of(store, "bob@example.com")

    # An empty source is never a plain success: it exits 5 unless --allow-empty says it may be.
    also = () if rows else ("--allow-empty",)
    allowed = invoke(capsys, store, definition, "--source", shrunk, "--allow-shrink", *also)

    assert allowed.status == 0, allowed.err
    assert allowed.report is not None
    leavers = 3 - len(rows)
    assert (allowed.report["exited"], allowed.report["untagged"]) == (leavers, leavers)
    assert TAG not in tags_of(store, "bob@example.com")


def test_a_flag_wins_over_the_definitions_option(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path, tmp_path: Path
) -> None:
    lenient = ExportDefinition.load(definition)
    lenient = ExportDefinition.from_dict(lenient.to_dict() | {"options": {"max_exit_share": 0.9}})
    lenient.save(definition)
    assert invoke(capsys, store, definition).status == 0
    shrunk = str(write_rows(tmp_path / "shrunk.csv", MEMBERS[:2]))  # 1 of 3 leaves: 33%

    assert invoke(capsys, store, definition, "--source", shrunk, "--max-exit-share", "0.1")[0] == 3
    assert invoke(capsys, store, definition, "--source", shrunk).status == 0  # 33% < 90%


# --- one run at a time: exit 4 --------------------------------------------------------------------


def test_a_locked_export_exits_4_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path, isolated_env: Path
) -> None:
    state = journal_path(isolated_env, SEGMENT, Connection("prod", SECRET, base_url=store.url))

    with RunLock(state, holder="the nightly run on host-a"):
        locked = invoke(capsys, store, definition)

    assert locked.status == 4
    assert (locked.out, locked.report) == ("", None)
    assert locked.err.count("\n") == 1
    assert locked.err.startswith(
        "omnisend-export: ExportLockedError: another run of this export is under way "
        "(the nightly run on host-a)"
    )
    assert writes(store) == 0
    assert invoke(capsys, store, definition).status == 0  # the lock went with its holder


# --- dry run, usage errors, the key ---------------------------------------------------------------


def test_dry_run_sends_nothing(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path
) -> None:
    dry = invoke(capsys, store, definition, "--dry-run")

    assert dry.status == 0, dry.err
    assert dry.out.startswith(f"Dry run of segment {SEGMENT!r}")
    assert last_line(dry.err) == "omnisend-export: all 3 rows would be exported"
    assert writes(store) == 0
    assert store.emulator.contacts() == []


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["{dir}/missing.toml"], "no export definition {dir}/missing.toml"),
        (["{dir}/vip.txt"], "an export definition file must end in .toml or .json"),
        (["{no_source}"], "export 'vip-nightly' has no source: add  source = "),
        (["{definition}", "--source", "{dir}/gone.csv"], "no segment file {dir}/gone.csv"),
        (["{definition}", "--max-exit-share", "1.5"], "max_exit_share must be a share"),
        (
            ["{definition}", "--on-exit", "delete"],
            "argument --on-exit: invalid choice (choose from",
        ),
    ],
    ids=["no-file", "not-toml-or-json", "no-source", "no-segment-file", "bad-share", "on-exit"],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    store: Store,
    definition: Path,
    argv: list[str],
    reason: str,
) -> None:
    folder = definition.parent
    (folder / "vip.txt").write_text("name = 'x'\n", encoding="utf-8")
    saved = ExportDefinition.load(definition)
    no_source = ExportDefinition.from_dict(saved.to_dict() | {"source": None})
    places = {
        "dir": folder,
        "definition": definition,
        "no_source": no_source.save(folder / "no-source.json"),
    }

    status, out, err = run(
        capsys, "run", *(arg.format(**places) for arg in argv), "--base-url", store.url
    )

    assert status == 2
    assert out == ""
    assert reason.format(**places) in err
    assert writes(store) == 0


def test_run_without_a_key_exits_2(capsys: pytest.CaptureFixture[str], definition: Path) -> None:
    status, _, err = run(capsys, "run", str(definition))
    assert status == 2
    assert err == "omnisend-export: no API key: set OMNISEND_API_KEY or pass --key-file PATH\n"


def test_the_key_never_appears_in_output_reports_or_state(
    capsys: pytest.CaptureFixture[str],
    store: Store,
    definition: Path,
    tmp_path: Path,
    isolated_env: Path,
) -> None:
    issues = tmp_path / "issues.csv"
    results = [
        invoke(capsys, store, definition, "--issues", str(issues)),
        invoke(capsys, store, definition, "--omnisend-segment"),
        invoke(capsys, store, definition, "--source", str(write_rows(tmp_path / "e.csv", ()))),
    ]
    assert [result.status for result in results] == [0, 0, 3]

    written = [issues, *isolated_env.rglob("*")]
    texts = [r.out + r.err + json.dumps(r.report) for r in results]
    texts += [path.read_bytes().decode("latin-1") for path in written if path.is_file()]
    assert all(SECRET not in text for text in texts)


# --- plan: the refresh diff, nothing sent ---------------------------------------------------------


def plan_counts(out: str) -> dict[str, int]:
    """The plan's table as {label: count}, for the lines that end in a count."""
    counts = {}
    for line in out.splitlines():
        label, _, value = line.rpartition(" ")
        if value.replace(",", "").isdigit():
            counts[label.strip()] = int(value.replace(",", ""))
    return counts


def test_plan_with_a_segment_shows_what_a_refresh_would_send(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path, tmp_path: Path
) -> None:
    assert invoke(capsys, store, definition).status == 0
    sent = writes(store)
    # ann as before, bob renamed, cy gone, dan new.
    source = write_rows(
        tmp_path / "next.csv",
        (MEMBERS[0], ("bob@example.com", "Robert"), ("dan@example.com", "Dan")),
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('email = "EmailAddress"\nfirst_name = "FirstName"\n', encoding="utf-8")

    status, out, _ = run(
        capsys, "plan", str(source), "--mapping", str(mapping), "--segment", SEGMENT,
        "--base-url", store.url,
    )  # fmt: skip

    assert status == 0
    counts = plan_counts(out)
    diff = {k: counts[k] for k in ("to send", "new", "changed", "unchanged", "leaving")}
    assert diff == {"to send": 2, "new": 1, "changed": 1, "unchanged": 1, "leaving": 1}
    assert writes(store) == sent


def test_plan_with_a_segment_needs_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "vip.csv", MEMBERS)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('email = "EmailAddress"\n', encoding="utf-8")
    status, _, err = run(capsys, "plan", str(source), "--mapping", str(mapping), "--segment", "S")
    assert status == 2
    assert err == "omnisend-export: no API key: set OMNISEND_API_KEY or pass --key-file PATH\n"


def test_an_empty_source_exits_5_unless_allowed(
    capsys: pytest.CaptureFixture[str], store: Store, definition: Path, tmp_path: Path
) -> None:
    empty = str(write_rows(tmp_path / "empty.csv", ()))

    first = invoke(capsys, store, definition, "--source", empty)
    allowed = invoke(capsys, store, definition, "--source", empty, "--allow-empty")

    assert first.status == 5
    assert first.report is not None
    assert first.report["status"] == "empty"
    assert "the source gave no rows" in first.err
    assert allowed.status == 0
