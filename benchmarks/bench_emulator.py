"""Emulator benchmark: the CPU the Omnisend emulator spends per contact stored through batches.

Run from the repository root::

    python benchmarks/bench_emulator.py                      # 200,000 contacts, in-process
    python benchmarks/bench_emulator.py --contacts 50000 --tags --items
    python benchmarks/bench_emulator.py --via loopback       # a real server in a child process
    python benchmarks/bench_emulator.py --profile 20         # cProfile, the 20 costliest functions

What is measured (in-process, the main figure): ``time.process_time()`` spent inside the emulator
only, i.e. in ``EmulatorTransport.handle_request`` (the httpx transport the SDK's tests use: route,
authenticate, rate-limit, decode the JSON body, handle, encode the JSON answer) and in
``OmnisendEmulator.advance``/``run_until_idle`` (the asynchronous batch processing: every item
validated and upserted as ``POST /contacts`` would be, its answer recorded). Nothing of the client
side is counted: the contacts come from the synthetic segment (``_segment_gen``) through the SDK's
mapper, deduplicated, and are encoded into ``POST /batches`` bodies of 100 with the SDK's own
``encode_batch``, all before the clock starts; the ``httpx.Request`` objects are built outside the
measured spans too.

The traffic is what an export sends: one ``POST /batches`` per 100 contacts, one
``GET /batches/{id}`` poll per batch (once it is finished), and with ``--tags`` one
``POST /contacts/tags`` per 250 emails adding the segment tag. The emulator runs on a
``ManualClock`` that moves forward after every request by a bit more than the rate limit's spacing
(0.2 s for the 400 a minute of batches, 1.25 s for the 60 a minute of tags), so the limits are
enforced but never bind, and batches finish on their own (emulated) schedule.

Printed, in microseconds of CPU per contact stored:

- batches: ingest (the POSTs and polls), processing (the items), and their sum, the headline;
- with ``--items``: reading every batch's ``GET /batches/{id}/items`` (the engine's detailed mode);
- with ``--tags``: the tag calls, their acceptance and their application.

Then it checks the work happened: the emulator created one contact per body sent, every batch
finished without errors, sampled contacts hold what was sent, and (``--tags``) a tag-rule segment
counts every contact.

``--via loopback`` runs ``python -m omnisend_sdk.testing serve`` in a child process (its clock
``--time-scale`` times faster than real time) and reads the child's CPU time (user + system, from
``/proc``; Linux only) around the same traffic sent over real HTTP: that includes the stdlib HTTP
server's own work, and the child's idle wake-ups.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import _segment_gen  # noqa: E402
from bench_export import EmulatorServer  # noqa: E402

from omnisend_sdk import _json  # noqa: E402
from omnisend_sdk._batches import encode_batch  # noqa: E402
from omnisend_sdk.mapping import RowMapper  # noqa: E402
from omnisend_sdk.mapping._dedupe import keep_first  # noqa: E402
from omnisend_sdk.testing import ManualClock, OmnisendEmulator  # noqa: E402

BATCH_SIZE = 100  # items per POST /batches in version 2026-03-15
TAG_CHUNK = 250  # emails per POST /contacts/tags
TAG = "Benchmark"
# Emulator seconds between two requests: a bit slower than 400 (batches) and 60 (tags) a minute.
BATCH_STEP = 0.2
TAG_STEP = 1.25
# A batch is polled this many batches after it was posted: it has finished by then (a batch takes
# about 2 emulator seconds; 10 batches of a POST and a poll at 0.2 s each are 4 s).
POLL_LAG = 10
SAMPLE = 200  # contacts compared with their bodies at the end
BASE_URL = "https://api.omnisend.com/api"
HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "omnisend-sdk-python/bench",
}

T = TypeVar("T")


@attrs.frozen
class Workload:
    """What is sent, encoded before anything is measured."""

    bodies: list[dict[str, Any]]  # every contact body, in sending order
    batches: list[bytes]  # POST /batches bodies, BATCH_SIZE contacts each (the last may be less)
    tag_calls: list[bytes]  # POST /contacts/tags bodies, TAG_CHUNK emails each

    @property
    def contacts(self) -> int:
        return len(self.bodies)


def build_workload(contacts: int) -> Workload:
    """Map synthetic rows until ``contacts`` distinct, valid contacts, and encode their calls."""
    mapper = RowMapper.bind(_segment_gen.MAPPING, _segment_gen.COLUMNS)
    # The segment's defects (2% of rows) are rejected; a margin of rows covers them.
    rows = _segment_gen.rows(contacts + contacts // 10 + 100)
    mapped = keep_first(mapper.map(number, values) for number, values in enumerate(rows))
    bodies: list[dict[str, Any]] = []
    for row in mapped:
        body = row.to_json()
        if body is not None:
            bodies.append(body)
            if len(bodies) == contacts:
                break
    if len(bodies) < contacts:
        raise SystemExit(f"the segment generator gave only {len(bodies):,} valid contacts")
    batches = [encode_batch(chunk, "2026-03-15") for chunk in _chunks(bodies, BATCH_SIZE)]
    emails = [body["identifiers"][0]["id"] for body in bodies]
    tag_calls = [
        _json.dumps({"tags": [TAG], "emails": chunk}) for chunk in _chunks(emails, TAG_CHUNK)
    ]
    return Workload(bodies, batches, tag_calls)


def _chunks(values: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _request(method: str, path: str, body: bytes | None = None) -> httpx.Request:
    headers = {**HEADERS, "Authorization": "Omnisend-API-Key test-key"}
    headers["Omnisend-Version"] = "2026-03-15"
    if body is None:
        del headers["Content-Type"]
    return httpx.Request(method, BASE_URL + path, content=body, headers=headers)


class Stopwatch:
    """CPU seconds of this process, summed over the measured spans only."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def run(self, work: Callable[[], T]) -> T:
        started = time.process_time()
        try:
            return work()
        finally:
            self.seconds += time.process_time() - started


