"""Static background scenes for synthetic sequences: sky clouds, ground, or both, in clutter-std units.

Each scene is a 2-D float64 array with zero mean and unit standard deviation,
so that signal-to-clutter ratios can be set in the same units. The
ingredients are the ones that make real infrared clutter hard: 1/f textures
(clouds have most power at low spatial frequency), sharp region boundaries and
roads (edges that leak into the sparse part of low-rank models), and bright
compact blobs (hot buildings) that local-contrast detectors mistake for targets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft, ndimage, special
from scipy.spatial import cKDTree


def _unit(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    s = x.std()
    return x / s if s > 0 else x


def fractal_texture(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Gaussian random field with power spectrum ``1 / f**beta`` (zero mean, unit std).

    ``beta`` near 2 gives rough texture; near 3-4, smooth cloud-like structure.
    """
    h, w = shape
    fy = fft.fftfreq(h)[:, None]
    fx = fft.rfftfreq(w)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0 / max(h, w)  # the mean is removed afterwards; avoid the pole
    amp = f ** (-beta / 2.0)
    spec = amp * (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape))
    return _unit(fft.irfft2(spec, s=shape))


def gaussian_spot(r: float, c: float, sigma: float, shape: tuple[int, int]) -> tuple[tuple[slice, slice], np.ndarray]:
    """A pixel-integrated 2-D Gaussian centred at (r, c), scaled so its brightest pixel is 1.

    Integrating over each pixel (rather than sampling at its centre) keeps a
    1-px target's energy when its centre falls between pixels, as a real focal
    plane does. Returns the window (slices into an image of ``shape``) and the
    values on it.
    """
    h, w = shape
    half = int(np.ceil(4 * sigma)) + 1
    r0, r1 = max(int(np.floor(r)) - half, 0), min(int(np.floor(r)) + half + 2, h)
    c0, c1 = max(int(np.floor(c)) - half, 0), min(int(np.floor(c)) + half + 2, w)
    k = 1.0 / (np.sqrt(2.0) * sigma)
    rows = np.arange(r0, r1, dtype=np.float64)
    cols = np.arange(c0, c1, dtype=np.float64)
    py = special.erf((rows + 0.5 - r) * k) - special.erf((rows - 0.5 - r) * k)
    px = special.erf((cols + 0.5 - c) * k) - special.erf((cols - 0.5 - c) * k)
    spot = np.outer(py, px)
    peak = spot.max()
    return (slice(r0, r1), slice(c0, c1)), (spot / peak if peak > 0 else spot)


def cloud_scene(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Sky with bright cloud banks: a smooth 1/f field through a soft threshold, over a vertical gradient."""
    h, _ = shape
    field = fractal_texture(rng, shape, beta=3.3)
    level = rng.uniform(-0.2, 0.6)
    clouds = np.logaddexp(0.0, 2.5 * (field - level))  # softplus: clear sky below the level, clouds above
    gradient = np.linspace(rng.uniform(0.0, 0.8), 0.0, h)[:, None]  # sky brightens toward the horizon
    fine = 0.08 * fractal_texture(rng, shape, beta=2.0)
    return _unit(clouds + gradient + fine)


def ground_scene(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Fields with straight boundaries, a few roads, hot blobs and fine texture."""
    h, w = shape
    n_cells = max(6, (h * w) // 2500)
    seeds = rng.uniform([0, 0], [h, w], size=(n_cells, 2))
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), axis=-1).reshape(-1, 2)
    _, label = cKDTree(seeds).query(grid)
    scene = rng.normal(0.0, 1.0, n_cells)[label].reshape(h, w)
    scene = ndimage.gaussian_filter(scene, 0.7)  # optics blur softens the boundaries slightly
    scene += 0.35 * fractal_texture(rng, shape, beta=2.4)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(rng.integers(1, 4)):  # roads: anti-aliased straight bands
        y0, x0 = rng.uniform(0, h), rng.uniform(0, w)
        theta = rng.uniform(0, np.pi)
        dist = np.abs((xx - x0) * np.sin(theta) - (yy - y0) * np.cos(theta))
        width = rng.uniform(1.0, 3.0)
        scene += rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 1.6) * np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)
    for _ in range(max(2, (h * w) // 6000)):  # hot blobs (buildings, vehicles at rest)
        (sr, sc), spot = gaussian_spot(rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1.5, 5.0), shape)
        scene[sr, sc] += rng.uniform(1.5, 3.0) * spot
    return _unit(scene)


def mixed_scene(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Sky over ground, joined at a horizon 30-60 % down the frame."""
    h, _ = shape
    sky = 0.7 * cloud_scene(rng, shape) - 0.5
    ground = ground_scene(rng, shape)
    horizon = rng.uniform(0.3, 0.6) * h
    alpha = special.expit((np.arange(h, dtype=np.float64) - horizon) / 1.5)[:, None]
    return _unit((1.0 - alpha) * sky + alpha * ground)


SCENES: dict[str, Callable[[np.random.Generator, tuple[int, int]], np.ndarray]] = {
    "cloud": cloud_scene,
    "ground": ground_scene,
    "mixed": mixed_scene,
}
"""Scene generators by the name used in synthetic specs (``clutter=...``)."""


def local_std(image: np.ndarray, size: int) -> np.ndarray:
    """Standard deviation over a ``size`` x ``size`` window around each pixel."""
    mean = ndimage.uniform_filter(image, size, mode="reflect")
    sq = ndimage.uniform_filter(image * image, size, mode="reflect")
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))
