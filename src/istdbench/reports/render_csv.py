"""CSV for a `Table`: the printed (rounded) numbers, one header row, no markup.

Values are written exactly as the other renderers print them, so the CSV of a
metric table is as deterministic as its Markdown; failed cells read
``failed`` and missing ones are empty.
"""

from __future__ import annotations

import csv
import io

from .formatting import cell_grid, header_mode
from .tables import Table


def column_names(table: Table) -> list[str]:
    """Flat names of the value columns: ``metric``, ``group``, or ``group/metric``."""
    mode = header_mode(table.values.columns)
    if mode == "metrics":
        return [m for _, m in table.values.columns]
    if mode == "groups":
        return [g for g, _ in table.values.columns]
    return [f"{g}/{m}" for g, m in table.values.columns]


def render_csv(table: Table) -> str:
    """The table as CSV text with ``\\n`` line ends."""
    info_cols = list(table.info.columns) if table.info is not None else []
    texts, _ = cell_grid(table.values, table.status, table.decimals)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([table.row_header, *info_cols, *column_names(table)])
    for row in table.values.index:
        info = [table.info.loc[row, c] for c in info_cols] if table.info is not None else []
        writer.writerow([row, *info, *(t.replace(",", "") for t in texts.loc[row].tolist())])
    return buf.getvalue()
