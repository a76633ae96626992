"""Figs. 12(b, c) of the seed paper: F1 and IoU (%) under each noise setting for the methods a run config names.

Drawn from the noise-robustness table (`tables.table12_noise`), so the bars
are the table's numbers: panel (b) F1, panel (c) IoU, a group of bars per
noise setting, one bar per method. Methods are the config's ``[display]
compare`` list (the paper compares NeurSTT with 3DSTPM), else every row.
Bars carry the method's colour and a hatch, so they read in greyscale too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from istdbench.core.display import Presentation

from . import style
from .tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")


def noise_bars_figure(table: Table, rows: Sequence[str], highlight: str = "") -> Figure:
    """Panels (b) F1 and (c) IoU side by side at page width; failed or missing cells leave gaps."""
    metrics = [m for m in ("F1", "IoU") if m in set(table.values.columns.get_level_values("metric"))]
    noises = list(dict.fromkeys(table.values.columns.get_level_values("group")))
    styles = style.method_styles(rows, highlight)
    fig = style.figure("double", 2.2)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(noises))
    for ax, metric, letter in zip(axes, metrics, "bc", strict=False):
        for i, row in enumerate(rows):
            cols = [(n, metric) for n in noises]
            ok = (table.status.loc[row, cols] == "ok").to_numpy()
            heights = np.where(ok, table.values.loc[row, cols].to_numpy(dtype=float), np.nan)
            ax.bar(
                x + (i - (len(rows) - 1) / 2) * width,
                heights,
                width,
                label=row,
                color=styles[row].color,
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor="white" if styles[row].color == style.HIGHLIGHT_COLOR else "black",
                linewidth=0.4,
            )
        ax.set_xticks(x, noises, rotation=20, ha="right")
        ax.set(ylabel=f"{'F$_1$' if metric == 'F1' else metric} (%)", title=f"({letter}) {metric}")
        ax.grid(True, axis="y", alpha=0.3)
    if rows:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(len(rows), 6))
    return fig


def plan_noise_bars(tables: Sequence[Table], pres: Presentation) -> list[tuple[str, str, dict]]:
    """(caption, file stem, drawing inputs) of Fig. 12(b, c) for each pixel-level noise table."""
    planned = []
    for table in tables:
        if not table.key.startswith("table12_noise_pixel"):
            continue
        named = [pres.method(m).display_name for m in pres.compare]
        rows = [r for r in table.values.index if any(r == n or r.startswith(n + " ") for n in named)]
        rows = rows or list(table.values.index)
        highlight = pres.method(pres.highlight).display_name if pres.highlight else ""
        text = f"(b) F1 and (c) IoU (%) of {', '.join(rows)} under each noise setting. {table.notes[0]}"
        stem = "fig12bc" + table.key.removeprefix("table12_noise_pixel")
        planned.append((text, stem, {"table": table, "rows": rows, "highlight": highlight}))
    return planned
