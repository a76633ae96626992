"""Figs. 9-11 of the seed paper: N sequences per figure, each a row of the 3-D ROC and its three projections.

Each row shows, for every method, the 3-D ROC (FPR, tau, TPR), ROC(FPR, TPR),
(tau, TPR) and (tau, FPR), drawn at page width in the publication style
(`style`): methods keep one colour / dash / marker across every panel and
figure, and one method can be highlighted.

False-alarm rates of ISTD maps span decades, so a linear FPR axis puts every
curve against FPR = 0. Two remedies, both as the caller chooses:
``fpr_scale="log"`` (default; points at FPR = 0 cannot be drawn there and
are left out, as the caption states) or ``"linear"`` with ``fpr_zoom`` (the paper zooms
its FPR axes to about 1e-4). The 3-D panel uses the same FPR axis (log10 of
FPR on a linear 3-D axis, since matplotlib's 3-D axes take no log scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FPR_FLOOR = 1e-7
"""Lower limit of the log FPR axes."""

FprScale = Literal["log", "linear"]
Curves = dict[str, dict[str, np.ndarray]]  # method label -> tau, tpr, fpr


@dataclass(frozen=True)
class RocRow:
    """One sequence's row: its label and each method's curve arrays (``tau``, ``tpr``, ``fpr``)."""

    label: str
    curves: Curves


def _fpr(values: np.ndarray, scale: FprScale) -> np.ndarray:
    """FPR as drawn: log10 (NaN, i.e. a gap, where FPR = 0) or as is."""
    if scale == "linear":
        return values
    with np.errstate(divide="ignore"):
        return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)


def roc_grid_figure(
    rows: Sequence[RocRow],
    methods: Sequence[str],
    highlight: str = "",
    fpr_scale: FprScale = "log",
    fpr_zoom: float | None = None,
) -> Figure:
    """The grid: one row per sequence, columns 3-D ROC, ROC(FPR,TPR), (tau,TPR), (tau,FPR); one legend.

    Parameters
    ----------
    rows : sequence of RocRow
        The sequences, in order (the paper puts three in a figure).
    methods : sequence of str
        Method labels in legend order (also fixes each method's style).
    highlight : str
        A method label (or prefix) drawn black, thicker and on top.
    fpr_scale : {"log", "linear"}
        FPR axes logarithmic (FPR = 0 drawn at `FPR_FLOOR`) or linear.
    fpr_zoom : float, optional
        Upper FPR limit of the linear FPR axes (e.g. 1e-4, as in the paper).
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    styles = style.method_styles(methods, highlight)
    fig = style.figure("double", 1.55 * len(rows) + 0.45)
    grid = fig.add_gridspec(len(rows), 4, width_ratios=(1.25, 1, 1, 1))
    log_ticks = FuncFormatter(lambda v, _: f"$10^{{{round(v)}}}$")
    for r, row in enumerate(rows):
        ax3 = fig.add_subplot(grid[r, 0], projection="3d")
        ax_ft, ax_tt, ax_tf = (fig.add_subplot(grid[r, c]) for c in (1, 2, 3))
        for method in methods:
            c = row.curves.get(method)
            if c is None:
                continue
            tau, tpr, fpr = (np.asarray(c[k], dtype=float) for k in ("tau", "tpr", "fpr"))
            kw = styles[method].kwargs
            kw3 = {**kw, "markevery": max(len(tau) // 8, 1)}
            shown = fpr if fpr_scale == "linear" else np.where(fpr > 0, fpr, np.nan)
            x3 = _fpr(fpr, fpr_scale)
            if fpr_scale == "linear" and fpr_zoom is not None:
                x3 = np.where(fpr <= fpr_zoom, fpr, np.nan)  # 3-D axes do not clip to their limits
            ax3.plot(x3, tau, tpr, label=method, **kw3)
            order = np.argsort(fpr, kind="stable")
            ax_ft.plot(shown[order], tpr[order], **kw3)
            ax_tt.plot(tau, tpr, **kw3)
            ax_tf.plot(tau, shown, **kw3)
        ax3.set_xlabel("FPR", labelpad=-8)
        ax3.set_ylabel("τ", labelpad=-8)
        ax3.set_zlabel("TPR", labelpad=-8)
        ax3.tick_params(pad=-3, labelsize=5)
        ax3.view_init(elev=22, azim=-58)
        ax3.set_box_aspect(None, zoom=1.15)
        ax3.text2D(-0.12, 0.5, row.label, rotation=90, va="center", ha="center", transform=ax3.transAxes)
        if fpr_scale == "log":
            ax3.xaxis.set_major_formatter(log_ticks)
            ax3.set_xlim(np.log10(FPR_FLOOR), 0)
            ax_ft.set_xscale("log")
            ax_tf.set_yscale("log")
            ax_ft.set_xlim(FPR_FLOOR, 1)
            ax_tf.set_ylim(FPR_FLOOR, 1)
        elif fpr_zoom is not None:
            ax3.set_xlim(0, fpr_zoom)
            ax_ft.set_xlim(0, fpr_zoom)
            ax_tf.set_ylim(0, fpr_zoom)
        if fpr_scale == "linear":
            ax_ft.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
            ax_tf.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax_ft.set(xlabel="FPR", ylabel="TPR")
        ax_tt.set(xlabel="τ", ylabel="TPR", xlim=(0, 1))
        ax_tf.set(xlabel="τ", ylabel="FPR", xlim=(0, 1))
        for ax in (ax_ft, ax_tt, ax_tf):
            ax.grid(True, alpha=0.3)
        if r == 0:
            titles = ("3-D ROC", "ROC(FPR,TPR)", "ROC(τ,TPR)", "ROC(τ,FPR)")
            for ax, title in zip((ax3, ax_ft, ax_tt, ax_tf), titles, strict=True):
                ax.set_title(title)
    handles = [Line2D([], [], label=m, **styles[m].kwargs) for m in methods if any(m in r.curves for r in rows)]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 7))
    return fig


def caption(labels: Sequence[str], fpr_scale: FprScale, fpr_zoom: float | None, protocol: str) -> str:
    """What the grid shows and how its FPR axes are drawn."""
    axis = (
        "FPR axes logarithmic (points with FPR = 0 left out)"
        if fpr_scale == "log"
        else "FPR axes linear" + (f", zoomed to [0, {fpr_zoom:g}]" if fpr_zoom else "")
    )
    return (
        f"3-D ROC curves and the 2-D ROC(FPR,TPR), ROC(τ,TPR) and ROC(τ,FPR) on {', '.join(labels)} "
        f"(protocol {protocol}); {axis}."
    )


def save_roc_grids(
    groups: Sequence[Sequence[RocRow]],
    methods: Sequence[str],
    folder: Path,
    stem: str,
    protocol: str,
    highlight: str = "",
    fpr_scale: FprScale = "log",
    fpr_zoom: float | None = None,
) -> dict[str, list[Path]]:
    """Draw and save one grid per group of rows (``{stem}_1``, ``{stem}_2``, ...); caption -> paths."""
    from .figures import save_figure

    written = {}
    for i, rows in enumerate(groups, start=1):
        with style.publication_style():
            fig = roc_grid_figure(rows, methods, highlight, fpr_scale, fpr_zoom)
            paths = save_figure(fig, folder, f"{stem}_{i}")
        written[caption([r.label for r in rows], fpr_scale, fpr_zoom, protocol)] = paths
    return written


PER_FIGURE = 3
"""Sequences per figure, as in the paper's Figs. 9-11."""


def plan_roc_grids(
    df, out: Path, pres, setting, sequences: Sequence[str], fpr_scale: FprScale = "log", fpr_zoom: float | None = None
) -> list[tuple[str, str, dict]]:
    """(caption, file stem, drawing inputs) of the grids of ``sequences`` (in that order), `PER_FIGURE` each."""
    from .jobfiles import load_curves, representative_jobs

    wanted = set(sequences)
    jobs = [j for j in representative_jobs(df, out, setting) if j.sequence in wanted]
    method_of = dict(zip(df["variant"], df["method"], strict=False))
    by_sequence: dict[str, Curves] = {}
    for job in jobs:
        loaded = load_curves(job)
        if loaded is not None:
            curves = {k: np.asarray(loaded[k], dtype=float) for k in ("tau", "tpr", "fpr")}
            by_sequence.setdefault(job.sequence, {})[pres.variant(job.variant, method_of[job.variant])] = curves
    variants = sorted({j.variant for j in jobs}, key=lambda v: pres.variant_rank(v, method_of[v]))
    methods = [pres.variant(v, method_of[v]) for v in variants]
    highlight = pres.method(pres.highlight).display_name if pres.highlight else ""
    rows = [RocRow(pres.sequence(s), by_sequence[s]) for s in sequences if s in by_sequence]
    planned = []
    for i in range(0, len(rows), PER_FIGURE):
        part = rows[i : i + PER_FIGURE]
        stem = f"fig9_roc_grid{setting.suffix}_{i // PER_FIGURE + 1}"
        inputs = {
            "rows": part,
            "methods": methods,
            "highlight": highlight,
            "fpr_scale": fpr_scale,
            "fpr_zoom": fpr_zoom,
        }
        planned.append((caption([r.label for r in part], fpr_scale, fpr_zoom, setting.protocol), stem, inputs))
    return planned
