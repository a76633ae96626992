"""Singular value thresholding through the Gram matrix equals the SVD definition."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.methods._numerics import svt_gram, tnn_prox


def _svt_reference(x: np.ndarray, tau: float) -> np.ndarray:
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return (u * np.maximum(s - tau, 0.0)[..., None, :]) @ vh


def _matrices_of_many_ranks(shape: tuple[int, int], complex_: bool, rng: np.random.Generator) -> np.ndarray:
    """A batch whose thresholded ranks span 0..min(shape): spectra 2^-k decaying at different rates."""
    m, n = shape
    k = min(m, n)
    out = []
    for decay in (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 3.0, None):  # None: every singular value 0.5
        a = rng.standard_normal((m, k)) + (1j * rng.standard_normal((m, k)) if complex_ else 0)
        b = rng.standard_normal((k, n)) + (1j * rng.standard_normal((k, n)) if complex_ else 0)
        q1, _ = np.linalg.qr(a)
        q2, _ = np.linalg.qr(b.conj().T)
        s = np.full(k, 0.5) if decay is None else 10.0 * 2.0 ** (-decay * np.arange(k))
        out.append((q1 * s) @ q2.conj().T)
    return np.stack(out)


@pytest.mark.parametrize("shape", [(50, 50), (40, 12), (12, 40)])
@pytest.mark.parametrize("complex_", [False, True])
def test_svt_gram_equals_svd_thresholding(shape, complex_):
    rng = np.random.default_rng(0)
    x = _matrices_of_many_ranks(shape, complex_, rng).reshape(3, 3, *shape)
    tau = 1.0
    out, ranks = svt_gram(x, tau)
    ref = _svt_reference(x, tau)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10 * np.abs(x).max())
    expected_ranks = (np.linalg.svd(x, compute_uv=False) > tau).sum(-1)
    np.testing.assert_array_equal(ranks, expected_ranks)
    assert ranks.min() == 0  # a matrix under the threshold (the Gershgorin skip)
    assert len(set(ranks.ravel().tolist())) >= 5  # ranks in several of the rebuild's rank groups
    assert out.dtype == x.dtype


def test_svt_gram_all_below_threshold_gives_zeros():
    x = np.random.default_rng(1).standard_normal((4, 6, 5)) * 1e-3
    out, ranks = svt_gram(x, 10.0)
    assert not out.any() and not ranks.any() and out.shape == x.shape


def test_tnn_prox_thresholds_each_fourier_slice():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 9, 5))  # two tensors, tubes along axis 1
    tau = 0.8
    out, _ = tnn_prox(x, tau, axis=1)
    f = np.fft.fft(x, axis=1)
    ref = np.fft.ifft(_svt_reference(f, tau), axis=1).real
    np.testing.assert_allclose(out, ref, atol=1e-12)


def _capped_reference(x: np.ndarray, tau: float, n_keep: np.ndarray) -> np.ndarray:
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    lead = np.arange(s.shape[-1]) < np.asarray(n_keep)[..., None]
    return (u * np.where(lead, s, np.maximum(s - tau, 0.0))[..., None, :]) @ vh


@pytest.mark.parametrize("complex_", [False, True])
def test_svt_gram_keeps_the_leading_n_keep_unshrunk(complex_):
    rng = np.random.default_rng(3)
    x = _matrices_of_many_ranks((30, 20), complex_, rng)  # 9 matrices
    # the first and last spectra are flat (a leading subspace is not unique): exempt none or all there
    n_keep = np.array([0, 1, 3, 25, 5, 0, 2, 7, 20])  # 25: more than min(m, n), clipped
    tau = 4.0
    out, ranks = svt_gram(x, tau, n_keep)
    np.testing.assert_allclose(out, _capped_reference(x, tau, np.minimum(n_keep, 20)), rtol=0, atol=1e-10 * 10)
    s = np.linalg.svd(x, compute_uv=False)
    np.testing.assert_array_equal(ranks, ((s > tau) | (np.arange(20) < n_keep[:, None])).sum(-1))
    # a matrix far below tau keeps its exempt singular values: no Gershgorin skip then
    small = x[3:4] * 1e-3
    np.testing.assert_allclose(svt_gram(small, 1e3, 2)[0], _capped_reference(small, 1e3, np.array([2])), atol=1e-13)


def test_tnn_prox_n_keep_per_fourier_slice():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 9, 5))
    n_keep = np.array([[1, 0, 2, 3], [0, 4, 1, 0]])  # (tensors, n3 // 2 + 1)
    out, _ = tnn_prox(x, 0.8, axis=1, n_keep=n_keep)
    f = np.moveaxis(np.fft.rfft(x, axis=1), 1, 1)
    ref = np.fft.irfft(_capped_reference(f, 0.8, n_keep), n=7, axis=1)
    np.testing.assert_allclose(out, ref, atol=1e-12)
