"""Signal-to-clutter ratio of annotated targets, as the synthetic generator defines and sets it.

``SCR = (peak - mu_b) / sigma_b``: ``peak`` is the pixel that contains the
target centre (the brightest pixel of a pixel-integrated PSF); ``mu_b`` and ``sigma_b`` are the mean and standard
deviation over the ``SCR_WINDOW`` x ``SCR_WINDOW`` window centred on the
target, leaving out the disc of radius ``exclude`` around the centre (the
target's own pixels), so the statistic measures the clutter the target sits in.
"""

from __future__ import annotations

import numpy as np

from istdbench.core.types import Points

SCR_WINDOW = 21
"""Side of the square window whose background statistics define the SCR."""


def background_stats(frame: np.ndarray, r: float, c: float, exclude: float) -> tuple[float, float]:
    """(mean, std) of the window around (r, c) without the disc of radius ``exclude``."""
    half = SCR_WINDOW // 2
    h, w = frame.shape
    ri, ci = round(r), round(c)
    r0, r1 = max(ri - half, 0), min(ri + half + 1, h)
    c0, c1 = max(ci - half, 0), min(ci + half + 1, w)
    yy, xx = np.mgrid[r0:r1, c0:c1]
    ring = frame[r0:r1, c0:c1][np.hypot(yy - r, xx - c) > exclude]
    return float(ring.mean()), float(ring.std())


def peak_at(frame: np.ndarray, r: float, c: float) -> float:
    """Value of the pixel that contains (r, c) (pixel centres at integer coordinates)."""
    h, w = frame.shape
    return float(frame[min(max(round(r), 0), h - 1), min(max(round(c), 0), w - 1)])


def measure_scr(frames: np.ndarray, points: Points, exclude: float = 8.0) -> np.ndarray:
    """SCR of every annotated target, frame by frame (a flat array in frame then target order).

    Parameters
    ----------
    frames : ndarray of shape (T, H, W)
    points : per frame, (k, 2) zero-based (row, col) centres
    exclude : float
        Radius left out of the background window; it should cover the largest target.
    """
    out = []
    for frame, pts in zip(frames, points, strict=True):
        for r, c in pts:
            mu, sd = background_stats(frame, r, c, exclude)
            out.append((peak_at(frame, r, c) - mu) / sd if sd > 0 else np.inf)
    return np.asarray(out, dtype=np.float64)
