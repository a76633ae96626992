"""The plain data that flows between layers: `Sequence` or `ImageSet` in, `Detection` or `ImageSetDetection` out.

All four validate on construction so that a bad array is caught where it enters the
suite, with a message that names the problem, not deep inside a method.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from .errors import DataError, UnknownNameError

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


def _check_image(image: Any, what: str) -> tuple[np.ndarray, float, float]:
    """One (H, W) real, finite array and its range (the image-set counterpart of `_check_frames`)."""
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise DataError(f"{what} must have shape (H, W); got an array of shape {arr.shape}.")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{what} has an empty size {arr.shape}.")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise DataError(f"{what} must be real numbers; got dtype {arr.dtype}.")
    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min and max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise DataError(f"{what} contains NaN or inf values.")
    return arr, lo, hi


def _read_only_float32(arr: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float32 array: ``arr`` itself if it already is one that owns its data, else a copy."""
    if arr.dtype == np.float32 and arr.flags.c_contiguous and not arr.flags.writeable and arr.base is None:
        return arr
    out = np.array(arr, dtype=np.float32, order="C", copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class ImageSet:
    """A set of single images of different sizes with optional masks (SIRST, NUDT-SIRST, IRSTD-1k).

    A single-frame dataset is not a (T, H, W) sequence: its images differ in
    size and have no temporal order. Single-frame methods detect on it image by
    image (`SingleFrameMethod.detect_batch`), multi-frame methods refuse it, and
    every metric scores it as the union of its images (pooled counts; per-image
    rules wherever a sequence's rule is per frame).

    Parameters
    ----------
    images : sequence of N ndarrays of shape (H_i, W_i)
        Intensities scaled to [0, 1]; stored as read-only float32 (a read-only
        float32 array that owns its data is kept as it is, others are copied).
    names : sequence of N str
        Unique image names (the file stem, e.g. ``Misc_70``); the key of an
        image in maps files and per-image results.
    masks : sequence of N ndarrays of shape (H_i, W_i), optional
        Target masks, one per image (any nonzero value is target; stored as
        read-only bool). A target-free image has an all-false mask. None: the
        set carries no pixel truth (it can be detected on, not scored).
    name : str
        The set's name in result tables (its catalog name, e.g. ``sirst``).
    split : str
        The named split the images were selected by; ``""`` is the whole set.
    provenance : Provenance
        ``source`` (the set's folder), ``noise`` and ``data_hash`` (see
        `istdbench.datasets.images.images_hash`); ``frame_numbers`` is unused.
    """

    images: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    masks: tuple[np.ndarray, ...] | None = None
    name: str = "imageset"
    split: str = ""
    provenance: Provenance = field(default_factory=Provenance)

    def __post_init__(self) -> None:
        images = tuple(self.images)
        names = tuple(self.names)
        if not images:
            raise DataError(f"image set {self.name!r} is empty: it has no images.")
        if len(names) != len(images):
            raise DataError(f"image set {self.name!r} has {len(names)} names for {len(images)} images.")
        seen: set[str] = set()
        for n in names:
            if not isinstance(n, str) or not n:
                raise DataError(f"image set {self.name!r}: image names must be non-empty strings; got {n!r}.")
            if n in seen:
                raise DataError(f"image set {self.name!r}: duplicate image name {n!r}.")
            seen.add(n)
        checked = []
        for n, img in zip(names, images, strict=True):
            arr, lo, hi = _check_image(img, f"image {n!r}")
            if lo < -1e-6 or hi > 1 + 1e-6:
                raise DataError(f"image {n!r} must be scaled to [0, 1]; got values in [{lo:g}, {hi:g}].")
            checked.append(_read_only_float32(np.clip(arr, 0, 1) if lo < 0 or hi > 1 else arr))
        object.__setattr__(self, "images", tuple(checked))
        object.__setattr__(self, "names", names)
        if self.masks is not None:
            masks = tuple(self.masks)
            if len(masks) != len(images):
                raise DataError(f"image set {self.name!r} has {len(masks)} masks for {len(images)} images.")
            out = []
            for n, img, m in zip(names, checked, masks, strict=True):
                arr = np.asarray(m)
                if arr.shape != img.shape:
                    raise DataError(
                        f"the mask of image {n!r} has shape {arr.shape} but the image has shape {img.shape}."
                    )
                mask = arr != 0  # a fresh array: nothing of the caller's is frozen
                mask.setflags(write=False)
                out.append(mask)
            object.__setattr__(self, "masks", tuple(out))

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """(H, W) of every image, in order."""
        return tuple(img.shape for img in self.images)  # type: ignore[misc]

    @property
    def n_pixels(self) -> int:
        return sum(img.size for img in self.images)

    @property
    def label(self) -> str:
        """``<name>/<split>`` (``<name>/all`` for the whole set): the set's row name in result tables."""
        return f"{self.name}/{self.split or 'all'}"

    def index(self, name: str) -> int:
        """Position of the image called ``name`` (unknown names suggest the closest)."""
        position = self._positions.get(name)
        if position is None:
            close = difflib.get_close_matches(str(name), self.names, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(f"image set {self.name!r} has no image {name!r} ({len(self)} images).{hint}")
        return position

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.names)}

    def subset(self, names: Any, split: str = "") -> ImageSet:
        """The images called ``names``, in that order, as a set labelled ``split``."""
        idx = [self.index(n) for n in names]
        return ImageSet(
            images=tuple(self.images[i] for i in idx),
            names=tuple(self.names[i] for i in idx),
            masks=None if self.masks is None else tuple(self.masks[i] for i in idx),
            name=self.name,
            split=split,
            provenance=replace(self.provenance, data_hash=""),
        )

    def with_images(self, images: Any, noise: str) -> ImageSet:
        """Same names and masks, new images (e.g. after adding noise); the caller sets the new data hash."""
        return replace(self, images=tuple(images), provenance=replace(self.provenance, noise=noise, data_hash=""))


