"""Target-level probability of detection (Pd) and false-alarm rate (Fa) of binary detections.

The common rule (BasicIRSTD ``PD_FA``, DNANet, pyirstdmetrics): detections
are grouped into 8-connected regions; for each ground-truth target in turn,
the first still-unmatched region (in raster order of its first pixel) whose
centroid lies at Euclidean distance < 3 px from the target's centroid is its
match. Pd = matched targets / targets; Fa = pixels of unmatched regions / all
pixels of the sequence.

Ground-truth centroids are the centroids of the mask's 8-connected components
(in raster order); for point-only ground truth (the real clips) the annotated
points themselves are the centroids, so a target counts as detected when a
detected region's centroid lies within 3 px of its point.

On an image set (lists of (H, W) detections, one centre array per image) each
image is a frame: regions never cross images, and Fa divides by the pixels of
all images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from istdbench.core.errors import DataError

from ._checks import Frames, frame_stacks, is_image_list
from .groundtruth import component_centroids, label_frames

DISTANCE = 3.0


@dataclass(frozen=True)
class PdFa:
    """Pd/Fa and the counts behind them (NaN Pd when there is no target)."""

    pd: float
    fa: float
    hits: int
    n_targets: int
    false_pixels: int
    n_pixels: int

    def as_dict(self) -> dict[str, float]:
        return {"Pd": self.pd, "Fa": self.fa}


def pd_fa(pred: Frames, gt_centres: list[np.ndarray], distance: float = DISTANCE) -> PdFa:
    """Pd and Fa of detections ``pred`` against per-frame (per-image) target centres.

    Parameters
    ----------
    pred : ndarray of shape (T, H, W), bool, or list of T (H, W) arrays
        Binary detections of a sequence, or of the images of an image set.
    gt_centres : list of T arrays of shape (k, 2)
        Zero-based (row, col) centroids of the targets of each frame, in
        matching order (see `istdbench.metrics.groundtruth.centres`).
    distance : float
        A region matches a target when its centroid is strictly closer than this.
    """
    stacks = frame_stacks(pred) if is_image_list(pred) else [np.asarray(pred, dtype=bool)]
    if stacks[0].ndim != 3:
        raise DataError(f"detections must have shape (T, H, W); got {stacks[0].shape}.")
    n_frames = sum(len(s) for s in stacks)
    if len(gt_centres) != n_frames:
        raise DataError(f"{len(gt_centres)} frames of ground-truth centres for {n_frames} frames of detections.")
    hits = n_targets = false_pixels = n_pixels = 0
    start = 0
    for stack in stacks:
        counts = _stack_counts(stack.astype(bool, copy=False), gt_centres[start : start + len(stack)], distance)
        start += len(stack)
        hits, n_targets, false_pixels = hits + counts[0], n_targets + counts[1], false_pixels + counts[2]
        n_pixels += stack.size
    return PdFa(
        pd=hits / n_targets if n_targets else float("nan"),
        fa=false_pixels / n_pixels,
        hits=hits,
        n_targets=n_targets,
        false_pixels=false_pixels,
        n_pixels=n_pixels,
    )


def _stack_counts(pred: np.ndarray, gt_centres: list[np.ndarray], distance: float) -> tuple[int, int, int]:
    """Hits, targets and unmatched detected pixels of one (T, H, W) stack."""
    labels, n = label_frames(pred)
    frame, cents, area = component_centroids(labels, n)
    matched = np.zeros(n, dtype=bool)
    bounds = np.searchsorted(frame, np.arange(pred.shape[0] + 1))  # regions of frame t: bounds[t]:bounds[t+1]
    hits = n_targets = 0
    for t, gts in enumerate(gt_centres):
        gts = np.asarray(gts, dtype=np.float64).reshape(-1, 2)
        n_targets += len(gts)
        lo, hi = bounds[t], bounds[t + 1]
        if lo == hi:
            continue
        for g in gts:
            close = (np.hypot(*(cents[lo:hi] - g).T) < distance) & ~matched[lo:hi]
            if close.any():
                matched[lo + int(np.argmax(close))] = True
                hits += 1
    return hits, n_targets, int(area[~matched].sum())
