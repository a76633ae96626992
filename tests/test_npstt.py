"""NPSTT: the capped-rank counts, the batched solver, the pipeline on synthetic clips, presets and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method, get_method
from istdbench.core.types import Sequence
from istdbench.methods.npstt import NPSTT, NPSTTConfig, cap_counts, npstt, tcsvt

# 16x16 patches; the N-threshold sits above the singular values of the clips' noise (0.01 x 255 x 2 sqrt(16) ~ 20),
# else the kept leading singular values absorb the target too (the original's 3 suits 0..255 data with little noise)
SMALL = NPSTTConfig(patch_size=16, step=16, cap_threshold=30.0)


def _video(rng: np.random.Generator, n: int, shape: tuple[int, int], start: tuple[int, int]) -> np.ndarray:
    """A smooth static background with mild noise and one bright 3x3 point moving one pixel per frame."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    frames = 0.35 + 0.25 * yy / h + 0.1 * np.cos(xx / 7.0) + 0.01 * rng.standard_normal((n, h, w))
    for t in range(n):
        r, c = start[0] + t, start[1] + t
        frames[t, r - 1 : r + 2, c - 1 : c + 2] += 0.2
        frames[t, r, c] += 0.2
    return np.clip(frames, 0, 1)


@pytest.mark.parametrize("n3", [7, 8])
def test_cap_counts_count_spatial_slices(n3: int) -> None:
    rng = np.random.default_rng(0)
    # slice i of tensor b: rank i+1 with singular values 10 (counted) plus 1.0 noise-free tail (not counted)
    low = np.zeros((2, n3, 12, 10))
    for b in range(2):
        for i in range(n3):
            u, _ = np.linalg.qr(rng.standard_normal((12, 10)))
            v, _ = np.linalg.qr(rng.standard_normal((10, 10)))
            k = (i + b) % 6 + 1
            s = np.r_[np.full(k, 10.0), np.full(10 - k, 1.0)]
            low[b, i] = (u * s) @ v.T
    counts = cap_counts(low, 3.0)
    assert counts.shape == (2, n3 // 2 + 1)
    svd = (np.linalg.svd(low, compute_uv=False) > 3.0).sum(-1)
    half = (n3 + 1) // 2
    np.testing.assert_array_equal(counts[:, :half], svd[:, :half])
    if n3 % 2 == 0:  # the middle Fourier slice takes spatial slice 2's count (MATLAB N(1, 2))
        np.testing.assert_array_equal(counts[:, -1], svd[:, 1])


def test_tcsvt_batch_equals_one_by_one_and_zero_tensor() -> None:
    rng = np.random.default_rng(1)
    base = rng.random((12, 1)) @ rng.random((1, 12)) * 200 + 20
    data = np.broadcast_to(base, (3, 9, 12, 12)) + rng.random((3, 9, 12, 12)) * 5
    data[1] = 0.0
    data[2, 4, 5, 5] += 80.0  # a target in the middle slice
    cfg = NPSTTConfig(tol=1e-4, cap_threshold=30.0)
    lo, sp, its = tcsvt(data, 0.05, cfg)
    assert its[1] == 0 and not lo[1].any() and not sp[1].any()
    assert sp.min() >= 0 and np.unravel_index(np.argmax(sp[2]), sp[2].shape) == (4, 5, 5)
    for b in (0, 2):  # equal up to rounding (the rebuild's rank groups differ with the batch), on data of ~200
        lo1, sp1, its1 = tcsvt(data[b : b + 1], 0.05, cfg)
        assert its1[0] == its[b]
        np.testing.assert_allclose(sp1[0], sp[b], rtol=0, atol=1e-6)
        np.testing.assert_allclose(lo1[0], lo[b], rtol=0, atol=1e-6)


def test_npstt_finds_the_moving_target() -> None:
    rng = np.random.default_rng(2)
    frames = _video(rng, 9, (48, 48), (15, 12))
    res = npstt(frames, SMALL)
    assert res.target.shape == frames.shape and np.isfinite(res.target).all() and res.target.min() >= 0
    for t in range(9):
        assert np.unravel_index(np.argmax(res.target[t]), (48, 48)) == pytest.approx((15 + t, 12 + t), abs=1)
    assert len(res.mean_iterations) == 3  # windows centred on frames 4, 5, 6; the edge frames come from them


def test_detect_contract_and_batch_size_invariance() -> None:
    rng = np.random.default_rng(3)
    seq = Sequence(_video(rng, 7, (40, 56), (10, 10)).astype(np.float32), name="synthetic/npstt")
    before = seq.frames.copy()
    overrides = {"patch_size": 16, "step": 16, "cap_threshold": 30.0}
    a = create_method("npstt", overrides=overrides).detect(seq)
    b = create_method("npstt", overrides={**overrides, "batch_size": 5}).detect(seq)
    assert a.target.shape == seq.shape and a.target.dtype == np.float32 and a.background is not None
    np.testing.assert_allclose(a.target, b.target, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(seq.frames, before)


def test_constant_frames_give_zeros() -> None:
    for value in (0.0, 0.6):
        res = npstt(np.full((7, 32, 32), value), SMALL)
        assert np.isfinite(res.target).all() and not res.target.any()
        np.testing.assert_allclose(res.background, value * 255, atol=1e-9)


def test_too_few_frames_raise() -> None:
    seq = Sequence(np.zeros((6, 80, 80), dtype=np.float32), name="six")
    with pytest.raises(InvalidParameterError, match="needs at least 7 frames; sequence 'six' has 6"):
        create_method("npstt").detect(seq)
    with pytest.raises(DataError, match=r"at least 5 frames \(2 \* frame_radius \+ 1\); got 4"):
        npstt(np.zeros((4, 80, 80)), NPSTTConfig(frame_radius=2))


def test_frame_smaller_than_patch_raises() -> None:
    with pytest.raises(DataError, match=r"at least 70x70 pixels \(patch_size\); got 64x64"):
        npstt(np.zeros((7, 64, 64)), NPSTTConfig())


def test_presets_and_metadata() -> None:
    cls = get_method("npstt")
    assert cls is NPSTT and cls.kind == "multi-frame" and list(cls.presets) == ["paper"]
    paper = cls.presets["paper"]
    assert paper.n_slices == 63
    assert paper.lambda_value() == pytest.approx(1 / np.sqrt(9 * 7 * 70))
    assert (paper.patch_size, paper.step, paper.mu0, paper.tol, paper.cap_threshold) == (70, 70, 1e-3, 1e-2, 3.0)
    assert NPSTTConfig(lam=0.3).lambda_value() == 0.3
    assert pickle.loads(pickle.dumps(paper)) == paper


BAD = {"patch_size": 1, "step": 0, "frame_radius": 0, "patch_radius": -1, "lam": 0.0, "cap_threshold": -1.0}
BAD |= {"tol": 0.0, "max_iter": 0, "rho": 0.5, "mu0": 0.0, "mu_max": 1e-9, "input_scale": 0.0}
BAD |= {"fusion": "max", "batch_size": 0}


@pytest.mark.parametrize(("field", "value"), list(BAD.items()))
def test_invalid_config(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{field}' parameter of NPSTTConfig"):
        NPSTTConfig(**{field: value})
