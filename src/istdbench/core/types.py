"""The plain data that flows between layers: `Sequence` in, `Detection` out.

Both validate on construction so that a bad array is caught where it enters the
suite, with a message that names the problem, not deep inside a method.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .errors import DataError

Points = tuple[np.ndarray, ...]
"""Per frame, an array of shape (k, 2) of zero-based (row, col) target centres."""


@dataclass(frozen=True)
class Provenance:
    """Where a sequence came from, so that every result can be traced back."""

    source: str = ""
    frame_numbers: tuple[int, ...] = ()  # 1-based frame numbers in the source
    noise: str = "none"
    data_hash: str = ""


def _check_frames(frames: Any, what: str = "frames") -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 3:
        raise DataError(f"{what} must have shape (T, H, W); got an array of shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise DataError(f"{what} is empty: the sequence has no frames.")
    if arr.shape[1] == 0 or arr.shape[2] == 0:
        raise DataError(f"{what} has an empty frame size {arr.shape[1:]}.")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise DataError(f"{what} must be real numbers; got dtype {arr.dtype}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        t = sorted(set(np.nonzero(bad)[0].tolist()))
        shown = ", ".join(str(i) for i in t[:10]) + (" ..." if len(t) > 10 else "")
        raise DataError(f"{what} contain NaN or inf values in frame(s) {shown} (zero-based).")
    return arr


def as_points(points: Any, n_frames: int, shape: tuple[int, int]) -> Points:
    """Validate per-frame target centres; each becomes a float (k, 2) (row, col) array."""
    if len(points) != n_frames:
        raise DataError(f"points has {len(points)} entries for {n_frames} frames; one entry per frame is required.")
    out = []
    h, w = shape
    for t, p in enumerate(points):
        arr = np.asarray(p, dtype=np.float64).reshape(-1, 2) if len(p) else np.zeros((0, 2))
        if not np.isfinite(arr).all():
            raise DataError(f"points of frame {t} (zero-based) contain NaN or inf.")
        outside = (arr[:, 0] < -0.5) | (arr[:, 0] > h - 0.5) | (arr[:, 1] < -0.5) | (arr[:, 1] > w - 0.5)
        if outside.any():
            r, c = arr[outside][0]
            raise DataError(f"point (row={r:g}, col={c:g}) of frame {t} (zero-based) lies outside the {h}x{w} image.")
        arr.setflags(write=False)
        out.append(arr)
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Sequence:
    """An image sequence with optional ground truth.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W)
        Intensities scaled to [0, 1]; stored as float32.
    name : str
        Identifier used in result tables (e.g. ``daub/sequence1``).
    masks : ndarray of shape (T, H, W), optional
        Boolean target masks.
    points : sequence of length T of (k, 2) arrays, optional
        Zero-based (row, col) target centres per frame.
    provenance : Provenance
        Source path, 1-based frame numbers, noise description, data hash.
    """

    frames: np.ndarray
    name: str = "sequence"
    masks: np.ndarray | None = None
    points: Points | None = None
    provenance: Provenance = field(default_factory=Provenance)

    def __post_init__(self) -> None:
        frames = _check_frames(self.frames)
        lo, hi = float(frames.min()), float(frames.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise DataError(f"frames must be scaled to [0, 1]; got values in [{lo:g}, {hi:g}].")
        frames = np.ascontiguousarray(np.clip(frames, 0, 1), dtype=np.float32)
        frames.setflags(write=False)
        object.__setattr__(self, "frames", frames)
        if self.masks is not None:
            masks = np.asarray(self.masks)
            if masks.shape != frames.shape:
                raise DataError(f"masks have shape {masks.shape} but frames have shape {frames.shape}.")
            masks = masks.astype(bool)
            masks.setflags(write=False)
            object.__setattr__(self, "masks", masks)
        if self.points is not None:
            object.__setattr__(self, "points", as_points(self.points, len(frames), frames.shape[1:]))
        fn = self.provenance.frame_numbers
        if not fn:
            object.__setattr__(
                self, "provenance", replace(self.provenance, frame_numbers=tuple(range(1, len(frames) + 1)))
            )
        elif len(fn) != len(frames):
            raise DataError(f"provenance lists {len(fn)} frame numbers for {len(frames)} frames.")

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.frames.shape)  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.frames.shape[0]

    def select(self, start: int, stop: int) -> Sequence:
        """Frames ``start..stop`` given as 1-based inclusive positions within this sequence."""
        n = len(self)
        if not (1 <= start <= stop <= n):
            raise DataError(f"frame range {start}:{stop} is outside 1:{n} of sequence {self.name!r}.")
        sl = slice(start - 1, stop)
        return Sequence(
            frames=self.frames[sl],
            name=self.name,
            masks=None if self.masks is None else self.masks[sl],
            points=None if self.points is None else self.points[sl],
            provenance=replace(self.provenance, frame_numbers=self.provenance.frame_numbers[sl]),
        )

    def crop(self, rows: tuple[int, int], cols: tuple[int, int]) -> Sequence:
        """The region ``rows[0]:rows[1]`` x ``cols[0]:cols[1]`` (zero-based, end exclusive) of every frame.

        Points are shifted into the region; points outside it are dropped (a
        frame whose target leaves the region has no target there), so cheap
        experiments on a window around a target are scored like whole frames.
        """
        h, w = self.frames.shape[1:]
        (r0, r1), (c0, c1) = rows, cols
        if not (0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w):
            raise DataError(f"crop rows {r0}:{r1}, cols {c0}:{c1} is not a non-empty region of the {h}x{w} frames.")
        points = None
        if self.points is not None:
            origin = np.array([r0, c0], dtype=np.float64)
            upper = np.array([r1 - 1, c1 - 1], dtype=np.float64)
            points = [p[((p >= origin) & (p <= upper)).all(axis=1)] - origin for p in self.points]
        return Sequence(
            frames=self.frames[:, r0:r1, c0:c1],
            name=f"{self.name}[{r0}:{r1},{c0}:{c1}]",
            masks=None if self.masks is None else self.masks[:, r0:r1, c0:c1],
            points=points,
            provenance=replace(self.provenance, data_hash=""),
        )

    def with_frames(self, frames: np.ndarray, noise: str) -> Sequence:
        """Same ground truth, new frames (e.g. after adding noise)."""
        return replace(self, frames=frames, provenance=replace(self.provenance, noise=noise))


@dataclass(frozen=True, eq=False)
class Detection:
    """What a method returns: the raw, unthresholded target map and its context.

    Parameters
    ----------
    target : ndarray of shape (T, H, W)
        Raw target map, float32; larger means more target-like.
    background : ndarray of shape (T, H, W), optional
        The model's background estimate, where it has one.
    runtime_s : float
        Wall time of ``detect`` in seconds.
    device : str
        Where it ran (``cpu``, ``cuda:0``).
    n_params : int, optional
        Learnable parameters of learned models at this input size.
    diagnostics : dict
        Per-method extras (loss curves per chunk, iteration counts).
    """

    target: np.ndarray
    background: np.ndarray | None = None
    runtime_s: float = 0.0
    device: str = "cpu"
    n_params: int | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        target = _check_frames(self.target, "target map")
        object.__setattr__(self, "target", np.ascontiguousarray(target, dtype=np.float32))
        if self.background is not None:
            bg = _check_frames(self.background, "background")
            if bg.shape != target.shape:
                raise DataError(f"background has shape {bg.shape} but the target map has shape {target.shape}.")
            object.__setattr__(self, "background", np.ascontiguousarray(bg, dtype=np.float32))

    @property
    def seconds_per_frame(self) -> float:
        return self.runtime_s / self.target.shape[0]
