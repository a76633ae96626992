"""One ADMM solver for tensor robust PCA with a non-negative target, shared by STT and PSTNN.

The two ports differ only in their low-rank step (the full or partial tensor
nuclear norm prox) and in whether the l1 term is reweighted; the iteration,
the stopping rules and the mu schedule are the toolbox's ``TRPCA.m`` in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

LowStep = Callable[[np.ndarray, float], np.ndarray]
"""``(batch of tensors, threshold 1/mu) -> their low-rank parts``."""

Reweight = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(non-negative targets of the active tensors, their batch indices) -> new l1 weights``."""


class ADMMSettings(Protocol):
    tol: float
    max_iter: int
    rho: float
    mu0: float
    mu_max: float
    nnz_stop: bool


def _norms(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return np.sqrt(np.einsum("bi,bi->b", flat, flat))


def trpca_admm(
    data: np.ndarray,
    lam: float,
    settings: ADMMSettings,
    low_step: LowStep,
    reweight: Reweight | None = None,
    on_leave: Callable[[np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ADMM for ``min ||L||_low + lam ||W . S||_1  s.t.  X = L + S, S >= 0`` on a batch of tensors.

    One iteration, as in the toolbox's ``TRPCA.m``::

        L = low_step(X - S - Y/mu, 1/mu)
        S = max(X - L - Y/mu - W lam/mu, 0)        (W = 1 without reweighting)
        W = reweight(S)                            (PSTNN)
        Y = Y + mu (L + S - X),  mu = min(rho mu, mu_max)

    A tensor stops when ``||L + S - X||_F / ||X||_F < tol`` or, with
    ``nnz_stop``, when its count of positive target entries is unchanged and
    nonzero; it then leaves the batch with its current L and S. All tensors
    share mu (they start together). A NaN or infinite weight forces its entry
    to 0 (``fmax``), as MATLAB's NaN-ignoring ``max`` does in PSTNN.
    ``on_leave(keep)``, if given, is called with the mask of the active
    tensors that stay whenever some leave, so that a stateful ``low_step``
    (NPSTT's per-tensor rank caps) can drop their state.

    Parameters
    ----------
    data : ndarray of shape (B, ...)
        B independent tensors.

    Returns
    -------
    low, sparse : ndarray, same shape as ``data``
    iterations : ndarray of int, shape (B,)
        Iterations each tensor took (0 for an all-zero tensor, its own solution).
    converged : ndarray of bool, shape (B,)
        Whether a stopping rule (not ``max_iter``) ended the tensor's iterations.
    """
    n = len(data)
    low = np.zeros_like(data)
    sparse = np.zeros_like(data)
    iterations = np.zeros(n, dtype=np.int64)
    converged = np.ones(n, dtype=bool)
    norms = _norms(data)
    active = np.flatnonzero(norms > 0)
    x = data[active]
    s = np.zeros_like(x)
    y = np.zeros_like(x)
    weight = None if reweight is None else np.ones_like(x)
    mu = settings.mu0
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(1, settings.max_iter + 1):
            if len(active) == 0:
                break
            nnz_before = np.count_nonzero(s.reshape(len(s), -1) > 0, axis=1)
            shifted = x - y / mu
            low_a = low_step(shifted - s, 1.0 / mu)
            shifted -= low_a
            shifted -= lam / mu if weight is None else weight * (lam / mu)
            s = np.fmax(shifted, 0.0, out=shifted)
            if reweight is not None:
                weight = reweight(s, active)
            resid = low_a + s - x
            err = _norms(resid) / norms[active]
            nnz = np.count_nonzero(s.reshape(len(s), -1) > 0, axis=1)
            rule = err < settings.tol
            if settings.nnz_stop:
                rule |= (nnz_before > 0) & (nnz == nnz_before)
            stop = rule | (it == settings.max_iter)
            y += mu * resid
            mu = min(settings.rho * mu, settings.mu_max)
            if stop.any():
                done = active[stop]
                low[done], sparse[done], iterations[done], converged[done] = low_a[stop], s[stop], it, rule[stop]
                keep = ~stop
                active, x, s, y = active[keep], x[keep], s[keep], y[keep]
                if weight is not None:
                    weight = weight[keep]
                if on_leave is not None:
                    on_leave(keep)
    return low, sparse, iterations, converged
