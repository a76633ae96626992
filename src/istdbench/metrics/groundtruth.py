"""Ground truth as the metrics see it: target regions, component labels and centres.

Two kinds of ground truth reach the metrics: pixel masks (synthetic data,
image sets) and centre points (real clips). Masks win when a sequence has both,
as in the toolbox, whose mask folder replaces the point file. Targets in masks
are 8-connected components; a point becomes a small box around its rounded
pixel. An image set's truth is its masks, one per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from istdbench.core.errors import DataError
from istdbench.core.types import ImageSet, Sequence

# 8-connected within a frame, never across frames: labels of a (T, H, W) stack stay per frame.
_FRAME_8 = np.zeros((3, 3, 3), dtype=bool)
_FRAME_8[1] = True


def label_frames(binary: np.ndarray) -> tuple[np.ndarray, int]:
    """Label the 8-connected components of every frame of ``binary`` (T, H, W) in one call.

    Labels are unique across the stack and numbered in raster order (frame,
    row, col of each component's first pixel), the order of ``skimage.measure.label``
    per frame. Only the bounding box of the set pixels is labelled (small
    targets make it small); cropping keeps the raster order, so the labels are
    those of the whole stack.
    """
    binary = np.asarray(binary, dtype=bool)
    rows = np.flatnonzero(binary.any(axis=(0, 2)))
    if rows.size == 0:
        return np.zeros(binary.shape, dtype=np.int32), 0
    cols = np.flatnonzero(binary.any(axis=(0, 1)))
    box = (slice(None), slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    cropped, n = ndimage.label(binary[box], structure=_FRAME_8)
    if cropped.shape == binary.shape:
        return cropped, int(n)
    labels = np.zeros(binary.shape, dtype=cropped.dtype)
    labels[box] = cropped
    return labels, int(n)


def component_centroids(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame index, (row, col) centroid and pixel count of labels ``1..n`` (vectorised)."""
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros((0, 2)), np.zeros(0, dtype=np.intp)
    flat = labels.ravel()
    idx = np.flatnonzero(flat != 0)  # nonzero of a bool array: many times faster than of the int labels
    lab = flat[idx]
    t, r, c = np.unravel_index(idx, labels.shape)
    area = np.bincount(lab, minlength=n + 1)[1:]
    rows = np.bincount(lab, weights=r, minlength=n + 1)[1:] / area
    cols = np.bincount(lab, weights=c, minlength=n + 1)[1:] / area
    frame = np.zeros(n + 1, dtype=np.intp)
    frame[lab] = t
    return frame[1:], np.column_stack([rows, cols]), area


def toolbox_pixel(points: np.ndarray) -> np.ndarray:
    """1-based integer pixel of zero-based (row, col) points, as the toolbox rounds its annotations.

    The annotation file holds 1-based values; MATLAB's ``round`` takes halves
    away from zero. ``floor(p + 1 + 0.5)`` is that rule for positive values.
    """
    return np.floor(np.asarray(points, dtype=np.float64) + 1.5).astype(np.intp)


def require_ground_truth(seq: Sequence | ImageSet) -> None:
    """Raise `DataError` if ``seq`` has neither masks nor points (an image set: no masks)."""
    if isinstance(seq, ImageSet):
        if seq.masks is None:
            raise DataError(f"image set {seq.label!r} has no masks; it cannot be scored.")
        return
    if seq.masks is None and seq.points is None:
        raise DataError(f"sequence {seq.name!r} has no ground truth (neither masks nor points); it cannot be scored.")


def centres(seq: Sequence | ImageSet) -> list[np.ndarray]:
    """Per frame (per image), the (k, 2) zero-based (row, col) target centres: mask centroids, else the points."""
    require_ground_truth(seq)
    if isinstance(seq, ImageSet):
        return [_mask_centres(m[None])[0] for m in seq.masks]
    if seq.masks is None:
        return [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in seq.points]
    return _mask_centres(seq.masks)


def _mask_centres(masks: np.ndarray) -> list[np.ndarray]:
    labels, n = label_frames(masks)
    frame, cents, _ = component_centroids(labels, n)
    return [cents[frame == t] for t in range(len(masks))]


@dataclass(frozen=True)
class TargetRegions:
    """The scored targets of a sequence for the 3-D ROC.

    Attributes
    ----------
    n_per_frame : ndarray of shape (T,)
        Targets counted in each frame (after any border rule).
    union : ndarray of shape (T, H, W), bool
        Pixels that belong to some target (excluded from FPR).
    frame : ndarray of shape (n,)
        Frame index of each target.
    boxes : ndarray of shape (n, 4) or None
        ``r0, r1, c0, c1`` (half-open) of each point target's box.
    labels : ndarray of shape (T, H, W) or None
        Component labels ``1..n`` of mask targets.
    """

    n_per_frame: np.ndarray
    union: np.ndarray
    frame: np.ndarray
    boxes: np.ndarray | None = None
    labels: np.ndarray | None = None

    @property
    def n_targets(self) -> int:
        return int(self.frame.size)

    def peaks(self, values: np.ndarray) -> np.ndarray:
        """Maximum of ``values`` (T, H, W) over each target: a target passes a threshold iff its peak does."""
        if self.n_targets == 0:
            return np.zeros(0, dtype=values.dtype)
        if self.labels is not None:
            return ndimage.maximum(values, self.labels, np.arange(1, self.n_targets + 1)).astype(values.dtype)
        return np.array(
            [values[t, r0:r1, c0:c1].max() for t, (r0, r1, c0, c1) in zip(self.frame, self.boxes, strict=True)],
            dtype=values.dtype,
        )


def point_regions(
    points: tuple[np.ndarray, ...], shape: tuple[int, int, int], radius: int, drop_border: bool
) -> TargetRegions:
    """Boxes of side ``2 radius + 1`` around the rounded points.

    With ``drop_border`` (the toolbox's rule) a target whose 1-based rounded
    row ``x`` or col ``y`` has ``x <= r``, ``y <= r``, ``x >= H - r`` or
    ``y >= W - r`` is dropped; otherwise boxes are clipped to the image.
    """
    t_len, h, w = shape
    union = np.zeros(shape, dtype=bool)
    frames, boxes, counts = [], [], np.zeros(t_len, dtype=np.intp)
    for t, p in enumerate(points):
        for x, y in toolbox_pixel(p):
            if drop_border and (x <= radius or y <= radius or x >= h - radius or y >= w - radius):
                continue
            r, c = min(max(x - 1, 0), h - 1), min(max(y - 1, 0), w - 1)  # a point at -0.5 or size-0.5 rounds out
            box = (max(r - radius, 0), min(r + radius + 1, h), max(c - radius, 0), min(c + radius + 1, w))
            union[t, box[0] : box[1], box[2] : box[3]] = True
            frames.append(t)
            boxes.append(box)
            counts[t] += 1
    return TargetRegions(
        n_per_frame=counts,
        union=union,
        frame=np.asarray(frames, dtype=np.intp),
        boxes=np.asarray(boxes, dtype=np.intp).reshape(-1, 4),
    )


def mask_regions(masks: np.ndarray) -> TargetRegions:
    """8-connected components of the masks, one target each."""
    labels, n = label_frames(masks)
    frame, _, _ = component_centroids(labels, n)
    return TargetRegions(
        n_per_frame=np.bincount(frame, minlength=masks.shape[0]),
        union=np.asarray(masks, dtype=bool),
        frame=frame,
        labels=labels,
    )


def target_regions(seq: Sequence, radius: int, drop_border: bool) -> TargetRegions:
    """Mask components if ``seq`` has masks, else boxes around its points (image sets: `mask_regions` per image)."""
    require_ground_truth(seq)
    if seq.masks is not None:
        return mask_regions(seq.masks)
    return point_regions(seq.points, seq.shape, radius, drop_border)
