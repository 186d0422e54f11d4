"""Rows straight from a database: a SQLAlchemy URL and a query, for the command line and cron.

``sqlite:///crm.db``, ``postgresql://user:password@host/db`` and any other SQLAlchemy URL go
through SQLAlchemy (the ``sql`` extra), with the result streamed from the server rather than
fetched whole. ``duckdb:///lake.duckdb`` goes straight to DuckDB (the ``duckdb`` extra), whose
own cursor streams, so no SQLAlchemy dialect package is needed for it; its query string sets
DuckDB's own settings (``duckdb:///lake.duckdb?threads=1&memory_limit=1GB``).

The URL may hold a password: every message shows the URL masked, and a database's own error text
is scrubbed of it too.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any, Final

from omnisend_sdk.sources._base import SourceError, optional_module

#: ``scheme://user:password@host``: the password is what sits between the user's colon and "@".
_PASSWORD: Final = re.compile(r"(?P<head>//[^/:@]*:)(?P<password>[^@/]*)@")


def masked_url(url: str) -> str:
    """The URL with its password, if any, shown as ``***``."""
    return _PASSWORD.sub(r"\g<head>***@", url)


def _scrubbed(text: str, url: str) -> str:
    found = _PASSWORD.search(url)
    password = found.group("password") if found else ""
    text = text.replace(url, masked_url(url))
    return text.replace(password, "***") if password else text


@contextlib.contextmanager
def query_rows(url: str, query: str) -> Iterator[Any]:
    """The rows of ``query`` at ``url``, streamed, while the connection stays open.

    Use as ``with query_rows(url, sql) as rows: export_segment(rows, ...)``.

    Raises:
        SourceError: The library the URL needs is missing, or the database refused the
            connection or the query (the message shows the URL masked).
    """
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "duckdb":
        with _duckdb_rows(url, query) as rows:
            yield rows
        return
    sqlalchemy = optional_module("sqlalchemy", extra="sql", purpose="reading this database")
    try:
        engine = sqlalchemy.create_engine(url)
    except ImportError as error:  # the database's driver (psycopg, pymysql...) is not installed
        raise SourceError(
            f"cannot use {masked_url(url)}: its driver is missing ({error})"
        ) from None
    except (sqlalchemy.exc.SQLAlchemyError, ValueError) as error:
        raise SourceError(f"cannot use {masked_url(url)}: {_scrubbed(str(error), url)}") from None
    try:
        with engine.connect() as connection:
            # Rows come from the server as they are read, not all at once into memory.
            streaming = connection.execution_options(stream_results=True)
            yield streaming.execute(sqlalchemy.text(query))
    except sqlalchemy.exc.SQLAlchemyError as error:
        message = _scrubbed(str(error).split("\n(Background on this error")[0], url)
        raise SourceError(f"the query on {masked_url(url)} failed: {message}") from None
    finally:
        engine.dispose()


def duckdb_target(url: str) -> tuple[str, dict[str, str]]:
    """The database file a ``duckdb:///`` URL names (``""``: an in-memory database) and the
    DuckDB settings its query string gives: ``duckdb:///lake.duckdb?threads=1`` runs the query
    on one thread (DuckDB's memory falls with its threads, see the Sources guide)."""
    rest = url.split(":///", 1)[1] if ":///" in url else ""
    path, _, settings = rest.partition("?")
    return path, dict(urllib.parse.parse_qsl(settings, keep_blank_values=True))


@contextlib.contextmanager
def _duckdb_rows(url: str, query: str) -> Iterator[Any]:
    duckdb = optional_module("duckdb", extra="duckdb", purpose="reading a DuckDB database")
    path, settings = duckdb_target(url)
    try:
        connection = duckdb.connect(path or ":memory:", read_only=bool(path), config=settings)
    except duckdb.Error as error:
        raise SourceError(f"cannot open {masked_url(url)}: {error}") from None
    try:
        yield connection.execute(query)  # a DB-API cursor: read with fetchmany
    except duckdb.Error as error:
        raise SourceError(f"the query on {masked_url(url)} failed: {error}") from None
    finally:
        connection.close()
