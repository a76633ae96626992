"""Input checks shared by the metrics: a bad map is rejected with a message that names the problem.

Maps come as one (T, H, W) stack for a `Sequence` and as one (H, W) map per
image for an `ImageSet` (a list or tuple in the set's order, a dict keyed by
image name, or the `ImageSetDetection` itself). `frame_stacks` lets every
metric treat both alike: a stack is scored as it is, and each image as a
one-frame stack whose counts are pooled with the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.types import ImageSet, ImageSetDetection, Sequence

Frames = Any
"""A (T, H, W) array, or a sequence of (H, W) arrays of possibly different sizes (one per image)."""


def is_image_list(frames: Frames) -> bool:
    """Whether ``frames`` is a list or tuple of (H, W) arrays (one per image), not one array-like stack."""
    return (
        isinstance(frames, (list, tuple))
        and len(frames) > 0
        and all(isinstance(f, np.ndarray) and f.ndim == 2 for f in frames)
    )


def frame_stacks(frames: Frames) -> list[np.ndarray]:
    """``[frames]`` for a (T, H, W) stack; one (1, H, W) view per image for a list of (H, W) arrays."""
    if is_image_list(frames):
        return [f[None] for f in frames]
    return [np.asarray(frames)]


def check_image_maps(maps: Any, images: ImageSet) -> list[np.ndarray]:
    """One (H, W) map per image of ``images``, in the set's order, after checking them.

    The maps keep their dtype (each metric converts one image at a time to
    float64), so a large set is never held in float64 at once.

    ``maps`` is a list/tuple in the set's order, a dict keyed by image name or an `ImageSetDetection`.

    Raises
    ------
    DataError
        If the count, the names or a size differs from the set, or a map holds NaN or inf.
    """
    what = f"image set {images.label!r}"
    if isinstance(maps, ImageSetDetection):
        maps = maps.maps()
    if isinstance(maps, Mapping):
        known = set(images.names)
        missing = [n for n in images.names if n not in maps]
        extra = [n for n in maps if n not in known]
        if missing or extra:
            parts = [f"{len(maps)} maps for the {len(images)} images of {what}"]
            if missing:
                parts.append(f"no map for {_listing(missing)}")
            if extra:
                parts.append(f"maps of images the set does not hold: {_listing(extra)}")
            raise DataError("; ".join(parts) + ".")
        maps = [maps[n] for n in images.names]
    elif isinstance(maps, np.ndarray) and maps.ndim != 1 and maps.dtype != object:
        raise DataError(
            f"maps of {what} must be one (H, W) map per image (a list, or a dict by image name); "
            f"got one array of shape {maps.shape}."
        )
    maps = list(maps)
    if len(maps) != len(images):
        raise DataError(f"{len(maps)} maps for the {len(images)} images of {what}.")
    out = []
    for name, shape, m in zip(images.names, images.shapes, maps, strict=True):
        arr = np.asarray(m)
        if arr.shape != shape:
            raise DataError(f"the map of image {name!r} has shape {arr.shape} but the image has shape {shape}.")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
            raise DataError(f"the map of image {name!r} must be real numbers; got dtype {arr.dtype}.")
        if arr.dtype != bool and not (np.isfinite(arr.min()) and np.isfinite(arr.max())):  # NaN propagates
            raise DataError(f"the map of image {name!r} contains NaN or inf; a score needs finite maps.")
        out.append(arr)
    return out


def check_data_maps(maps: Any, data: Sequence | ImageSet) -> Frames:
    """`check_maps` for a sequence, `check_image_maps` for an image set."""
    return check_image_maps(maps, data) if isinstance(data, ImageSet) else check_maps(maps, data)


def _listing(names: list[str], shown: int = 5) -> str:
    head = ", ".join(repr(n) for n in names[:shown])
    return head + (f" and {len(names) - shown} more" if len(names) > shown else "")


def check_maps(maps: np.ndarray, seq: Sequence) -> np.ndarray:
    """Return ``maps`` as float64 (T, H, W) after checking it against ``seq``.

    Raises
    ------
    DataError
        If the maps are not a real 3-D array, contain NaN or inf, or do not
        match the sequence's frame count and frame size.
    """
    arr = np.asarray(maps)
    if arr.ndim != 3:
        raise DataError(f"maps must have shape (T, H, W); got an array of shape {arr.shape}.")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise DataError(f"maps must be real numbers; got dtype {arr.dtype}.")
    if arr.shape[0] != len(seq):
        raise DataError(
            f"maps have {arr.shape[0]} frames but sequence {seq.name!r} has {len(seq)} "
            f"(frames {_span(seq.provenance.frame_numbers)}); select the matching frames."
        )
    if arr.shape[1:] != seq.shape[1:]:
        raise DataError(
            f"maps have frame size {arr.shape[1]}x{arr.shape[2]} but sequence {seq.name!r} has "
            f"{seq.shape[1]}x{seq.shape[2]}."
        )
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        frames = np.flatnonzero(bad.any(axis=(1, 2)))
        shown = ", ".join(str(int(f)) for f in frames[:10]) + (" ..." if frames.size > 10 else "")
        raise DataError(f"maps contain NaN or inf in frame(s) {shown} (zero-based); a score needs finite maps.")
    return arr


def _span(numbers: tuple[int, ...]) -> str:
    return f"{numbers[0]}-{numbers[-1]}" if numbers else "none"
