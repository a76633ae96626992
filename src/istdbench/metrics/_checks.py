"""Input checks shared by the metrics: a bad map is rejected with a message that names the problem."""

from __future__ import annotations

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.types import Sequence


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
