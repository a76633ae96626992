"""NFTDGSTV: the closed-form steps, windows, the pipeline on a planted target, presets and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods.nftdgstv import (
    NFTDGSTV,
    NFTDGSTVConfig,
    core_update,
    log_svt,
    mode_cross,
    mode_product,
    nftdgstv,
    random_start,
    tucker,
    window_starts,
)

FAST = NFTDGSTVConfig(tol=1e-4)


def _video(rng: np.random.Generator, n: int = 6, size: int = 32) -> np.ndarray:
    """A smooth background with mild noise and one bright pixel moving one row per frame."""
    yy, xx = np.mgrid[0:size, 0:size]
    bg = 0.3 + 0.2 * np.sin(xx / 6.0 + yy / 9.0)
    frames = bg + 0.01 * rng.standard_normal((n, size, size))
    for t in range(n):
        frames[t, 10 + t, 15] += 0.3
    return np.clip(frames, 0, 1)


def _unfold(x: np.ndarray, mode: int) -> np.ndarray:
    """Mode unfolding of an (L, H, W) tensor with the original's mode numbers (0 rows, 1 columns, 2 time)."""
    axis = (1, 2, 0)[mode]
    return np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)


def test_mode_products_follow_the_unfolding_definition(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5, 4))
    for mode, n in enumerate((5, 4, 3)):
        m = rng.standard_normal((n, n))
        got = mode_product(x, m, mode)
        np.testing.assert_allclose(_unfold(got, mode), m @ _unfold(x, mode), atol=1e-12)
        y = rng.standard_normal(x.shape)
        np.testing.assert_allclose(mode_cross(x, y, mode), _unfold(x, mode) @ _unfold(y, mode).T, atol=1e-12)


def test_log_svt_shrinks_singular_values_by_the_closed_form(rng: np.random.Generator) -> None:
    m = rng.standard_normal((6, 6)) * 3
    mu = 2.0
    u, s, vh = np.linalg.svd(m)
    disc = s**2 - 4 * mu
    new = np.where(disc > 0, (s + np.sqrt(np.clip(disc, 0, None))) / 2, 0.0)
    np.testing.assert_allclose(log_svt(m, mu), (u * new) @ vh, atol=1e-9)
    assert not log_svt(m, 1e6).any()  # everything under the threshold


def test_core_update_zeroes_the_gradient(rng: np.random.Generator) -> None:
    v = [rng.standard_normal((n, n)) for n in (5, 4, 3)]
    x = rng.standard_normal((3, 5, 4))
    w = rng.standard_normal((3, 5, 4))
    rho, lam = 0.7, 0.2
    g = core_update(v, x, w, rho, lam)
    # d/dG [lam ||G||^2 + rho/2 ||X - G x V + W/rho||^2] = 2 lam G - rho (X + W/rho - G x V) x V^T
    resid = x + w / rho - tucker(g, v)
    grad = 2 * lam * g - rho * tucker(resid, [f.T for f in v])
    np.testing.assert_allclose(grad, 0, atol=1e-9)


def test_random_start_has_the_original_structure() -> None:
    u, v = random_start((8, 8, 3), seed=0)
    np.testing.assert_array_equal(u[0], u[1])  # equal sizes, equal matrices (same stream)
    np.testing.assert_array_equal(u[2].ravel(order="F"), u[0].ravel(order="F")[:9])
    assert not np.array_equal(u[0], v[0])
    assert all((a >= 0).all() and (a < 1).all() for a in u + v)
    assert not np.array_equal(random_start((8, 8, 3), seed=1)[1][0], v[0])


def test_window_starts_cover_a_remainder_with_a_window_flush_with_the_end() -> None:
    assert window_starts(18, 3) == [0, 3, 6, 9, 12, 15]
    assert window_starts(20, 3) == [0, 3, 6, 9, 12, 15, 17]
    assert window_starts(3, 3) == [0]


def test_finds_the_moving_target_and_is_deterministic(rng: np.random.Generator) -> None:
    frames = _video(rng, n=7)  # two windows and a remainder window
    res = nftdgstv(frames, FAST)
    assert len(res.iterations) == 3 and all(1 < i < FAST.max_iter for i in res.iterations)
    for t in range(7):
        assert np.unravel_index(np.argmax(res.target[t]), res.target[t].shape) == (10 + t, 15), f"frame {t}"
    assert (res.target >= 0).all()
    np.testing.assert_array_equal(nftdgstv(frames, FAST).target, res.target)
    np.testing.assert_allclose(res.background + res.target, frames * 255, atol=0.05 * 255)


def test_corrected_tv_multiplier_changes_the_result(rng: np.random.Generator) -> None:
    frames = _video(rng, n=3)
    a = nftdgstv(frames, FAST).target
    b = nftdgstv(frames, NFTDGSTVConfig(tol=1e-4, tv_multiplier="corrected")).target
    assert not np.array_equal(a, b)


def test_presets_and_lambda() -> None:
    paper = NFTDGSTV.presets["paper"]
    assert isinstance(paper, NFTDGSTVConfig)
    assert paper == NFTDGSTV.presets["original"]
    assert paper.lambda_value((256, 256)) == pytest.approx(4 / np.sqrt(256 * 3))
    assert paper.lambda_value((200, 320)) == pytest.approx(4 / np.sqrt(320 * 3))
    assert NFTDGSTVConfig(lam=0.5).lambda_value((9, 9)) == 0.5
    with pytest.raises(InvalidParameterError):
        NFTDGSTVConfig(frames_per_window=1)
    with pytest.raises(InvalidParameterError):
        NFTDGSTVConfig(rho_growth=0.9)


def test_constant_and_zero_frames() -> None:
    zero = nftdgstv(np.zeros((3, 12, 12)), FAST)
    assert not zero.target.any() and zero.iterations == [0]
    const = nftdgstv(np.full((3, 12, 12), 0.5), FAST)
    assert np.isfinite(const.target).all() and np.isfinite(const.background).all()
    assert const.target.max() < 1e-3 * 0.5 * 255  # nothing stands out of a constant frame


def test_bad_input() -> None:
    with pytest.raises(DataError, match="at least 3 frames"):
        nftdgstv(np.zeros((2, 8, 8)), FAST)
    with pytest.raises(DataError, match="2x2"):
        nftdgstv(np.zeros((3, 1, 8)), FAST)
    method = create_method("nftdgstv", "paper")
    with pytest.raises(InvalidParameterError, match="at least 3 frames"):
        method.detect(Sequence(np.zeros((2, 8, 8), dtype=np.float32), name="short"))


def test_circular_differences_and_their_adjoint(rng: np.random.Generator) -> None:
    from istdbench.methods.nftdgstv import _backward_diff, _forward_diff

    x = rng.standard_normal((3, 5, 6))
    y = rng.standard_normal((3, 5, 6))
    for axis in (1, 2):
        np.testing.assert_array_equal(_forward_diff(x, axis), np.roll(x, -1, axis=axis) - x)
        np.testing.assert_array_equal(_backward_diff(y, axis), np.roll(y, 1, axis=axis) - y)
        assert np.sum(_forward_diff(x, axis) * y) == pytest.approx(np.sum(x * _backward_diff(y, axis)))
