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
        """The rows as Arrow record batches, each with its first row's number: how ``map_rows``
        maps them a batch at a time. Runs the relation (it is read once)."""
        return numbered_batches(
            self._batches(),
            first=self.first_number,
            once=self._once,
            columns=self._columns,
            wanted=columns,
        )

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        return batches_dicts(self._columns, self._batches())

    def _batches(self) -> Iterator[Any]:
        try:
            reader = arrow_reader_method(self._relation)(self._chunk_rows)
        except ImportError as err:
            raise SourceError(
                "reading a DuckDB relation needs pyarrow: pip install 'omnisend-sdk[duckdb]'"
            ) from err
        yield from reader
