"""Pixel-level scores of binary detections against masks: IoU, F1 and nIoU.

IoU and F1 are pooled over every pixel of the sequence (sum of TP, FP, FN
over frames first), as in the seed paper's Table 9 and BasicIRSTD's "mIoU".
nIoU is the mean over frames of each frame's IoU (YimianDai's ``samplewise``
metric, pyirstdmetrics' sample-based IoU); by that convention a frame with
neither a target nor a detection scores 0. A pooled score whose union is empty
(no target and no detection anywhere) is NaN: there is nothing to score.
"""

from __future__ import annotations

import numpy as np

from istdbench.core.errors import DataError


def confusion(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame true-positive, false-positive and false-negative pixel counts of (T, H, W) arrays."""
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise DataError(f"detections {pred.shape} and masks {gt.shape} must be (T, H, W) arrays of the same shape.")
    axes = (1, 2)
    tp = np.count_nonzero(pred & gt, axis=axes)
    fp = np.count_nonzero(pred & ~gt, axis=axes)
    fn = np.count_nonzero(~pred & gt, axis=axes)
    return tp, fp, fn


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def pixel_metrics(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """``IoU``, ``F1`` and ``nIoU`` of detections against masks, from one confusion count."""
    tp, fp, fn = confusion(pred, gt)
    union = tp + fp + fn
    per_frame = np.divide(tp, union, out=np.zeros(len(tp)), where=union > 0)
    return {
        "IoU": _ratio(tp.sum(), union.sum()),
        "F1": _ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum()),
        "nIoU": float(per_frame.mean()),
    }


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Pooled intersection over union ``sum TP / sum (TP + FP + FN)``."""
    return pixel_metrics(pred, gt)["IoU"]


def f1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Pooled F1 ``2 sum TP / (2 sum TP + sum FP + sum FN)``."""
    return pixel_metrics(pred, gt)["F1"]


def niou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean over frames of the per-frame IoU; a frame with an empty union scores 0."""
    return pixel_metrics(pred, gt)["nIoU"]
