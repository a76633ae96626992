"""Every applicable metric of one job's target maps, as a flat dict the runner stores row by row.

``evaluate`` is what the runner calls per job: the eight 3-D ROC AUCs under a
ROC protocol, the contrast gains (SCRG, BSF, CG) under the same protocol, and
Pd/Fa plus, where the sequence has masks, IoU, F1 and nIoU under a threshold
rule. ``evaluate_full`` also returns the ROC curves for ``curves.npz``. Under
protocol ``basicirstd`` the result is IoU, nIoU, F1, Pd and Fa only (no ROC).

Under a binarising protocol (``tensoristd+bin(chunk-max:0.4)``) every metric
scores the 0/1 maps its rule cuts, as the toolbox and the authors' scripts
score the PNGs such a rule writes: the threshold rule then applies to those
maps (``ratio``, ``chunk-max`` and ``fixed`` below 1 give back the same mask),
and ``empty_frames`` counts the frames the rule leaves empty.
The data is a `Sequence` with (T, H, W) maps or an `ImageSet` with one map per
image (see `istdbench.metrics._checks`).

What each kind of bad or degenerate input gives (NaN/inf maps, shape
mismatches, all-zero maps, frames without targets, border targets, points on
the image edge) is tabled in ``metrics/PROTOCOLS.md``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from istdbench.core.types import ImageSet, Sequence

from ._checks import check_data_maps
from .basicirstd import basicirstd
from .contrast import contrast_gains
from .groundtruth import centres, require_ground_truth
from .pixel import pixel_metrics
from .protocols import BasicIrstdProtocol, Protocol, get_protocol
from .roc3d import Roc3DResult, roc3d
from .target import pd_fa
from .thresholds import ThresholdRule, parse_threshold

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The flat metric dict, the ROC result behind its AUCs (None under ``basicirstd``), and the rules used."""

    metrics: dict[str, float]
    roc: Roc3DResult | None
    protocol: str  # spec@version of the protocol
    threshold: str  # canonical threshold spec
    counts: dict[str, int] = dataclasses.field(default_factory=dict)  # basicirstd: the counts behind the scores


def evaluate_full(
    maps: object,
    seq: Sequence | ImageSet,
    protocol: str | Protocol = "tensoristd",
    threshold: str | ThresholdRule | None = None,
) -> Evaluation:
    """All applicable metrics and the ROC curves of ``maps`` against ``seq``.

    Parameters
    ----------
    maps : ndarray of shape (T, H, W), or one (H, W) map per image
        Raw target maps, frame by frame with ``seq``; for an `ImageSet` a list
        in the set's order, a dict by image name or an `ImageSetDetection`.
    seq : Sequence or ImageSet
        Frames (for the contrast gains) and ground truth (masks and/or points).
    protocol : str
        ROC protocol (`istdbench.metrics.protocols`), possibly binarising
        (``+bin(RULE)``), or ``basicirstd``.
    threshold : str, optional
        Binarisation rule for IoU/F1/nIoU/Pd/Fa (`istdbench.metrics.thresholds`);
        default the protocol's (``ratio:0.5``; ``minmax:0.5`` for ``basicirstd``).

    Raises
    ------
    DataError
        Bad maps (NaN/inf, wrong shape or count), or data without ground truth
        or without any scorable target.
    InvalidParameterError, UnknownNameError
        A bad protocol or threshold spec.
    """
    proto = get_protocol(protocol)
    if isinstance(proto, BasicIrstdProtocol):
        scores = basicirstd(maps, seq, threshold, proto)
        return Evaluation(scores.metrics, None, scores.protocol, scores.threshold, scores.counts)
    rule = parse_threshold(threshold if threshold is not None else proto.default_threshold)
    raw = check_data_maps(maps, seq)
    require_ground_truth(seq)
    roc = roc3d(raw, seq, proto)
    values = proto.prepare(raw)  # the maps as scored: raw, or the 0/1 cut of a binarising protocol
    gt_centres = centres(seq)
    detections = rule.binarize(values)
    images = isinstance(seq, ImageSet)
    metrics: dict[str, float] = dict(roc.aucs)
    if proto.binarize is not None:
        metrics["empty_frames"] = float(roc.n_frames_empty)
    if seq.masks is not None:
        metrics.update(pixel_metrics(detections, list(seq.masks) if images else seq.masks))
    metrics.update(pd_fa(detections, gt_centres).as_dict())
    metrics.update(contrast_gains(list(seq.images) if images else seq.frames, raw, gt_centres, proto))
    log.debug("evaluated %s under %s / %s", seq.label if images else seq.name, roc.protocol, rule.spec)
    return Evaluation(metrics=metrics, roc=roc, protocol=roc.protocol, threshold=rule.spec)


def evaluate(
    maps: object,
    seq: Sequence | ImageSet,
    protocol: str | Protocol = "tensoristd",
    threshold: str | ThresholdRule | None = None,
) -> dict[str, float]:
    """Flat dict of every applicable metric (see `evaluate_full`).

    Keys: ``AUC_FPR_TPR, AUC_tau_TPR, AUC_tau_FPR, AUC_BS, AUC_TD, AUC_TDBS,
    AUC_ODP, AUC_SNPR``, ``empty_frames`` (only under a binarising protocol),
    ``IoU, F1, nIoU`` (only with masks), ``Pd, Fa``,
    ``SCRG, BSF, CG``; under ``basicirstd``: ``IoU, nIoU, F1, Pd, Fa``.
    """
    return evaluate_full(maps, seq, protocol, threshold).metrics
