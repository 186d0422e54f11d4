"""One run at a time for each export state: a lock file beside the state's SQLite file.

Two runs of the same refresh at once would each send the rows the other is sending and race to
record them. The operating system's file lock is released when its holder exits, however it
exits (even ``kill -9``), so a crashed run never leaves the export locked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from omnisend_sdk._errors import OmnisendError
from omnisend_sdk.export._storage import private_file, state_errors


class ExportLockedError(OmnisendError):
    """Another run of the same export (same store and segment) is under way."""


class RunLock:
    """Holds ``<state file>.lock`` exclusively for one run; refuses at once if another holds it.

    Use as a context manager. The lock file stays (removing it would race with the next run);
    it records who holds it, for the error message.
    """

    def __init__(self, state_file: Path, *, holder: str) -> None:
        self.path = state_file.with_name(state_file.name + ".lock")
        self._holder = holder
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        # It names who runs the export: owner-only, like all state, even if an older version
        # left it readable.
        private_file(self.path)
        with state_errors(self.path, doing="open"):
            fd = os.open(self.path, os.O_RDWR)
        if not _try_lock(fd):
            who = _holder_of(fd)
            os.close(fd)
            raise ExportLockedError(
                f"another run of this export is under way ({who}); it is locked by {self.path}. "
                "Wait for it to finish: two runs at once would send the same contacts twice"
            )
        try:
            with state_errors(self.path):  # a full disk: say so, and never keep the lock
                os.ftruncate(fd, 0)
                os.write(fd, self._holder.encode())
        except BaseException:
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _holder_of(fd: int) -> str:
    try:
        return os.read(fd, 512).decode(errors="replace").strip() or "another process"
    except OSError:  # Windows refuses to read a locked region
        return "another process"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
