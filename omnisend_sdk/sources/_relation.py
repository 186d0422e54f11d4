"""DuckDB relations (``duckdb.sql(...)``, ``con.sql(...)``), streamed as Arrow record batches."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.sources._arrow import batches_dicts, numbered_batches
from omnisend_sdk.sources._base import SourceError
from omnisend_sdk.sources._chunked import ChunkedSource


def arrow_reader_method(obj: object) -> Any:
    """The method that runs a relation and streams its result as Arrow batches, or ``None``.

    ``to_arrow_reader(batch_size)`` in recent DuckDB, ``fetch_record_batch`` in older ones.
    """
    for name in ("to_arrow_reader", "fetch_record_batch"):
        method = getattr(obj, name, None)
        if callable(method):
            return method
    return None


def is_relation(obj: object) -> bool:
    """A query not yet run that names its columns and streams Arrow batches (a DuckDB relation).

    A DuckDB connection has the Arrow method too, but no ``columns``: it is read as a cursor.
    """
    return hasattr(obj, "columns") and arrow_reader_method(obj) is not None


class RelationSource(ChunkedSource):
    """A DuckDB relation, run once and read as Arrow record batches of ``chunk_rows`` rows.

    DuckDB streams the result to the reader, so memory holds a batch, not the result (beside
    DuckDB's own cache of the tables it scans, which its ``memory_limit`` bounds). Rows are
    numbered from 1 in result order, as SQL counts them: give the query an ``ORDER BY`` if the
    numbers should point at the same rows next time. A relation is read once, with no row count:
    running it again may give other rows, or the same in another order. Needs pyarrow.

    Args:
        relation: The relation, e.g. ``duckdb.sql("select * from customers")``.
        chunk_rows: Rows per record batch.
    """

    first_number: ClassVar[int] = 1

    def __init__(self, relation: Any, *, chunk_rows: int = SOURCE_CHUNK_ROWS) -> None:
        super().__init__(
            (str(name) for name in relation.columns),
            chunk_rows=chunk_rows,
            what="a DuckDB relation",
        )
        self._relation = relation

    def arrow_batches(
        self, columns: Sequence[str], encoded: Collection[str] = ()
    ) -> Iterator[tuple[int, Any]]:
        """The rows as Arrow record batches of ``columns``, each with its first row's number:
        how ``map_rows`` maps them a batch at a time. Runs the relation (it is read once) with
        only those columns selected, so that DuckDB neither reads nor converts the others."""
        names = self._columns
        narrowed = len(set(names)) == len(names) and callable(
            getattr(self._relation, "project", None)
        )
        relation = self._relation.project(", ".join(map(_quoted, columns))) if narrowed else None
        return numbered_batches(
            self._batches(relation),
            first=self.first_number,
            once=self._once,
            columns=names,
            wanted=columns,
            by_name=narrowed,
        )

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        return batches_dicts(self._columns, self._batches(None))

    def _batches(self, relation: Any) -> Iterator[Any]:
        """The record batches of ``relation``, the whole relation for ``None``."""
        try:
            reader = arrow_reader_method(relation or self._relation)(self._chunk_rows)
        except ImportError as err:
            raise SourceError(
                "reading a DuckDB relation needs pyarrow: pip install 'omnisend-sdk[duckdb]'"
            ) from err
        yield from reader


def _quoted(name: str) -> str:
    """A column name as a quoted SQL identifier: any name, spaces and quotes included."""
    return '"' + name.replace('"', '""') + '"'
