"""``python -m omnisend_sdk.testing serve``: run the emulator as a loopback server.

The first line of standard output is the base URL (flushed at once, so a parent process can read
it); the server stops cleanly on SIGINT (Ctrl-C) or SIGTERM and exits with status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._auth import EMULATOR_API_KEY
from ._emulator import OmnisendEmulator
from ._faults import FaultPlan, Latency
from ._ratelimit import RateLimits


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        allow_abbrev=False,
        description="A stateful Omnisend API emulator (version 2026-03-15).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator on a loopback HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    serve.add_argument("--path", default="/api", help="base path printed in the URL (default /api)")
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="emulator seconds per real second (default 1)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help=f"accepted API key, repeatable (default {EMULATOR_API_KEY})",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed for ids and item order")
    serve.add_argument(
        "--rate-limit-headers",
        action="store_true",
        help="send X-Rate-Limit-* headers on every answer",
    )
    serve.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="added response time in real seconds, as a network would add (default 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m omnisend_sdk.testing") -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: The arguments after the program name; defaults to ``sys.argv[1:]``.
        prog: How the command was called, for usage lines (``omnisend-export emulator`` when
            the SDK's command line hands over to this one).
    """
    args = _parser(prog).parse_args(argv)
    emulator = OmnisendEmulator(
        api_keys=args.api_keys or (EMULATOR_API_KEY,),
        time_scale=args.time_scale,
        rate_limits=RateLimits(headers=args.rate_limit_headers),
        faults=FaultPlan(latency=Latency.fixed(args.latency)) if args.latency > 0 else None,
        seed=args.seed,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with emulator.serve(host=args.host, port=args.port, path=args.path) as url:
            print(url, flush=True)
            while not stop.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("omnisend emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
