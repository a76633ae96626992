"""Numerics shared by the classical ports: proximal operators, MATLAB-compatible helpers.

Every method imports from here rather than carrying its own copy. Functions
that mirror a MATLAB built-in say so, because the reference maps depend on the
exact MATLAB behaviour (rounding, NaN handling).
"""

from __future__ import annotations

from typing import Literal

import numpy as np


def soft_threshold(x: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
    """Two-sided shrinkage ``sign(x) * max(|x| - tau, 0)`` (prox of ``tau * ||.||_1``)."""
    return np.sign(x) * np.maximum(np.abs(x) - tau, 0.0)


def mat2gray(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``mat2gray``: min-max scaling to [0, 1], NaN ignored, a constant gives zeros."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    if not np.isfinite(hi - lo) or hi == lo:
        return np.zeros_like(x, dtype=np.float64)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def snap_to_8bit(x: np.ndarray, atol: float = 1e-5) -> np.ndarray:
    """Recover exact ``k/255`` values from 8-bit data that went through float32.

    Frames of an 8-bit source are stored as float32, so ``k/255`` carries a
    relative error of ~3e-8. Iterative ports (PSTNN's ADMM stops on a
    tolerance) can take a different number of iterations from that alone;
    snapping back to the float64 values MATLAB's ``im2double`` gives removes
    the difference. Data that is not 8-bit (noise added, synthetic) is
    returned unchanged, in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.round(x * 255.0)
    if np.all(np.abs(x * 255.0 - k) <= atol * 255.0):
        return k / 255.0
    return x


def fspecial_gaussian(size: int, sigma: float) -> np.ndarray:
    """MATLAB's ``fspecial('gaussian', [size size], sigma)``: sampled, tiny entries zeroed, sum 1.

    Built explicitly because ``scipy.ndimage.gaussian_filter`` truncates at a
    multiple of sigma, so a 3x3 kernel with sigma 9 cannot be expressed there.
    """
    half = (size - 1) / 2.0
    ax = np.arange(size) - half
    h = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2.0 * sigma**2))
    h[h < np.finfo(np.float64).eps * h.max()] = 0.0
    return h / h.sum()


def structure_tensor_eigenvalues(img: np.ndarray, size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (l1 >= l2) of the smoothed structure tensor, as in PSTNN's prior.

    The image is pre-smoothed with an ``fspecial`` Gaussian (sigma 2), its
    gradient taken with MATLAB ``gradient`` semantics (central differences,
    one-sided at the edges), and the tensor entries smoothed with a Gaussian of
    sigma 9; both filters are correlations with ``symmetric`` borders (scipy
    ``reflect``).
    """
    from scipy.ndimage import correlate

    u = correlate(np.asarray(img, dtype=np.float64), fspecial_gaussian(size, 2.0), mode="reflect")
    gy, gx = np.gradient(u)
    k = fspecial_gaussian(size, 9.0)
    j11 = correlate(gx * gx, k, mode="reflect")
    j12 = correlate(gx * gy, k, mode="reflect")
    j22 = correlate(gy * gy, k, mode="reflect")
    root = np.sqrt((j11 - j22) ** 2 + 4.0 * j12**2)
    return 0.5 * (j11 + j22 + root), 0.5 * (j11 + j22 - root)


def corner_prior(img: np.ndarray, size: int = 3) -> np.ndarray:
    """PSTNN's local prior weight ``mat2gray(l1*l2/(l1+l2) * max(l1, l2))``.

    Flat areas give ``0/0``; as in MATLAB those pixels stay NaN (``mat2gray``
    ignores NaN when scaling), and the solver treats a NaN weight as an
    infinite one (the pixel cannot be target).
    """
    l1, l2 = structure_tensor_eigenvalues(img, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = l1 * l2 / (l1 + l2) * np.maximum(l1, l2)
    if np.isnan(strength).all():  # a flat frame: nothing is corner-like
        return np.zeros_like(strength)
    return mat2gray(strength)


def svt_gram(x: np.ndarray, tau: float, n_keep: int | np.ndarray = 0) -> tuple[np.ndarray, np.ndarray]:
    """Singular value thresholding of a matrix or a batch of matrices through ``eigh`` of the Gram matrix.

    Singular value thresholding (``U max(S - tau, 0) V^H`` per matrix), for real
    or complex input of shape (..., m, n), but via the eigendecomposition of
    the smaller Gram matrix: for the many small or very tall matrices of IPI
    and STT that is several times cheaper than a batched SVD, and only the
    eigenvectors of the retained singular values enter the product.

    ``n_keep`` (an int, or ints broadcastable to the batch shape ``...``)
    leaves that many leading singular values of each matrix unshrunk: the
    capped / partial-sum thresholding of NPSTT.

    Returns
    -------
    result : ndarray of shape (..., m, n)
        The thresholded matrices.
    ranks : ndarray of int, shape (...)
        Number of singular values kept (exempt or above ``tau``) per matrix.

    Notes
    -----
    A singular value is the square root of a Gram eigenvalue, which carries an
    absolute error of about ``eps * s_max**2``: values below ~1e-8 ``s_max``
    are not resolved. They only matter when ``tau`` is that small, and then
    their contribution to the result is of the order of rounding anyway.
    """
    x = np.asarray(x)
    wide = x.shape[-2] < x.shape[-1]
    a = np.swapaxes(x, -1, -2).conj() if wide else x  # tall: (..., m, k) with k <= m
    gram = np.swapaxes(a, -1, -2).conj() @ a
    batch = gram.shape[:-2]
    out = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))
    ranks = np.zeros(batch, dtype=np.int64)
    exempt = np.broadcast_to(np.clip(np.asarray(n_keep, dtype=np.int64), 0, gram.shape[-1]), batch)
    # Gershgorin: s_max^2 <= max row sum of |gram|, so a matrix under that bound keeps
    # nothing and needs no eigendecomposition (exact; about a sixth of STT's slices).
    pending = (np.abs(gram).sum(axis=-1).max(axis=-1, initial=0.0) > tau * tau) | (exempt > 0)
    if not pending.any():
        return out.astype(x.dtype, copy=False), ranks
    a_t, gram_t = a[pending], gram[pending]
    evals, evecs = np.linalg.eigh(gram_t)  # ascending
    s = np.sqrt(np.clip(evals, 0.0, None))
    k = s.shape[-1]
    top = np.arange(k) >= k - exempt[pending][:, None]  # the n_keep largest, in ascending order
    above = s > tau
    ranks[pending] = (above | top).sum(axis=-1)
    scale = np.where(top, 1.0, np.where(above, 1.0 - tau / np.where(above, s, 1.0), 0.0))
    shrunk = np.zeros(a_t.shape, dtype=out.dtype)
    for rows, r in _rank_groups(ranks[pending]):
        v = evecs[rows, :, -r:]
        shrunk[rows] = ((a_t[rows] @ v) * scale[rows, None, -r:]) @ np.swapaxes(v, -1, -2).conj()
    out[pending] = np.swapaxes(shrunk, -1, -2).conj() if wide else shrunk
    return out.astype(x.dtype, copy=False), ranks


def _rank_groups(ranks: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Indices of a flat batch grouped by kept rank (buckets up to 4, 8, 16, ...), with each group's top rank.

    Why: the products that rebuild the thresholded matrices cost in proportion
    to the number of kept singular vectors; sharing one width across a batch
    whose ranks range from 1 to 50 (STT's Fourier slices) would pay the
    largest rank for every matrix.
    """
    flat = ranks.reshape(-1)
    groups = []
    low = 0
    for high in (4, 8, 16, 32, int(flat.max(initial=0))):
        rows = np.flatnonzero((flat > low) & (flat <= high))
        if rows.size:
            groups.append((rows, int(flat[rows].max())))
        low = max(low, high)
    return groups


def tnn_prox(
    x: np.ndarray,
    tau: float,
    axis: int = -1,
    n_keep: int | np.ndarray = 0,
    solver: Literal["gram", "svd"] = "gram",
) -> tuple[np.ndarray, np.ndarray]:
    """Proximal step of ``tau`` times the tensor nuclear norm (or its partial sum), for one tensor or a batch.

    The t-SVD runs along ``axis`` (the "tube" axis n3); the frontal slices are
    spanned by the last two of the remaining axes, any axes before them index
    a batch of independent tensors. Each slice of ``rfft(x, axis)`` has its
    singular values soft-thresholded by ``tau``, except its ``n_keep`` largest,
    which are kept as they are. ``n_keep=0`` is Lu et al.'s ``prox_tnn`` (STT);
    ``n_keep=N`` is PSTNN's ``prox_pstnn`` (threshold ``1/mu``), clipped to
    ``min(n1, n2)``; ints broadcastable to ``(..., n3 // 2 + 1)`` give one
    count per tensor and Fourier slice (NPSTT's capped thresholding).

    ``solver="gram"`` thresholds through `svt_gram` (cheaper for STT's and
    NPSTT's many small slices); ``"svd"`` through a batched SVD, the
    arithmetic of PSTNN's MATLAB original.

    Returns
    -------
    result : ndarray, same shape as ``x``
    ranks : ndarray of int, shape (..., n3 // 2 + 1)
        Per tensor, the rank kept in each non-redundant Fourier slice.

    Notes
    -----
    Only the ``n3 // 2 + 1`` non-redundant slices are decomposed (``rfft``):
    the others are their complex conjugates, which the MATLAB originals fill
    in explicitly. This equals the MATLAB loop to ``round(n3/2)`` (half away
    from zero) plus the middle slice for even ``n3``; a Python port using
    banker's rounding would skip slices.
    """
    xs = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -3)  # (..., n3, n1, n2)
    n3 = xs.shape[-3]
    xf = np.fft.rfft(xs, axis=-3)
    if solver == "gram":
        shrunk, ranks = svt_gram(xf, tau, n_keep)
    else:
        u, s, vh = np.linalg.svd(xf, full_matrices=False)
        lead = np.arange(s.shape[-1]) < np.asarray(n_keep)[..., None]
        s = np.where(lead, s, np.maximum(s - tau, 0.0))
        ranks = np.count_nonzero(s > 0, axis=-1)
        shrunk = (u * s[..., None, :]) @ vh
    out = np.fft.irfft(shrunk, n=n3, axis=-3)
    return np.moveaxis(out, -3, axis), ranks
