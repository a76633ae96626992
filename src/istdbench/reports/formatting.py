"""How each metric is printed and which way is better: shared by every renderer.

Numbers are rounded to a fixed format per metric before anything else looks at
them, so that the Markdown, LaTeX and CSV files are byte-identical for
identical inputs, and so that "best" and "second" are decided on the values a
reader sees (two methods that print the same number tie).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from istdbench.metrics.roc3d import AUC_KEYS

Direction = Literal["max", "min"]

AUC_METRICS = AUC_KEYS
"""The eight 3-D ROC AUCs, in the order of the metrics contract."""

LOWER_IS_BETTER = frozenset({"AUC_tau_FPR", "Fa", "Fa (1e-6)", "s_per_frame", "runtime_s"})
"""Metrics where a smaller value is better; every other metric is larger-is-better."""

UNRANKED = frozenset({"n_params", "params_M", "ratio"})
"""Metrics that are facts about a method rather than a score; never marked best."""

_FORMATS: dict[str, str] = {
    "AUC_tau_FPR": "{:.5f}",
    "AUC_SNPR": "{:.2f}",
    "Fa": "{:.3e}",
    "Fa (1e-6)": "{:.3f}",
    "SCRG": "{:.3f}",
    "BSF": "{:.3f}",
    "CG": "{:.3f}",
    "s_per_frame": "{:.4g}",
    "runtime_s": "{:.4g}",
}
_DEFAULT_FORMAT = "{:.4f}"
_OWN_FORMAT = {"Fa": "{:.2e}", "ratio": "{:.1f}×"}
"""Formats a table's ``decimals`` does not override: Fa spans decades, a ratio needs one decimal."""

CellStatus = Literal["ok", "failed", "missing"]
Mark = Literal["best", "second", ""]


def direction(metric: str) -> Direction | None:
    """``"max"`` or ``"min"`` for ranked metrics, None for unranked ones."""
    if metric in UNRANKED:
        return None
    return "min" if metric in LOWER_IS_BETTER else "max"


def format_value(metric: str, value: float, decimals: int | None = None) -> str:
    """The fixed text of one finite or infinite value (NaN is the caller's business).

    ``decimals`` (a table's setting) overrides the per-metric default, except
    for Fa (scientific) and ratios.
    """
    if metric == "n_params":
        return f"{int(value):,}"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if metric in _OWN_FORMAT:
        fmt = _OWN_FORMAT[metric]
    elif decimals is not None:
        fmt = f"{{:.{decimals}f}}"
    else:
        fmt = _FORMATS.get(metric, _DEFAULT_FORMAT)
    text = fmt.format(value)
    return "0" + text[2:] if text.startswith("-0") and float(text.rstrip("×")) == 0 else text


def displayed(metric: str, value: float, decimals: int | None = None) -> float:
    """The value as printed, read back (the basis of ranking and of the CSV)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    return float(format_value(metric, value, decimals).replace(",", "").rstrip("×"))


def marks(values: pd.Series, status: pd.Series, metric: str, decimals: int | None = None) -> pd.Series:
    """Best / second marks of one column: ties on the displayed value share a mark.

    Only cells with status ``ok`` and a value take part. Nothing is marked
    when the metric is unranked or all taking part print the same value;
    "second" needs three distinct values (with two it would just mean "last").
    """
    out = _marks(values.tolist(), np.asarray(status, dtype=object), metric, decimals)
    return pd.Series(out, index=values.index, dtype=object)


def _marks(values: list, status: np.ndarray, metric: str, decimals: int | None = None) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    way = direction(metric)
    if way is None:
        return out
    shown = np.array([displayed(metric, v, decimals) for v in values], dtype=float)
    usable = (status == "ok") & ~np.isnan(shown)
    distinct = np.unique(shown[usable])
    if len(distinct) >= 2:
        ordered = distinct[::-1] if way == "max" else distinct
        out[usable & (shown == ordered[0])] = "best"
        if len(distinct) > 2:
            out[usable & (shown == ordered[1])] = "second"
    return out


def cell_grid(
    values: pd.DataFrame, status: pd.DataFrame, decimals: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plain text and mark of every cell; the text of failed/missing cells is ``failed`` / ``""``.

    Renderers wrap the text by its mark and replace ``""`` with their own dash.
    """
    texts = np.full(values.shape, "", dtype=object)
    marked = np.full(values.shape, "", dtype=object)
    cells = values.to_numpy(dtype=object)  # column by column on plain arrays: pandas cell access is slow
    states = status.reindex(columns=values.columns).to_numpy(dtype=object)
    for j, col in enumerate(values.columns):
        metric = col[-1] if isinstance(col, tuple) else col
        column = cells[:, j].tolist()
        for i, (s, v) in enumerate(zip(states[:, j].tolist(), column, strict=True)):
            if s == "failed":
                texts[i, j] = "failed"
            elif s == "ok" and not pd.isna(v):
                texts[i, j] = format_value(metric, float(v), decimals)
        marked[:, j] = _marks(column, states[:, j], metric, decimals)
    frame = {"index": values.index, "columns": values.columns, "dtype": object}
    return pd.DataFrame(texts, **frame), pd.DataFrame(marked, **frame)


HeaderMode = Literal["metrics", "groups", "both"]


def header_mode(columns: pd.MultiIndex) -> HeaderMode:
    """How to head a (group, metric) column index: by metric, by group, or both levels."""
    groups = set(columns.get_level_values(0))
    if groups <= {""}:
        return "metrics"
    if len(set(columns.get_level_values(1))) == 1:
        return "groups"
    return "both"


def legend(status: pd.DataFrame, marked: pd.DataFrame, dash: str) -> list[str]:
    """Sentences explaining the marks and placeholders that occur in a table."""
    out = []
    if (marked == "best").to_numpy().any():
        out.append("Best in bold, second underlined." if (marked == "second").to_numpy().any() else "Best in bold.")
    if (status == "failed").to_numpy().any():
        out.append("failed: a job of this cell raised an error (listed in the index).")
    if (status == "missing").to_numpy().any():
        out.append(f"{dash}: not available.")
    return out
