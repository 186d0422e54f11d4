"""Running the async engine from sync code, including inside a running event loop (Jupyter)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


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