@attrs.define
class Figures:
    """CPU seconds per phase, and what the checks counted."""

    ingest: float = 0.0
    processing: float = 0.0
    items: float | None = None
    tags: float | None = None
    requests: int = 0


def run_in_process(work: Workload, *, items: bool, tags: bool) -> tuple[Figures, OmnisendEmulator]:
    """Send the workload through the emulator's httpx transport; time the emulator only."""
    clock = ManualClock()
    emulator = OmnisendEmulator(clock=clock, seed=1, api_keys=["test-key"])
    transport = emulator.transport()
    ingest, processing = Stopwatch(), Stopwatch()
    batch_ids: list[str] = []

    def send(watch: Stopwatch, request: httpx.Request, expected: int) -> Any:
        response = watch.run(lambda: transport.handle_request(request))
        assert response.status_code == expected, response.text
        return response.json() if response.content else None

    def poll(batch_id: str) -> None:
        batch = send(ingest, _request("GET", f"/batches/{batch_id}"), 200)
        assert batch["status"] == "finished", batch
        assert batch["errorsCount"] == 0, batch
        processing.run(lambda: emulator.advance(BATCH_STEP))

    gc.collect()
    gc.freeze()  # the workload is the client's: keep it out of the emulator's collections
    for number, body in enumerate(work.batches):
        answer = send(ingest, _request("POST", "/batches", body), 201)
        batch_ids.append(answer["batchID"])
        processing.run(lambda: emulator.advance(BATCH_STEP))
        if number >= POLL_LAG:
            poll(batch_ids[number - POLL_LAG])
    processing.run(emulator.run_until_idle)
    for batch_id in batch_ids[-POLL_LAG:]:
        poll(batch_id)
    figures = Figures(ingest.seconds, processing.seconds, requests=2 * len(batch_ids))

    if items:
        reading = Stopwatch()
        for batch_id in batch_ids:
            answer = send(reading, _request("GET", f"/batches/{batch_id}/items"), 200)
            assert len(answer["responses"]) == BATCH_SIZE or batch_id == batch_ids[-1]
            reading.run(lambda: emulator.advance(BATCH_STEP))
        figures.items = reading.seconds
        figures.requests += len(batch_ids)

    if tags:
        tagging = Stopwatch()
        for body in work.tag_calls:
            send(tagging, _request("POST", "/contacts/tags", body), 202)
            tagging.run(lambda: emulator.advance(TAG_STEP))
        tagging.run(emulator.run_until_idle)
        figures.tags = tagging.seconds
        figures.requests += len(work.tag_calls)
    gc.unfreeze()
    return figures, emulator


