"""Figures of the report: 3-D ROC curves per sequence and the noise-robustness plots, as pure functions.

Figures are built on `matplotlib.figure.Figure` objects (the Agg canvas, no
pyplot state), so they work headless, in threads and on Dask workers. Each is
saved as PNG and PDF without timestamps, so identical inputs give identical
files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

FORMATS = ("png", "pdf")
_METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}


def slug(text: str) -> str:
    """A file-name-safe form of a sequence or noise name (``daub/sequence1`` -> ``daub_sequence1``)."""
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", text).strip("_") or "x"


def save_figure(fig: Figure, folder: Path, stem: str, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write ``fig`` as ``folder/stem.<fmt>`` for each format, without timestamps; return the paths.

    Each file is written beside its place and renamed into it, so a path that
    is a hard link into the figure cache is replaced, never written through.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        tmp = folder / f".{stem}.{fmt}.{os.getpid()}.tmp"
        try:
            fig.savefig(tmp, format=fmt, dpi=150, metadata=_METADATA.get(fmt))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        paths.append(path)
    return paths


def roc3d_figure(curves: dict[str, dict[str, np.ndarray]], title: str) -> Figure:
    """The 3-D ROC (FPR, tau, TPR) of each method and its three 2-D projections, as in the seed paper.

    Parameters
    ----------
    curves : dict
        Method label -> arrays ``tau``, ``tpr``, ``fpr`` of equal length.
    title : str
        Figure title (the sequence name).

    Notes
    -----
    FPR axes of the 2-D panels are logarithmic: false-alarm rates of ISTD
    maps span several decades, and on a linear axis every ROC hugs the origin.
    Points with FPR = 0 cannot be drawn on them and are left out there.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 9), layout="constrained")
    ax3 = fig.add_subplot(2, 2, 1, projection="3d")
    ax_fd = fig.add_subplot(2, 2, 2)
    ax_td = fig.add_subplot(2, 2, 3)
    ax_tf = fig.add_subplot(2, 2, 4)
    for label, c in curves.items():
        tau, tpr, fpr = (np.asarray(c[k], dtype=float) for k in ("tau", "tpr", "fpr"))
        (line,) = ax3.plot(fpr, tau, tpr, label=label, linewidth=1.2)
        color = line.get_color()
        order = np.argsort(fpr, kind="stable")
        pos = fpr[order] > 0
        ax_fd.plot(fpr[order][pos], tpr[order][pos], color=color, linewidth=1.2)
        ax_td.plot(tau, tpr, color=color, linewidth=1.2)
        pos = fpr > 0
        ax_tf.plot(tau[pos], fpr[pos], color=color, linewidth=1.2)
    ax3.set(xlabel="FPR", ylabel="τ", zlabel="TPR", title="3-D ROC")
    ax_fd.set(xscale="log", xlabel="FPR", ylabel="TPR", title="ROC (FPR, TPR)")
    ax_td.set(xlabel="τ", ylabel="TPR", title="(τ, TPR)")
    ax_tf.set(yscale="log", xlabel="τ", ylabel="FPR", title="(τ, FPR)")
    for ax in (ax_fd, ax_td, ax_tf):
        ax.grid(True, alpha=0.3)
    if curves:
        fig.legend(*ax3.get_legend_handles_labels(), loc="outside lower center", ncols=min(len(curves), 5))
    fig.suptitle(title)
    return fig


def noise_figure(table: Table) -> Figure:
    """Grouped bars of a noise-robustness table: one panel per metric, noise settings on x, a bar per method.

    Failed or missing cells leave a gap (and are listed in the table itself).
    """
    metrics = list(dict.fromkeys(table.values.columns.get_level_values("metric")))
    noises = list(dict.fromkeys(table.values.columns.get_level_values("group")))
    variants = list(table.values.index)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(5.0, 1.2 * len(noises) * len(metrics) + 2), 3.8), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    width = 0.8 / max(len(variants), 1)
    x = np.arange(len(noises))
    for ax, metric in zip(axes, metrics, strict=True):
        for i, variant in enumerate(variants):
            cols = [(n, metric) for n in noises]
            ok = (table.status.loc[variant, cols] == "ok").to_numpy()
            heights = np.where(ok, table.values.loc[variant, cols].to_numpy(dtype=float), np.nan)
            ax.bar(x + (i - (len(variants) - 1) / 2) * width, heights, width, label=variant)
        ax.set_xticks(x, noises, rotation=20, ha="right")
        ax.set(ylabel=metric, title=metric)
        ax.grid(True, axis="y", alpha=0.3)
    if variants:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center")
    fig.suptitle(table.title)
    return fig
