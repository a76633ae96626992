"""3-D ROC (Chang 2020) of a target-map sequence and its AUC family, under a named protocol.

TPR is target-level (a point box or a mask component is detected when any of
its pixels passes), FPR is pixel-level (passing pixels outside every target).
The whole 101-threshold curve comes from one pass: each pixel's map value is
turned into the number of thresholds it passes (its *level*), and counts per
threshold are suffix sums of one histogram of levels.

References
----------
C.-I Chang, "An effective evaluation tool for hyperspectral target detection:
3D receiver operating characteristic curve analysis", IEEE TGRS 59(6), 2021
(online 2020). The derived AUCs (TD, BS, TDBS, ODP, SNPR) are Eqs. 27-31 of
the NeurSTT paper, as computed by the TensorISTD toolbox's ``curves_drawer.m``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.types import Sequence

from ._checks import check_maps
from .groundtruth import target_regions
from .protocols import N_LEVELS, RocProtocol, get_protocol

log = logging.getLogger(__name__)

AUC_KEYS = (
    "AUC_FPR_TPR",
    "AUC_tau_TPR",
    "AUC_tau_FPR",
    "AUC_BS",
    "AUC_TD",
    "AUC_TDBS",
    "AUC_ODP",
    "AUC_SNPR",
)


@dataclass(frozen=True, eq=False)
class Roc3DResult:
    """A 3-D ROC curve and its AUCs.

    Attributes
    ----------
    thresholds : ndarray of shape (101,)
        Thresholds compared with the normalised map (``>=``).
    tau : ndarray of shape (101,)
        The nominal tau axis the AUCs integrate over.
    tpr, fpr : ndarray of shape (101,)
        Target-level detection rate and pixel-level false-positive rate.
    aucs : dict
        The eight AUC values, keys `AUC_KEYS`.
    protocol : str
        ``spec@version`` of the protocol used.
    n_targets : int
        Targets in the TPR denominator.
    n_frames_fpr : int
        Frames that contributed to FPR.
    n_frames_empty : int
        Frames whose scored map has no positive value (``tensoristd`` drops
        them from FPR and counts their targets as missed); with a binarising
        protocol, the frames its rule leaves empty.
    """

    thresholds: np.ndarray
    tau: np.ndarray
    tpr: np.ndarray
    fpr: np.ndarray
    aucs: dict[str, float]
    protocol: str
    n_targets: int = 0
    n_frames_fpr: int = 0
    n_frames_empty: int = 0

    def curves(self) -> dict[str, np.ndarray]:
        """The arrays stored in a job's ``curves.npz``."""
        return {"thresholds": self.thresholds, "tau": self.tau, "tpr": self.tpr, "fpr": self.fpr}


def auc_family(tau: np.ndarray, tpr: np.ndarray, fpr: np.ndarray, close_roc: bool = False) -> dict[str, float]:
    """AUC(FPR,TPR), AUC(tau,TPR), AUC(tau,FPR) and the derived BS, TD, TDBS, ODP, SNPR.

    Parameters
    ----------
    tau, tpr, fpr : ndarray of shape (n,)
        Curves ordered by increasing threshold (FPR and TPR non-increasing).
    close_roc : bool
        Append the point (FPR, TPR) = (0, 0), the threshold above every value,
        before integrating TPR over FPR.

    Notes
    -----
    TD = AUC(F,D) + AUC(tau,D); BS = AUC(F,D) - AUC(tau,F); TDBS = AUC(tau,D) -
    AUC(tau,F); ODP = AUC(F,D) + AUC(tau,D) - AUC(tau,F); SNPR = AUC(tau,D) /
    AUC(tau,F), a plain ratio (inf or NaN when AUC(tau,F) is 0).
    """
    x, y = (np.append(fpr, 0.0), np.append(tpr, 0.0)) if close_roc else (fpr, tpr)
    df = float(-np.trapezoid(y, x))
    dt = float(np.trapezoid(tpr, tau))
    ft = float(np.trapezoid(fpr, tau))
    with np.errstate(divide="ignore", invalid="ignore"):
        snpr = float(np.float64(dt) / np.float64(ft))
    return {
        "AUC_FPR_TPR": df,
        "AUC_tau_TPR": dt,
        "AUC_tau_FPR": ft,
        "AUC_BS": df - ft,
        "AUC_TD": df + dt,
        "AUC_TDBS": dt - ft,
        "AUC_ODP": df + dt - ft,
        "AUC_SNPR": snpr,
    }


