"""Append scored rows to a benchmark's result CSV, shared by the real-data quality scripts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd


def append_rows(out: Path, rows: Iterable[Mapping[str, object]], columns: Iterable[str]) -> None:
    """Append ``rows`` to ``out`` at once, so nothing scored is lost if a long run is stopped.

    An existing file keeps its own header (older CSVs may lack a newer column;
    the row is fitted to the file's columns); a new file gets ``columns``.
    Keys a row does not have are left empty.
    """
    header = list(pd.read_csv(out, nrows=0).columns) if out.exists() else list(columns)
    pd.DataFrame(list(rows)).reindex(columns=header).to_csv(out, mode="a", header=not out.exists(), index=False)
