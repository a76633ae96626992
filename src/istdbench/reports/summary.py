"""One summary ROC figure per group of sequences: each method's mean curve with its min-max band.

Where a run has too many sequences to draw each one's 3-D ROC, this figure
still shows every sequence: TPR and FPR are averaged at each threshold tau
(threshold averaging) over the group's sequences. The curves are streamed into
a running sum, minimum and maximum, so the report holds one curve per method
and group, however many sequences the group has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from istdbench.core.sorting import natural_sorted

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class CurveSummary:
    """Running mean, minimum and maximum of TPR(tau) and FPR(tau) per method over sequences."""

    def __init__(self) -> None:
        self._acc: dict[str, dict[str, np.ndarray | int]] = {}

    def __len__(self) -> int:
        return len(self._acc)

    def add(self, variant: str, curves: dict[str, np.ndarray]) -> None:
        """Add one sequence's curve of ``variant`` (arrays ``tau``, ``tpr``, ``fpr``).

        A curve on another tau grid than the method's first one is interpolated onto that grid.
        """
        tau, tpr, fpr = (np.asarray(curves[k], dtype=float) for k in ("tau", "tpr", "fpr"))
        acc = self._acc.get(variant)
        if acc is None:
            acc = self._acc[variant] = {"tau": tau.copy(), "n": 0}
            for k in ("tpr", "fpr"):
                acc[f"{k}_sum"] = np.zeros_like(tau)
                acc[f"{k}_min"] = np.full_like(tau, np.inf)
                acc[f"{k}_max"] = np.full_like(tau, -np.inf)
        grid = acc["tau"]
        if tau.shape != grid.shape or not np.array_equal(tau, grid):
            order = np.argsort(tau, kind="stable")
            tpr, fpr = (np.interp(grid, tau[order], v[order]) for v in (tpr, fpr))
        for k, v in (("tpr", tpr), ("fpr", fpr)):
            acc[f"{k}_sum"] = acc[f"{k}_sum"] + v
            acc[f"{k}_min"] = np.fmin(acc[f"{k}_min"], v)
            acc[f"{k}_max"] = np.fmax(acc[f"{k}_max"], v)
        acc["n"] = int(acc["n"]) + 1

    def curves(self) -> dict[str, dict[str, np.ndarray | int]]:
        """Per method (natural order): ``tau``, ``n`` and the ``mean``, ``min``, ``max`` of ``tpr`` and ``fpr``."""
        out = {}
        for variant in natural_sorted(self._acc):
            acc = self._acc[variant]
            n = int(acc["n"])
            item: dict[str, np.ndarray | int] = {"tau": acc["tau"], "n": n}
            for k in ("tpr", "fpr"):
                item[f"{k}_mean"] = acc[f"{k}_sum"] / n
                item[f"{k}_min"] = acc[f"{k}_min"]
                item[f"{k}_max"] = acc[f"{k}_max"]
            out[variant] = item
        return out


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive ones become gaps."""
    return np.where(values > 0, values, np.nan)


def roc_summary_figure(curves: dict[str, dict[str, np.ndarray | int]], title: str) -> Figure:
    """Mean ROC (FPR, TPR), mean TPR(tau) and mean FPR(tau) per method, with min-max bands over sequences.

    Parameters
    ----------
    curves : dict
        `CurveSummary.curves` output: method label -> ``tau``, ``n`` and the
        ``mean``/``min``/``max`` arrays of ``tpr`` and ``fpr``.
    title : str
        Figure title (the group and what was averaged).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.4), layout="constrained")
    ax_fd, ax_td, ax_tf = fig.subplots(1, 3)
    for label, c in curves.items():
        tau = np.asarray(c["tau"], dtype=float)
        tpr, fpr = np.asarray(c["tpr_mean"], dtype=float), np.asarray(c["fpr_mean"], dtype=float)
        order = np.argsort(fpr, kind="stable")
        pos = fpr[order] > 0
        (line,) = ax_fd.plot(fpr[order][pos], tpr[order][pos], linewidth=1.2, label=f"{label} (n={c['n']})")
        color = line.get_color()
        ax_td.plot(tau, tpr, color=color, linewidth=1.2)
        ax_td.fill_between(tau, c["tpr_min"], c["tpr_max"], color=color, alpha=0.2, linewidth=0)
        ax_tf.plot(tau, _positive(fpr), color=color, linewidth=1.2)
        ax_tf.fill_between(tau, _positive(c["fpr_min"]), _positive(c["fpr_max"]), color=color, alpha=0.2, linewidth=0)
    ax_fd.set(xscale="log", xlabel="mean FPR", ylabel="mean TPR", title="ROC of the mean curves")
    ax_td.set(xlabel="τ", ylabel="TPR", title="(τ, TPR): mean, min-max band")
    ax_tf.set(yscale="log", xlabel="τ", ylabel="FPR", title="(τ, FPR): mean, min-max band")
    for ax in (ax_fd, ax_td, ax_tf):
        ax.grid(True, alpha=0.3)
    if curves:
        fig.legend(*ax_fd.get_legend_handles_labels(), loc="outside lower center", ncols=min(len(curves), 5))
    fig.suptitle(title)
    return fig