@dataclass(frozen=True, eq=False)
class ImageSetDetection:
    """What a method returns for an `ImageSet`: one raw, unthresholded map per image.

    The (T, H, W) `Detection` stays the result type of sequences; this is its
    image-set counterpart with the same metadata fields.

    Parameters
    ----------
    targets : sequence of N ndarrays of shape (H_i, W_i)
        Raw target map of each image, float32; larger means more target-like.
    names : sequence of N str
        The image names, in the set's order (``targets[i]`` belongs to ``names[i]``).
    backgrounds : sequence of N ndarrays of shape (H_i, W_i), optional
        The model's background estimates, where it has them.
    runtime_s, device, n_params, diagnostics, method, config
        As in `Detection`; ``diagnostics`` values are per-image lists.
    """

    targets: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    backgrounds: tuple[np.ndarray, ...] | None = None
    runtime_s: float = 0.0
    device: str = "cpu"
    n_params: int | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = tuple(self.names)
        targets = tuple(self.targets)
        if len(targets) != len(names):
            raise DataError(f"{len(targets)} target maps for {len(names)} image names.")
        object.__setattr__(self, "names", names)
        object.__setattr__(
            self,
            "targets",
            tuple(
                np.ascontiguousarray(_check_image(t, f"target map of image {n!r}")[0], dtype=np.float32)
                for n, t in zip(names, targets, strict=True)
            ),
        )
        if self.backgrounds is not None:
            bgs = tuple(self.backgrounds)
            if len(bgs) != len(names):
                raise DataError(f"{len(bgs)} backgrounds for {len(names)} images.")
            out = []
            for n, t, b in zip(names, self.targets, bgs, strict=True):
                arr = _check_image(b, f"background of image {n!r}")[0]
                if arr.shape != t.shape:
                    raise DataError(f"the background of image {n!r} has shape {arr.shape}, its map {t.shape}.")
                out.append(np.ascontiguousarray(arr, dtype=np.float32))
            object.__setattr__(self, "backgrounds", tuple(out))

    def __len__(self) -> int:
        return len(self.targets)

    def maps(self) -> dict[str, np.ndarray]:
        """Image name -> target map."""
        return dict(zip(self.names, self.targets, strict=True))

    @property
    def seconds_per_frame(self) -> float:
        """Seconds per image (named as `Detection`'s, so timing code serves both)."""
        return self.runtime_s / len(self.targets)
