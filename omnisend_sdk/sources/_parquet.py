"""Parquet files and datasets (a directory of Parquet files), read a record batch at a time
through pyarrow, an optional dependency."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.sources._arrow import batches_dicts, numbered_batches
from omnisend_sdk.sources._base import SourceError, optional_module
from omnisend_sdk.sources._chunked import ChunkedSource

#: File name endings read as Parquet.
PARQUET_SUFFIXES: Final = frozenset({".parquet", ".pq"})
#: Batches a dataset scan decodes ahead of the one being read: enough to keep the reader busy,
#: few enough that memory stays a few chunks (pyarrow's default of 16 holds 16).
_BATCH_READAHEAD: Final = 2
#: Files a dataset scan opens ahead: one, so that at most two files' row groups are in memory.
_FRAGMENT_READAHEAD: Final = 1
#: A file's column chunks are read through buffers of this size, and not pre-buffered (which
#: holds a whole row group's chunks): 10 MB less at the peak of reading a 1M-row file of
#: DuckDB's row groups, in the same time (benchmarks/bench_sources.py).
_BUFFER_BYTES: Final = 1 << 20
#: Decode on the reading thread. Mapping the rows in Python takes ten times longer than decoding
#: them, so decoder threads win no time; without them a 1M-row read was 8% faster and its peak
#: memory 13 MB lower (benchmarks/bench_sources.py).
_USE_THREADS: Final = False


class ParquetSource(ChunkedSource):
    """A Parquet file, or a directory of them (a dataset), as rows numbered by position from 0.

    The file is read a record batch of ``chunk_rows`` rows at a time, so memory holds one row
    group's compressed pages and one batch, not the file. The row count comes from the files'
    metadata, without reading a row. A dataset's files are read in path order, its hive-style
    partition directories (``country=LT/``) becoming columns; positions run on across files.

    Args:
        path: A ``.parquet`` / ``.pq`` file, or a directory of Parquet files.
        chunk_rows: Rows decoded to Python values at a time.

    Raises:
        SourceError: pyarrow is not installed, or the path is missing or not Parquet.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, chunk_rows: int = SOURCE_CHUNK_ROWS
    ) -> None:
        self._path = Path(path)
        is_dataset = self._path.is_dir()
        module = "pyarrow.dataset" if is_dataset else "pyarrow.parquet"
        self._arrow = optional_module(module, extra="parquet", purpose="Parquet")
        self._dataset: Any = None
        self._text_columns: frozenset[str] = frozenset()
        try:
            if is_dataset:
                self._dataset = self._arrow.dataset(
                    self._path, format="parquet", partitioning="hive"
                )
                names, rows = self._dataset.schema.names, self._dataset.count_rows()
            else:
                with self._arrow.ParquetFile(self._path) as file:
                    names, rows = file.schema_arrow.names, file.metadata.num_rows
                    self._text_columns = frozenset(
                        field.name for field in file.schema_arrow if str(field.type) == "string"
                    )
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            raise SourceError(f"cannot read {self.name} as Parquet: {err}") from err
        super().__init__(
            names, row_count=rows, reiterable=True, chunk_rows=chunk_rows, what=self.name
        )

    @property
    def name(self) -> str:
        """The file's or directory's path, for messages."""
        return os.fspath(self._path)

    def arrow_batches(
        self, columns: Sequence[str], encoded: Collection[str] = ()
    ) -> Iterator[tuple[int, Any]]:
        """The rows as Arrow record batches of ``columns``, each with its first row's number:
        how ``map_rows`` maps them a batch at a time. Only those columns are read, the
        ``encoded`` ones as Parquet stores text, dictionary-encoded (a file only)."""
        names = self._columns
        # Read by name where names are plain: no repeats, no dotted path to a nested column.
        plain = len(set(names)) == len(names) and not any("." in name for name in names)
        return numbered_batches(
            self._batches(columns if plain else None, encoded if plain else ()),
            first=self.first_number,
            once=None,
            columns=names,
            wanted=columns,
            by_name=plain,
        )

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        return batches_dicts(self._columns, self._batches(None, ()))

    def _batches(self, columns: Sequence[str] | None, encoded: Collection[str]) -> Iterator[Any]:
        """The record batches, of ``columns`` only (all for ``None``), the text columns of
        ``encoded`` dictionary-encoded (not a dataset's)."""
        wanted = None if columns is None else list(columns)
        if self._dataset is not None:
            # Batches come in file order, then row order within a file: positions are stable.
            yield from self._dataset.to_batches(
                columns=wanted,
                batch_size=self._chunk_rows,
                batch_readahead=_BATCH_READAHEAD,
                fragment_readahead=_FRAGMENT_READAHEAD,
                use_threads=_USE_THREADS,
            )
            return
        dictionary = [name for name in encoded if name in self._text_columns]
        with self._arrow.ParquetFile(
            self._path,
            read_dictionary=dictionary or None,
            pre_buffer=False,
            buffer_size=_BUFFER_BYTES,
        ) as file:
            yield from file.iter_batches(
                batch_size=self._chunk_rows, columns=wanted, use_threads=_USE_THREADS
            )