def check_in_process(work: Workload, emulator: OmnisendEmulator, *, tags: bool) -> int:
    """Prove the work happened; returns the contacts the emulator created."""
    created = emulator.stats.contacts_created
    assert created == work.contacts, (created, work.contacts)
    assert emulator.stats.contacts_updated == 0
    for body in itertools.islice(work.bodies, 0, None, max(work.contacts // SAMPLE, 1)):
        stored = emulator.contact(body["identifiers"][0]["id"])
        assert stored is not None, body
        for name, value in body.items():
            if name != "identifiers":
                assert stored[name] == value, (name, stored, body)
        assert stored["tags"] == ([TAG] if tags else [])
    if tags:
        rule = {"operator": "anyOf", "property": "tags", "value": [TAG]}
        segment = emulator.add_segment(
            {
                "name": TAG,
                "conditionGroups": [
                    {"conditions": [{"entity": "contact", "junction": "and", "filters": [rule]}]}
                ],
            }
        )
        emulator.run_until_idle()
        assert emulator.segment_contacts_count(segment["segmentID"]) == work.contacts
    return created


# -- loopback ----------------------------------------------------------------------------------


def run_loopback(work: Workload, *, items: bool, tags: bool, time_scale: float) -> Figures:
    """The same traffic over real HTTP; the server process's CPU is the figure."""
    figures = Figures()
    headers = {**HEADERS, "Authorization": "Omnisend-API-Key test-key"}
    headers["Omnisend-Version"] = "2026-03-15"
    with (
        EmulatorServer(time_scale=time_scale, api_key="test-key") as server,
        httpx.Client(base_url=server.url, headers=headers, verify=False, timeout=30) as http,
    ):

        def send(method: str, path: str, body: bytes | None = None) -> Any:
            while True:
                response = http.request(method, path, content=body)
                figures.requests += 1
                if response.status_code != 429:
                    response.raise_for_status()
                    return response.json() if response.content else None
                time.sleep(float(response.json()["retryAfter"]))

        def finished(batch_id: str) -> None:
            while (batch := send("GET", f"/batches/{batch_id}"))["status"] != "finished":
                time.sleep(2.0 / time_scale)
            assert batch["errorsCount"] == 0, batch

        started = server.cpu_seconds()
        batch_ids = []
        for number, body in enumerate(work.batches):
            batch_ids.append(send("POST", "/batches", body)["batchID"])
            if number >= POLL_LAG:
                finished(batch_ids[number - POLL_LAG])
        for batch_id in batch_ids[-POLL_LAG:]:
            finished(batch_id)
        figures.ingest = server.cpu_seconds() - started
        if items:
            started = server.cpu_seconds()
            for batch_id in batch_ids:
                send("GET", f"/batches/{batch_id}/items")
            figures.items = server.cpu_seconds() - started
        if tags:
            started = server.cpu_seconds()
            for body in work.tag_calls:
                send("POST", "/contacts/tags", body)
            # Tag changes apply 2 emulator seconds later, when a request comes: send one then.
            time.sleep(3.0 / time_scale)
            send("GET", f"/batches/{batch_ids[-1]}")
            figures.tags = server.cpu_seconds() - started
        # A sample of contacts, looked up after the measurement.
        for sent in work.bodies[:: max(work.contacts // SAMPLE, 1)]:
            email = sent["identifiers"][0]["id"]
            found = http.get("/contacts", params={"email": email}).json()["contacts"]
            assert [contact["email"] for contact in found] == [email], (email, found)
            assert found[0]["tags"] == ([TAG] if tags else []), found
    return figures


# -- reporting ---------------------------------------------------------------------------------


def report(work: Workload, figures: Figures, *, loopback: bool) -> None:
    def per_contact(seconds: float) -> str:
        return f"{seconds / work.contacts * 1e6:8.1f} µs/contact"

    print(f"contacts stored: {work.contacts:,} in {len(work.batches):,} batches")
    if loopback:
        print(f"  batches (server process: POSTs, polls, processing) {per_contact(figures.ingest)}")
    else:
        print(f"  batches: ingest (POST + poll)   {per_contact(figures.ingest)}")
        print(f"  batches: processing (items)     {per_contact(figures.processing)}")
        total = figures.ingest + figures.processing
        print(f"  batches: total                  {per_contact(total)}   <- headline")
    if figures.items is not None:
        print(f"  GET /batches/{{id}}/items        {per_contact(figures.items)}")
    if figures.tags is not None:
        calls = len(work.tag_calls)
        print(f"  tags ({calls:,} calls of {TAG_CHUNK})       {per_contact(figures.tags)}")
    print(f"  requests sent: {figures.requests:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000, help="contacts to store")
    parser.add_argument("--tags", action="store_true", help="also tag them via /contacts/tags")
    parser.add_argument("--items", action="store_true", help="also read every batch's items")
    parser.add_argument("--via", choices=("transport", "loopback"), default="transport")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1000.0,
        help="loopback only: emulator seconds per real second (default 1000)",
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="in-process only: cProfile, print the top N"
    )
    args = parser.parse_args()

    began = time.perf_counter()
    work = build_workload(args.contacts)
    print(
        f"Python {sys.version.split()[0]}; workload built in {time.perf_counter() - began:.1f} s "
        "(not measured)"
    )
    if args.via == "loopback":
        figures = run_loopback(work, items=args.items, tags=args.tags, time_scale=args.time_scale)
        report(work, figures, loopback=True)
        return
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    figures, emulator = run_in_process(work, items=args.items, tags=args.tags)
    if profiler is not None:
        profiler.disable()
    check_in_process(work, emulator, tags=args.tags)
    report(work, figures, loopback=False)
    if profiler is not None:
        print("(figures above include the profiler's overhead)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
