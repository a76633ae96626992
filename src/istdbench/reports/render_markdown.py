"""Markdown (GitHub pipe tables) for a `Table`: best value bold, second underlined.

The output depends only on the table, so identical results give byte-identical
files, which CI compares against a committed copy.
"""

from __future__ import annotations

from .formatting import cell_grid, direction, header_mode, legend
from .tables import Table

DASH = "—"

LABELS = {
    "AUC_FPR_TPR": "AUC(FPR,TPR)",
    "AUC_tau_TPR": "AUC(τ,TPR)",
    "AUC_tau_FPR": "AUC(τ,FPR)",
    "AUC_BS": "AUC_BS",
    "AUC_TD": "AUC_TD",
    "AUC_TDBS": "AUC_TDBS",
    "AUC_ODP": "AUC_ODP",
    "AUC_SNPR": "AUC_SNPR",
    "s_per_frame": "s/frame",
    "n_params": "parameters",
    "params_M": "Params (M)",
    "ratio": "Ratio",
}


def metric_label(metric: str) -> str:
    """Header text of a metric, with an arrow saying which way is better."""
    way = direction(metric)
    arrow = {"max": " ↑", "min": " ↓", None: ""}[way]
    return LABELS.get(metric, metric) + arrow


def _escape(text: str) -> str:
    return str(text).replace("|", r"\|")


def _wrap(text: str, mark: str) -> str:
    if not text:
        return DASH
    if mark == "best":
        return f"**{text}**"
    if mark == "second":
        return f"<u>{text}</u>"
    return text


def render_markdown(table: Table, heading_level: int = 3) -> str:
    """The table as a Markdown section: heading, pipe table, notes."""
    mode = header_mode(table.values.columns)
    headers = []
    for group, metric in table.values.columns:
        if mode == "metrics":
            headers.append(metric_label(metric))
        elif mode == "groups":
            headers.append(group)
        else:
            headers.append(f"{group} {metric_label(metric)}")
    info_cols = list(table.info.columns) if table.info is not None else []
    header = [table.row_header, *info_cols, *headers]
    align = [":--", *([":--"] * len(info_cols)), *(["--:"] * len(headers))]
    texts, marked = cell_grid(table.values, table.status, table.decimals)
    lines = [
        f"{'#' * heading_level} {table.title}",
        "",
        "| " + " | ".join(_escape(h) for h in header) + " |",
        "|" + "|".join(align) + "|",
    ]
    for row in table.values.index:
        info = [table.info.loc[row, c] or DASH for c in info_cols] if table.info is not None else []
        cells = [_wrap(t, m) for t, m in zip(texts.loc[row].tolist(), marked.loc[row].tolist(), strict=True)]
        lines.append("| " + " | ".join(_escape(x) for x in [row, *info, *cells]) + " |")
    lines.append("")
    notes = [*table.notes, *legend(table.status, marked, DASH)]
    lines += [" ".join(notes), ""] if notes else []
    return "\n".join(lines)
