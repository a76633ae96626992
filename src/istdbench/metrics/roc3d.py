"""3-D ROC (Chang 2020) of a target-map sequence and its AUC family, under a named protocol.

TPR is target-level (a point box or a mask component is detected when any of
its pixels passes), FPR is pixel-level (passing pixels outside every target).
The whole 101-threshold curve comes from one pass: each pixel's map value is
turned into the number of thresholds it passes (its *level*), and counts per
threshold are suffix sums of one histogram of levels.

On an image set each image is a frame of its own size: it is normalised as a
frame is (per image; ``norm=sequence`` divides by the maximum over the whole
set), its mask components are its targets, and the counts (targets passing,
background pixels passing, the FPR denominator) are pooled over the images
before the rates are taken. The frame rules of ``tensoristd`` apply per image
(an image without targets or with an all-zero map is left out of FPR; the
toolbox denominator sums ``H W - 9`` over the scored images).

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
from istdbench.core.types import ImageSet, Sequence

from ._checks import check_image_maps, check_maps
from .groundtruth import TargetRegions, mask_regions, require_ground_truth, target_regions
from .protocols import N_LEVELS, RocProtocol, get_roc_protocol

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
        Frames (images) whose scored map has no positive value (``tensoristd``
        drops them from FPR and counts their targets as missed); with a
        binarising protocol, the frames its rule leaves empty.
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


@dataclass
class _Counts:
    """What the rates of a curve are made of; poolable over images."""

    detected: np.ndarray  # targets passing each threshold
    false: np.ndarray  # background pixels passing each threshold
    n_targets: int
    denominator: int
    n_scored: int
    n_empty: int  # all-zero maps

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(
            self.detected + other.detected,
            self.false + other.false,
            self.n_targets + other.n_targets,
            self.denominator + other.denominator,
            self.n_scored + other.n_scored,
            self.n_empty + other.n_empty,
        )


def _counts(values: np.ndarray, regions: TargetRegions, proto: RocProtocol, peak: float | None = None) -> _Counts:
    """Curve counts of checked maps ``values`` (T, H, W) against their target regions."""
    levels = proto.levels(values, peak)
    zero = values.reshape(len(values), -1).max(axis=1) <= 0  # no positive evidence: an all-zero map

    peaks = regions.peaks(levels)
    if proto.skip_zero_frames:
        peaks = np.where(zero[regions.frame], 0, peaks)

    scored = np.ones(len(values), dtype=bool)
    if proto.skip_zero_frames:
        scored &= ~zero
    if proto.skip_targetless_frames:
        scored &= regions.n_per_frame > 0
    background = ~regions.union & scored[:, None, None]
    n_scored = int(scored.sum())
    h, w = values.shape[1:]
    if proto.toolbox_fpr_denominator:
        denominator = n_scored * (h * w - (2 * proto.box_radius + 1) ** 2)
    else:
        denominator = int(background.sum())
    detected, false = _suffix_counts(peaks), _suffix_counts(levels[background])
    return _Counts(detected, false, regions.n_targets, denominator, n_scored, int(zero.sum()))


def roc3d(
    maps: np.ndarray | list[np.ndarray], seq: Sequence | ImageSet, protocol: str | RocProtocol = "tensoristd"
) -> Roc3DResult:
    """3-D ROC of target maps against the ground truth of ``seq``.

    Parameters
    ----------
    maps : ndarray of shape (T, H, W), or one (H, W) map per image
        Raw target maps (any scale; larger is more target-like), matched
        frame by frame with ``seq``; for an image set a list in the set's
        order, a dict by image name or an `ImageSetDetection`.
    seq : Sequence or ImageSet
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
    proto = get_roc_protocol(protocol)
    if isinstance(seq, ImageSet):
        values = proto.prepare(check_image_maps(maps, seq))
        require_ground_truth(seq)
        peak = max(float(v.max()) for v in values) if proto.norm == "sequence" else None
        parts = [_counts(v[None], mask_regions(m[None]), proto, peak) for v, m in zip(values, seq.masks, strict=True)]
        counts = sum(parts[1:], parts[0])
        what, n = f"image set {seq.label!r}", f"{len(seq)} images"
    else:
        values = proto.prepare(check_maps(maps, seq))
        counts = _counts(values, target_regions(seq, proto.box_radius, proto.drop_border_targets), proto)
        what, n = f"sequence {seq.name!r}", f"{len(seq)} frames"
    if counts.n_targets == 0:
        why = " (protocol 'tensoristd' drops targets on the image border)" if proto.drop_border_targets else ""
        raise DataError(f"{what} has no scorable target in {n}{why}; TPR is undefined.")
    tpr = counts.detected / counts.n_targets
    if proto.binarize is not None and counts.n_empty == len(values):
        log.warning(
            "binarisation rule %s leaves every one of the %d maps of %s empty: no detection, TPR 0%s",
            proto.binarize.spec,
            len(values),
            what,
            "; the toolbox rule drops every frame from FPR" if proto.skip_zero_frames else "",
        )
    if counts.denominator > 0:
        fpr = counts.false / counts.denominator
    else:
        if proto.binarize is None:
            log.warning("no frame of %s is scored for FPR (all maps zero?); FPR is set to 0", what)
        fpr = np.zeros(N_LEVELS)

    tau = proto.tau()
    return Roc3DResult(
        thresholds=proto.thresholds(),
        tau=tau,
        tpr=tpr,
        fpr=fpr,
        aucs=auc_family(tau, tpr, fpr, close_roc=proto.close_roc),
        protocol=proto.id,
        n_targets=counts.n_targets,
        n_frames_fpr=counts.n_scored,
        n_frames_empty=counts.n_empty,
    )
