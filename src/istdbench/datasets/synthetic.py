"""Synthetic infrared sequences with exact ground truth: the default data of a fresh machine and of CI.

A static clutter scene (`istdbench.datasets.clutter`) is viewed by a slowly
drifting camera; static target-like distractors sit in the scene; one to
several small targets (pixel-integrated Gaussian PSF, 1-5 px across) move on
smooth paths that bounce off the frame borders; sensor noise is added last.
Everything is seeded: the same spec gives bit-identical arrays, and each part
draws from its own random stream, so changing the number of targets leaves the
clutter, drift, noise and earlier targets as they were (up to the final
intensity scaling).

The signal-to-clutter ratio is defined in `istdbench.datasets.scr` (peak
minus the local background mean, over the local background std, in a 21 x 21
window without the target's own pixels). Each target keeps one brightness
along its path, chosen so that the median of its per-frame SCR equals ``scr``;
the per-frame SCR varies with the clutter it crosses, as in real footage.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from istdbench.core.errors import InvalidParameterError
from istdbench.core.specs import parse_items
from istdbench.core.types import Provenance, Sequence

from .clutter import SCENES, gaussian_spot, local_std
from .images import frames_hash
from .scr import SCR_WINDOW, background_stats

SYNTHETIC_PREFIX = "synthetic:"
_LEVELS = (0.05, 0.95)  # frames are scaled into this range, leaving headroom for noise models
_STREAMS = {"scene": 0, "drift": 1, "targets": 2, "sensor": 3, "distractors": 4}


@dataclass(frozen=True)
class SyntheticSpec:
    """Everything that defines a synthetic sequence (spec string keys are the field names).

    Parameters
    ----------
    h, w, t : int
        Frame height, width and count.
    seed : int
        Seed of every random stream.
    targets : int
        Moving targets (0 gives a target-free clip for false-alarm studies).
    scr : float
        Peak signal-to-clutter ratio of each target (see the module docstring).
    clutter : {"cloud", "ground", "mixed"}
        Background scene.
    size_min, size_max : int
        Range of target sizes in pixels (full width at half maximum of the PSF).
    speed : float
        Mean target speed in px/frame (each target draws 0.5-1.5 times this).
    drift : float
        Camera drift in px/frame (global translation of the scene).
    sensor : float
        Std of white sensor noise in clutter-std units.
    distractors : int
        Static target-like bright points in the scene.
    """

    h: int = 64
    w: int = 64
    t: int = 20
    seed: int = 0
    targets: int = 2
    scr: float = 3.0
    clutter: str = "cloud"
    size_min: int = 1
    size_max: int = 5
    speed: float = 1.0
    drift: float = 0.2
    sensor: float = 0.05
    distractors: int = 3

    def __post_init__(self) -> None:
        self._require("h", self.h >= 16, "an int >= 16")
        self._require("w", self.w >= 16, "an int >= 16")
        self._require("t", self.t >= 1, "an int >= 1")
        self._require("seed", self.seed >= 0, "an int >= 0")
        self._require("targets", self.targets >= 0, "an int >= 0")
        self._require("scr", self.scr > 0 and math.isfinite(self.scr), "a finite float > 0")
        self._require("clutter", self.clutter in SCENES, f"one of {sorted(SCENES)}")
        self._require("size_min", 1 <= self.size_min <= 15, "an int in [1, 15]")
        self._require("size_max", self.size_min <= self.size_max <= 15, "an int in [size_min, 15]")
        self._require("speed", 0 <= self.speed <= 20, "a float in [0, 20]")
        self._require("drift", 0 <= self.drift <= 5, "a float in [0, 5]")
        self._require("sensor", 0 <= self.sensor <= 10, "a float in [0, 10]")
        self._require("distractors", self.distractors >= 0, "an int >= 0")
        room = 2 * (self.size_max + 2) + 4
        if min(self.h, self.w) < room:
            raise InvalidParameterError(
                f"frames of {self.w}x{self.h} are too small for targets up to size_max={self.size_max}; "
                f"h and w must be >= {room}."
            )

    def _require(self, name: str, ok: bool, allowed: str) -> None:
        if not ok:
            raise InvalidParameterError(
                f"The {name!r} parameter of SyntheticSpec must be {allowed}. Got {getattr(self, name)!r} instead."
            )

    def canonical(self) -> str:
        """Short canonical form: h, w, t, seed always, other keys only where they differ from the default."""
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("h", "w", "t", "seed") or v != f.default:
                parts.append(f"{f.name}={v:g}" if isinstance(v, float) else f"{f.name}={v}")
        return ",".join(parts)

    @property
    def name(self) -> str:
        """Sequence name, ``synthetic/<canonical spec>``, so the dataset column reads ``synthetic``."""
        return f"synthetic/{self.canonical()}"


def parse_spec(text: str) -> SyntheticSpec:
    """Parse ``synthetic:h=64,w=64,t=20,seed=0,...`` (the prefix is optional) into a `SyntheticSpec`."""
    body = text.strip()
    if body.startswith(SYNTHETIC_PREFIX):
        body = body[len(SYNTHETIC_PREFIX) :]
    elif body == "synthetic":
        body = ""
    fields = {f.name for f in dataclasses.fields(SyntheticSpec)}
    hints = typing.get_type_hints(SyntheticSpec)
    values = parse_items(body, {f: hints[f] for f in fields}, "synthetic spec key", text, "synthetic")
    return SyntheticSpec(**values)


def _rng(spec: SyntheticSpec, stream: str) -> np.random.Generator:
    return np.random.default_rng([spec.seed, _STREAMS[stream]])


def _camera_offsets(spec: SyntheticSpec) -> np.ndarray:
    """Per-frame (dy, dx) scene offsets: constant-velocity drift in a random direction."""
    theta = _rng(spec, "drift").uniform(0, 2 * np.pi)
    steps = np.arange(spec.t, dtype=np.float64)[:, None]
    return steps * spec.drift * np.array([np.sin(theta), np.cos(theta)])


def _render_background(spec: SyntheticSpec) -> np.ndarray:
    """(T, H, W) clutter in clutter-std units: the padded static scene seen through the drifting camera."""
    margin = math.ceil(spec.drift * max(spec.t - 1, 0)) + 4
    shape = (spec.h + 2 * margin, spec.w + 2 * margin)
    scene = SCENES[spec.clutter](_rng(spec, "scene"), shape)
    _add_distractors(spec, scene)
    coeffs = ndimage.spline_filter(scene, order=3, mode="mirror")
    out = np.empty((spec.t, spec.h, spec.w), dtype=np.float32)  # float32 halves the memory traffic
    for k, (dy, dx) in enumerate(_camera_offsets(spec)):
        out[k] = _shifted_crop(coeffs, margin + dy, margin + dx, spec.h, spec.w)
    return out


def _bspline_weights(f: float) -> np.ndarray:
    """Cubic B-spline weights of the samples at offsets -1, 0, 1, 2 for a fractional position ``f``."""
    return np.array([(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3]) / 6.0


def _shifted_crop(coeffs: np.ndarray, y: float, x: float, h: int, w: int) -> np.ndarray:
    """The (h, w) window of a spline-interpolated image whose top-left corner sits at (y, x).

    The shift is the same for every pixel, so cubic interpolation is a separable
    4-tap filter: eight array additions, several times faster than `ndimage.shift`.
    """
    iy, ix = math.floor(y), math.floor(x)
    wy, wx = _bspline_weights(y - iy), _bspline_weights(x - ix)
    rows = sum(wy[k] * coeffs[iy - 1 + k : iy - 1 + k + h, ix - 1 : ix + w + 2] for k in range(4))
    return sum(wx[k] * rows[:, k : k + w] for k in range(4))


def _add_distractors(spec: SyntheticSpec, scene: np.ndarray) -> None:
    """Static bright points as small and as contrasted as the targets, fixed to the scene (they drift with it)."""
    rng = _rng(spec, "distractors")
    std = local_std(scene, SCR_WINDOW)
    h, w = scene.shape
    for _ in range(spec.distractors):
        r, c = rng.uniform(0, h - 1), rng.uniform(0, w - 1)
        sigma = rng.uniform(spec.size_min, spec.size_max) / 2.3548
        (sr, sc), spot = gaussian_spot(r, c, max(sigma, 0.3), scene.shape)
        scene[sr, sc] += rng.uniform(0.5, 1.2) * spec.scr * max(std[int(r), int(c)], 0.05) * spot


def _fold(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect positions into [lo, hi]: a target bounces off the borders instead of leaving."""
    span = hi - lo
    y = np.mod(x - lo, 2 * span)
    return lo + span - np.abs(y - span)


