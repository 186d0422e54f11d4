"""The export's files on the local disk: private, and failing with a clear error.

An export keeps its state (journal, members, lock) in the state directory. Two things matter here:

- **Privacy.** The state names every member of the segment, so every file is owner-only (0600) in
  owner-only directories (0700), whatever the umask and whatever an older version left behind.
- **Failing clearly.** A full disk, a read-only directory or a damaged file surfaces from SQLite
  or the OS as a bare ``sqlite3.OperationalError`` or ``OSError`` in the middle of a traceback.
  Each becomes an :class:`ExportStateError` naming the file and the cause, raised at once: an
  export that cannot record its steps must stop, not carry on (or hang) with a journal that no
  longer tells the truth. Every step is recorded atomically, so what was recorded before the
  failure still resumes exactly.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._state import DIR_MODE, FILE_MODE, make_private_dirs

if TYPE_CHECKING:
    from omnisend_sdk.export._report import ExportReport


class ExportStateError(ConfigurationError):
    """The export's state on the local disk cannot be written or read (a full disk...).

    What was recorded before the failure stays valid: free the space (or point ``state_dir``
    elsewhere) and run the same export again to resume it.

    Attributes:
        summary: What failed, in one phrase (without the advice).
        path: The file or directory that failed.
        cause: What the operating system or SQLite said, in words.
        report: The report of the run up to the failure, when the export had started sending.
    """

    def __init__(
        self, path: Path, cause: str, *, doing: str = "write", what: str = "the export's state"
    ) -> None:
        self.summary = f"cannot {doing} {what} {path}: {cause}"
        super().__init__(
            f"{self.summary}. Nothing recorded so far is lost: free some space (or use "
            "another state directory) and run the same export again to resume it"
        )
        self.path = path
        self.cause = cause
        self.report: ExportReport | None = None


def _cause(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


@contextlib.contextmanager
def state_errors(
    path: Path, *, doing: str = "write", what: str = "the export's state"
) -> Iterator[None]:
    """Turn the disk's failures under this block into an :class:`ExportStateError` on ``path``.

    SQLite's programming and integrity errors are bugs, not the disk's: they pass unchanged.
    """
    try:
        yield
    except ExportStateError:
        raise
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except (sqlite3.DatabaseError, OSError) as error:
        raise ExportStateError(path, _cause(error), doing=doing, what=what) from error


def private_directory(directory: Path, *, top: Path | None = None) -> None:
    """Make ``directory`` exist, owner-only, with every level the SDK owns.

    Every level this call creates is owner-only (``mkdir(parents=True)`` would give the levels
    above the last the umask's mode, often 0755). ``top`` is the state directory: the levels
    below it are the SDK's alone, so their mode is also repaired when an older version (or a
    hand) loosened it. ``top`` itself and the levels above it may be the user's: left as they
    are when they exist.
    """
    levels = [directory, *directory.parents]
    ours = levels[: levels.index(top)] if top is not None and top in levels else []
    with state_errors(directory, doing="create"):
        make_private_dirs(directory)
        for level in ours:
            os.chmod(level, DIR_MODE)


def private_file(path: Path, *, top: Path | None = None) -> None:
    """Make ``path`` exist, owner-only (0600), in owner-only directories (see above).

    SQLite creates its ``-wal`` and ``-shm`` files with the database's mode, so the mode must be
    right before SQLite opens the file.
    """
    private_directory(path.parent, top=top)
    with state_errors(path, doing="create"):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
        os.chmod(path, FILE_MODE)  # an existing file from an older version, or an odd umask


def connect(database: str) -> sqlite3.Connection:
    """Open a state database (autocommit: the journal opens its own transactions).

    The one place the journal's connection is made: tests replace it to make a chosen write
    fail, as a disk that fills up mid-export would.
    """
    return sqlite3.connect(database, isolation_level=None)


class StateCursor:
    """A cursor whose reads report the disk's failures as :class:`ExportStateError`."""

    def __init__(self, cursor: sqlite3.Cursor, path: Path) -> None:
        self._cursor = cursor
        self._path = path

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    def fetchone(self) -> Any:
        with state_errors(self._path, doing="read"):
            return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        with state_errors(self._path, doing="read"):
            return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        while True:
            with state_errors(self._path, doing="read"):
                found = self._cursor.fetchmany(1_000)
            if not found:
                return
            yield from found


class StateDatabase:
    """The state's SQLite connection: every failure of the file becomes an ExportStateError.

    Args:
        path: The SQLite file; ``None`` keeps everything in memory.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path or Path(":memory:")
        with state_errors(self.path, doing="open"):
            self._db = connect(str(path) if path is not None else ":memory:")

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, parameters: Any = ()) -> StateCursor:
        with state_errors(self.path):
            return StateCursor(self._db.execute(sql, parameters), self.path)

    def executemany(self, sql: str, parameters: Iterable[Any]) -> None:
        with state_errors(self.path):
            self._db.executemany(sql, parameters)

    def blobopen(self, table: str, column: str, row: int) -> sqlite3.Blob:
        """A BLOB of the database, open for reading and writing in place."""
        with state_errors(self.path):
            return self._db.blobopen(table, column, row)

    def executescript(self, script: str) -> None:
        with state_errors(self.path):
            self._db.executescript(script)

    def close(self) -> None:
        # Closing never fails for lack of space; a failure here has nothing left to lose.
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