def _suffix_counts(levels: np.ndarray) -> np.ndarray:
    """``out[k]`` = number of entries with ``level > k``, k = 0..100."""
    hist = np.bincount(levels, minlength=N_LEVELS + 1)
    return np.cumsum(hist[::-1])[::-1][1 : N_LEVELS + 1].astype(np.float64)


def roc3d(maps: np.ndarray, seq: Sequence, protocol: str | RocProtocol = "tensoristd") -> Roc3DResult:
    """3-D ROC of target maps against the ground truth of ``seq``.

    Parameters
    ----------
    maps : ndarray of shape (T, H, W)
        Raw target maps (any scale; larger is more target-like), matched
        frame by frame with ``seq``.
    seq : Sequence
        Ground truth: masks (8-connected components are the targets) or
        points (a 3x3 box each).
    protocol : str
        ``tensoristd`` (the toolbox's exact rules) or ``clean[:norm=frame|sequence]``,
        either with ``+bin(RULE)`` to score the maps a threshold rule cuts to 0/1;
        see `istdbench.metrics.protocols`.

    Returns
    -------
    Roc3DResult

    Raises
    ------
    DataError
        Maps with NaN/inf or a shape other than the sequence's, a sequence
        without ground truth, or no target left to score.
    """
    proto = get_protocol(protocol)
    values = proto.prepare(check_maps(maps, seq))
    regions = target_regions(seq, proto.box_radius, proto.drop_border_targets)
    if regions.n_targets == 0:
        why = " (protocol 'tensoristd' drops targets on the image border)" if proto.drop_border_targets else ""
        raise DataError(f"sequence {seq.name!r} has no scorable target in {len(seq)} frames{why}; TPR is undefined.")
    levels = proto.levels(values)
    zero = values.reshape(len(values), -1).max(axis=1) <= 0  # no positive evidence: an all-zero map

    peaks = regions.peaks(levels)
    if proto.skip_zero_frames:
        peaks = np.where(zero[regions.frame], 0, peaks)
    tpr = _suffix_counts(peaks) / regions.n_targets

    scored = np.ones(len(values), dtype=bool)
    if proto.skip_zero_frames:
        scored &= ~zero
    if proto.skip_targetless_frames:
        scored &= regions.n_per_frame > 0
    background = ~regions.union & scored[:, None, None]
    false_counts = _suffix_counts(levels[background])
    n_scored = int(scored.sum())
    h, w = seq.shape[1:]
    if proto.toolbox_fpr_denominator:
        denominator = n_scored * (h * w - (2 * proto.box_radius + 1) ** 2)
    else:
        denominator = int(background.sum())
    if proto.binarize is not None and zero.all():
        log.warning(
            "binarisation rule %s leaves every one of the %d maps of %r empty: no detection, TPR 0%s",
            proto.binarize.spec,
            len(values),
            seq.name,
            "; the toolbox rule drops every frame from FPR" if proto.skip_zero_frames else "",
        )
    if denominator > 0:
        fpr = false_counts / denominator
    else:
        if proto.binarize is None:
            log.warning("no frame of %r is scored for FPR (all maps zero?); FPR is set to 0", seq.name)
        fpr = np.zeros(N_LEVELS)

    tau = proto.tau()
    return Roc3DResult(
        thresholds=proto.thresholds(),
        tau=tau,
        tpr=tpr,
        fpr=fpr,
        aucs=auc_family(tau, tpr, fpr, close_roc=proto.close_roc),
        protocol=proto.id,
        n_targets=regions.n_targets,
        n_frames_fpr=n_scored,
        n_frames_empty=int(zero.sum()),
    )