def _trajectories(spec: SyntheticSpec) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel (T, K, 2) zero-based (row, col) centres and (K,) sizes of the moving targets."""
    k = spec.targets
    margin = spec.size_max + 2.0
    sizes, start, speed, heading0, turn = np.empty(k, int), np.empty((k, 2)), np.empty(k), np.empty(k), np.empty(k)
    for j in range(k):  # one stream per target: adding targets keeps the earlier ones where they were
        rng = np.random.default_rng([spec.seed, _STREAMS["targets"], j])
        sizes[j] = rng.integers(spec.size_min, spec.size_max + 1)
        start[j] = rng.uniform([margin, margin], [spec.h - 1 - margin, spec.w - 1 - margin])
        speed[j] = spec.speed * rng.uniform(0.5, 1.5)
        heading0[j], turn[j] = rng.uniform(0, 2 * np.pi), rng.uniform(-0.03, 0.03)
    heading = heading0[None, :] + turn[None, :] * np.arange(spec.t)[:, None]  # slowly turning paths
    step = speed[None, :, None] * np.stack([np.sin(heading), np.cos(heading)], axis=-1)
    pos = start[None] + np.concatenate([np.zeros((1, k, 2)), np.cumsum(step[:-1], axis=0)], axis=0)
    pos[..., 0] = _fold(pos[..., 0], margin, spec.h - 1 - margin)
    pos[..., 1] = _fold(pos[..., 1], margin, spec.w - 1 - margin)
    return pos, sizes


def _contrast(spec: SyntheticSpec, background: np.ndarray, track: np.ndarray, sigma: float) -> float:
    """Peak contrast that makes the median per-frame SCR of a target along ``track`` equal ``spec.scr``.

    Frame i gives SCR_i = a_i + c * b_i (a_i: the background's own excess at the
    peak pixel, b_i = 1 / sigma_b), increasing in c, so the median is solved by bracketing.
    Where the clutter alone already exceeds the request, c is kept at a small
    positive floor, so a target is never darker than its surroundings.
    """
    a, b = np.empty(len(track)), np.empty(len(track))
    for i, (row, col) in enumerate(track):
        (sr, sc), spot = gaussian_spot(row, col, sigma, background.shape[1:])
        pr, pc = np.unravel_index(np.argmax(spot), spot.shape)
        mu, sd = background_stats(background[i], row, col, spec.size_max + 3.0)
        sd = max(sd, 1e-9)
        a[i], b[i] = (background[i, sr, sc][pr, pc] - mu) / sd, 1.0 / sd
    lo, hi = float(np.min((spec.scr - a) / b)), float(np.max((spec.scr - a) / b))
    if hi - lo <= 1e-12:
        contrast = lo
    else:
        contrast = optimize.brentq(lambda x: float(np.median(a + x * b)) - spec.scr, lo, hi, xtol=1e-10)
    floor = 0.1 * spec.scr * float(np.median(1.0 / b))  # never a dark (negative) target
    return max(contrast, floor)


def make_sequence(spec: SyntheticSpec) -> Sequence:
    """Generate the sequence a spec describes, with exact masks and sub-pixel centre points.

    Masks are the pixels where a target's PSF reaches half its brightest pixel;
    points are the PSF centres (zero-based (row, col), pixel centres at integers).
    """
    frames = _render_background(spec)
    frames += np.float32(spec.sensor) * _rng(spec, "sensor").standard_normal(frames.shape, dtype=np.float32)
    pos, sizes = _trajectories(spec)
    masks = np.zeros(frames.shape, dtype=bool)
    shape = (spec.h, spec.w)
    sigmas = sizes / 2.3548  # FWHM = size
    # contrasts from the background alone, before any target is drawn
    contrasts = [_contrast(spec, frames, pos[:, j], sigmas[j]) for j in range(len(sizes))]
    for j, (sigma, contrast) in enumerate(zip(sigmas, contrasts, strict=True)):
        for i in range(spec.t):
            (sr, sc), spot = gaussian_spot(pos[i, j, 0], pos[i, j, 1], sigma, shape)
            frames[i, sr, sc] += contrast * spot
            masks[i, sr, sc] |= spot >= 0.5
    lo, hi = float(frames.min()), float(frames.max())
    frames -= np.float32(lo)
    frames *= np.float32((_LEVELS[1] - _LEVELS[0]) / (hi - lo) if hi > lo else 0.0)
    frames += np.float32(_LEVELS[0])
    return Sequence(
        frames=frames,
        name=spec.name,
        masks=masks,
        points=tuple(pos[i] for i in range(spec.t)),
        provenance=Provenance(source=SYNTHETIC_PREFIX + spec.canonical(), noise="none", data_hash=frames_hash(frames)),
    )
