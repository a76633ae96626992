"""Numerics shared by the classical ports: proximal operators, MATLAB-compatible helpers.

Every method imports from here rather than carrying its own copy. Functions
that mirror a MATLAB built-in say so, because the reference maps depend on the
exact MATLAB behaviour (rounding, NaN handling).
"""

from __future__ import annotations

import numpy as np


def soft_threshold(x: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
    """Two-sided shrinkage ``sign(x) * max(|x| - tau, 0)`` (prox of ``tau * ||.||_1``)."""
    return np.sign(x) * np.maximum(np.abs(x) - tau, 0.0)


def svt(x: np.ndarray, tau: float) -> tuple[np.ndarray, int]:
    """Singular value thresholding (prox of ``tau * ||.||_*``); returns the result and its rank."""
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    s = np.maximum(s - tau, 0.0)
    r = int(np.count_nonzero(s))
    return (u[:, :r] * s[:r]) @ vh[:r], r


def matlab_round(x: np.ndarray | float) -> np.ndarray:
    """MATLAB's ``round``: halves away from zero (numpy rounds halves to even)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def mat2gray(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``mat2gray``: min-max scaling to [0, 1], NaN ignored, a constant gives zeros."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    if not np.isfinite(hi - lo) or hi == lo:
        return np.zeros_like(x, dtype=np.float64)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)
