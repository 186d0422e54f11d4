"""The state directory: where the SDK keeps what must outlive one process, and how it writes there.

Privacy acknowledgements and export journals live under one directory per user (or per pipeline,
with ``$OMNISEND_SDK_STATE_DIR``). Everything written there names people or keys (by fingerprint),
so it is readable by its owner only, and a record is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

#: Where the SDK keeps state between runs (privacy acknowledgements, export journals).
ENV_STATE_DIR: Final = "OMNISEND_SDK_STATE_DIR"
#: The state directory when ``OMNISEND_SDK_STATE_DIR`` is not set, under the user's home.
DEFAULT_STATE_DIR_NAME: Final = ".omnisend_sdk"
#: Owner-only: the files name people and keys (by fingerprint), nobody else needs to read them.
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700


def default_state_dir() -> Path:
    """The state directory: ``$OMNISEND_SDK_STATE_DIR``, else ``~/.omnisend_sdk``."""
    configured = os.environ.get(ENV_STATE_DIR, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / DEFAULT_STATE_DIR_NAME


def state_dir_or_default(state_dir: str | os.PathLike[str] | None) -> Path:
    """``state_dir`` as a path (``~`` expanded) when given, else :func:`default_state_dir`."""
    return Path(state_dir).expanduser() if state_dir else default_state_dir()


def make_private_dirs(directory: Path) -> None:
    """Make ``directory`` exist; every level this call creates is owner-only.

    ``mkdir(parents=True)`` gives the levels above the last the umask's mode (often 0755), so
    a state directory made on the way to its first file would be readable by all. Levels that
    exist already are left as they are: they may be the user's own.
    """
    missing = []
    level = directory
    while not level.is_dir():
        missing.append(level)
        if level.parent == level:
            break
        level = level.parent
    for level in reversed(missing):
        level.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(level, DIR_MODE)  # mkdir's mode passes through the umask


def create_private(path: Path) -> None:
    """Make sure ``path`` exists, readable by its owner only, in an owner-only directory.

    For files other programs write (SQLite creates its ``-wal`` and ``-shm`` files with the
    database's mode), the mode must be set before they open it.
    """
    make_private_dirs(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    os.chmod(path, FILE_MODE)  # an existing file from an older version, or an odd umask


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a crash mid-write never leaves half a record behind."""
    make_private_dirs(path.parent)
    # mkstemp creates the file with mode 0600 already; chmod again in case of an odd umask/OS.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
