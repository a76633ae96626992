"""Pixel-level scores of binary detections against masks: IoU, F1 and nIoU.

IoU and F1 are pooled over every pixel of the sequence (sum of TP, FP, FN
over frames first), as in the seed paper's Table 9 and BasicIRSTD's "mIoU".
nIoU is the mean over frames of each frame's IoU (YimianDai's ``samplewise``
metric, pyirstdmetrics' sample-based IoU); by that convention a frame with
neither a target nor a detection scores 0. A pooled score whose union is empty
(no target and no detection anywhere) is NaN: there is nothing to score.

An image set is scored the same way with each image as a frame: pass lists of
(H, W) detections and masks (sizes may differ between images).
"""

from __future__ import annotations

import numpy as np

from istdbench.core.errors import DataError

from ._checks import Frames, frame_stacks, is_image_list


def confusion(pred: Frames, gt: Frames) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (per-image) true-positive, false-positive and false-negative pixel counts.

    ``pred`` and ``gt`` are (T, H, W) arrays of the same shape, or lists of
    (H, W) arrays with the same size image by image.
    """
    if is_image_list(pred) or is_image_list(gt):
        if not (is_image_list(pred) and is_image_list(gt)) or len(pred) != len(gt):
            raise DataError("detections and masks must both be lists of (H, W) images, one detection per mask.")
        counts = [_stack_confusion(p, g) for p, g in zip(frame_stacks(pred), frame_stacks(gt), strict=True)]
        tp, fp, fn = (np.concatenate([c[k] for c in counts]) for k in range(3))
        return tp, fp, fn
    return _stack_confusion(pred, gt)


def _stack_confusion(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def pixel_metrics(pred: Frames, gt: Frames) -> dict[str, float]:
    """``IoU``, ``F1`` and ``nIoU`` of detections against masks (stacks or lists of images), from one count."""
    tp, fp, fn = confusion(pred, gt)
    return pixel_metrics_from_counts(tp, fp, fn)


def pixel_metrics_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict[str, float]:
    """``IoU``, ``F1`` (pooled) and ``nIoU`` (mean per frame) from per-frame TP, FP, FN counts."""
    union = tp + fp + fn
    per_frame = np.divide(tp, union, out=np.zeros(len(tp)), where=union > 0)
    return {
        "IoU": _ratio(tp.sum(), union.sum()),
        "F1": _ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum()),
        "nIoU": float(per_frame.mean()),
    }


def iou(pred: Frames, gt: Frames) -> float:
    """Pooled intersection over union ``sum TP / sum (TP + FP + FN)``."""
    return pixel_metrics(pred, gt)["IoU"]


def f1(pred: Frames, gt: Frames) -> float:
    """Pooled F1 ``2 sum TP / (2 sum TP + sum FP + sum FN)``."""
    return pixel_metrics(pred, gt)["F1"]


def niou(pred: Frames, gt: Frames) -> float:
    """Mean over frames of the per-frame IoU; a frame with an empty union scores 0."""
    return pixel_metrics(pred, gt)["nIoU"]
