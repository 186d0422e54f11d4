"""Parquet files and datasets (a directory of Parquet files), read a record batch at a time
through pyarrow, an optional dependency."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from omnisend_sdk._constants import SOURCE_CHUNK_ROWS
from omnisend_sdk.sources._arrow import batches_dicts
from omnisend_sdk.sources._base import SourceError, optional_module
from omnisend_sdk.sources._chunked import ChunkedSource

#: File name endings read as Parquet.
PARQUET_SUFFIXES: Final = frozenset({".parquet", ".pq"})
#: Batches a dataset scan decodes ahead of the one being read: enough to keep the reader busy,
#: few enough that memory stays a few chunks (pyarrow's default of 16 holds 16).
_BATCH_READAHEAD: Final = 2
#: Files a dataset scan opens ahead: one, so that at most two files' row groups are in memory.
_FRAGMENT_READAHEAD: Final = 1
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
        try:
            if is_dataset:
                self._dataset = self._arrow.dataset(
                    self._path, format="parquet", partitioning="hive"
                )
                names, rows = self._dataset.schema.names, self._dataset.count_rows()
            else:
                with self._arrow.ParquetFile(self._path) as file:
                    names, rows = file.schema_arrow.names, file.metadata.num_rows
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            raise SourceError(f"cannot read {self.name} as Parquet: {err}") from err
        super().__init__(
            names, row_count=rows, reiterable=True, chunk_rows=chunk_rows, what=self.name
        )

    @property
    def name(self) -> str:
        """The file's or directory's path, for messages."""
        return os.fspath(self._path)

    def _chunks(self) -> Iterator[Iterable[Mapping[str, object]]]:
        if self._dataset is not None:
            # Batches come in file order, then row order within a file: positions are stable.
            yield from batches_dicts(
                self._columns,
                self._dataset.to_batches(
                    batch_size=self._chunk_rows,
                    batch_readahead=_BATCH_READAHEAD,
                    fragment_readahead=_FRAGMENT_READAHEAD,
                    use_threads=_USE_THREADS,
                ),
            )
            return
        with self._arrow.ParquetFile(self._path) as file:
            yield from batches_dicts(
                self._columns,
                file.iter_batches(batch_size=self._chunk_rows, use_threads=_USE_THREADS),
            )
