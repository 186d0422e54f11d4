"""Running the async engine from sync code, including inside a running event loop (Jupyter)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]], cancel: threading.Event) -> T:
    """Run a coroutine to completion from sync code.

    Without a running loop this is ``asyncio.run``. Inside one (a notebook cell), the coroutine
    runs on its own loop in a worker thread: ``asyncio.run`` cannot nest, and blocking the
    notebook's loop from within would deadlock it. A Ctrl-C while waiting sets ``cancel``, so the
    export stops cleanly and its partial result is still returned.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="omnisend-export-loop") as worker:
        future = worker.submit(asyncio.run, make())
        while True:
            try:
                return future.result()
            except KeyboardInterrupt:
                cancel.set()  # then keep waiting: the engine settles and returns its report


@contextlib.contextmanager
def holding_ctrl_c() -> Iterator[None]:
    """Hold off Ctrl-C while the block runs: for the moment a stopped export makes its report.

    The first Ctrl-C stops the export; an impatient second one landing while the report is
    made would lose it, and the user would see a traceback instead of what was done. The
    export is stopping already, so a Ctrl-C in the block is dropped. Only the main thread
    receives signals; elsewhere (a notebook's export thread) there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler Python did not install: it could not be put back
        yield
        return

    def ignore(signum: int, frame: FrameType | None) -> None:
        return

    signal.signal(signal.SIGINT, ignore)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def blocking(
    coroutine_function: Callable[P, Coroutine[Any, Any, T]], *, doc: str
) -> Callable[P, T]:
    """The sync twin of an async function: same parameters (for type checkers too), own docs.

    Written once, so a sync entry point cannot drift from its async original.
    """

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(lambda: coroutine_function(*args, **kwargs), threading.Event())

    call.__name__ = call.__qualname__ = coroutine_function.__name__.removesuffix("_async")
    call.__module__ = coroutine_function.__module__
    call.__doc__ = doc
    call.__signature__ = inspect.signature(coroutine_function)  # type: ignore[attr-defined]
    return call
