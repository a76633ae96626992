"""Protocol ``basicirstd@1``: how the single-frame ISTD toolboxes score binarised maps.

BasicIRSTD (Ying et al.) and pyirstdmetrics, the most used scoring code for
SIRST, NUDT-SIRST and IRSTD-1k, agree on these rules, which this module applies
to an `ImageSet` (each image on its own) or to a masked `Sequence` (each frame
an image):

* each map is min-max normalised to [0, 1] and thresholded at 0.5 (the named
  rule ``minmax:0.5``; another rule may be given and is recorded);
* IoU = sum TP / sum (TP + FP + FN), pooled over every pixel of the set
  (BasicIRSTD's "mIoU");
* nIoU = the mean over images of each image's IoU, an image with neither
  target nor detection scoring 0;
* F1 = 2 sum TP / (2 sum TP + sum FP + sum FN), pooled;
* Pd = matched targets / targets, where targets are the 8-connected mask
  components and, for each target in label order, the first unmatched
  8-connected predicted region whose centroid lies strictly closer than 3 px is
  its match;
* Fa = pixels of unmatched predicted regions / all pixels of the set.

Where the toolboxes differ from each other and from these rules is tabled in
``metrics/PROTOCOLS.md``. The functions doing the work are the suite's shared
ones (`istdbench.metrics.pixel`, `istdbench.metrics.target`); this module only
fixes which of their options the protocol uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.types import ImageSet, Sequence

from ._checks import check_data_maps
from .groundtruth import centres, require_ground_truth
from .pixel import confusion, pixel_metrics_from_counts
from .protocols import BASICIRSTD, BasicIrstdProtocol
from .target import pd_fa
from .thresholds import ThresholdRule, parse_threshold

METRIC_KEYS = ("IoU", "nIoU", "F1", "Pd", "Fa")


@dataclass(frozen=True)
class BasicIrstdScores:
    """The five scores (fractions, not percent) and the counts behind them."""

    metrics: dict[str, float]
    counts: dict[str, int]
    protocol: str
    threshold: str


def basicirstd(
    maps: object,
    data: ImageSet | Sequence,
    threshold: str | ThresholdRule | None = None,
    protocol: BasicIrstdProtocol = BASICIRSTD,
) -> BasicIrstdScores:
    """IoU, nIoU, F1, Pd and Fa of raw maps under ``basicirstd@1``.

    Parameters
    ----------
    maps : list of (H, W) arrays, dict by image name, `ImageSetDetection`, or ndarray (T, H, W)
        Raw target maps, one per image of ``data`` (per frame of a sequence).
    data : ImageSet or Sequence
        Ground truth; it must have pixel masks.
    threshold : str, optional
        Binarisation rule; default ``minmax:0.5`` (the protocol's).

    Raises
    ------
    DataError
        Maps that do not match the data, or data without pixel masks.
    """
    rule = parse_threshold(threshold if threshold is not None else protocol.default_threshold)
    values = check_data_maps(maps, data)
    require_ground_truth(data)
    if data.masks is None:
        raise DataError(
            f"protocol 'basicirstd' scores pixel masks; sequence {data.name!r} has points only "
            "(use protocol tensoristd or clean, whose Pd/Fa accept points)."
        )
    detections = rule.binarize(values)
    gt = list(data.masks) if isinstance(data, ImageSet) else data.masks
    tp, fp, fn = confusion(detections, gt)
    target = pd_fa(detections, centres(data), distance=protocol.distance)
    metrics = {**pixel_metrics_from_counts(tp, fp, fn), **target.as_dict()}
    counts = {
        "n_images": len(tp),
        "tp": int(np.sum(tp)),
        "fp": int(np.sum(fp)),
        "fn": int(np.sum(fn)),
        "n_targets": target.n_targets,
        "hits": target.hits,
        "false_pixels": target.false_pixels,
        "n_pixels": target.n_pixels,
    }
    return BasicIrstdScores(
        metrics={k: metrics[k] for k in METRIC_KEYS}, counts=counts, protocol=protocol.id, threshold=rule.spec
    )
