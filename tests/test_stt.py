"""STT: window/slice bookkeeping, TRPCA on planted truth, the pipeline, presets and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method, get_method
from istdbench.core.types import Sequence
from istdbench.methods.stt import STT, STTConfig, frame_sources, stt, trpca

# small, fast settings: 16x16 patches, 7-frame windows, 3x3 neighbours
SMALL = STTConfig(patch_size=16, step=12, tol=1e-2)


def _video(rng: np.random.Generator, n: int, shape: tuple[int, int], start: tuple[int, int]) -> np.ndarray:
    """A smooth static background with mild noise and one bright point moving one pixel per frame."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    bg = 0.35 + 0.25 * yy / h + 0.1 * np.cos(xx / 7.0)
    frames = bg + 0.01 * rng.standard_normal((n, h, w))
    for t in range(n):
        r, c = start[0] + t, start[1] + t
        frames[t, r - 1 : r + 2, c - 1 : c + 2] += 0.2
        frames[t, r, c] += 0.2
    return np.clip(frames, 0, 1)


def test_frame_sources_toolbox_matches_the_reference_readme() -> None:
    plan = frame_sources(20, 3, "toolbox")  # zero-based: window centres 3..16
    assert sorted(plan) == list(range(3, 17))
    assert plan[3] == [(0, -3), (1, -2), (2, -1), (3, 1)]  # frames 1-3 aligned; frame 4 <- frame 5
    assert plan[10] == [(10, 1)]
    assert plan[16] == [(16, 1), (17, 2), (18, 3), (19, 0)]  # frames L-2, L-1, L <- L-1, L, L-3


def test_frame_sources_centre_covers_each_frame_with_itself() -> None:
    plan = frame_sources(9, 2, "centre")
    pairs = sorted((f, c + o) for c, outs in plan.items() for f, o in outs)
    assert pairs == [(f, f) for f in range(9)]


def test_slice_order_and_lambda() -> None:
    assert STTConfig(frame_radius=2).frame_offsets() == [-2, -1, 0, 1, 2]
    assert STTConfig(frame_radius=2, slice_order="current-last").frame_offsets() == [-2, -1, 1, 2, 0]
    tensoristd = STT.presets["tensoristd"]
    assert tensoristd.n_slices == 63
    assert tensoristd.lambda_value() == pytest.approx(0.0191075, abs=5e-8)
    assert STT.presets["paper"].lambda_value() == pytest.approx(1 / np.sqrt(50 * 63))
    assert STTConfig(lam=0.3).lambda_value() == 0.3


def test_trpca_recovers_planted_low_tubal_rank_plus_sparse(rng: np.random.Generator) -> None:
    n3, n1, n2 = 9, 20, 20
    low = np.broadcast_to(rng.random((n1, 1)) @ rng.random((1, n2)) + 1.0, (n3, n1, n2)).copy()
    sparse = np.zeros_like(low)
    idx = rng.choice(low.size, 30, replace=False)
    sparse.flat[idx] = 3.0
    cfg = STTConfig(tol=1e-8, nnz_stop=False, rho=1.1, mu0=1e-2)
    lo, sp, its = trpca((low + sparse)[None], 1 / np.sqrt(n1 * n3), cfg)
    assert its[0] < cfg.max_iter
    assert set(np.flatnonzero(sp[0] > 1.0)) == set(idx)
    np.testing.assert_allclose(lo[0], low, atol=0.05)
    assert sp.min() >= 0


def test_trpca_batch_equals_one_by_one_and_zero_tensor(rng: np.random.Generator) -> None:
    data = rng.random((3, 9, 12, 12)) * 100
    data[1] = 0.0
    cfg = STTConfig(tol=1e-3)
    lo, sp, its = trpca(data, 0.05, cfg)
    assert its[1] == 0 and not lo[1].any() and not sp[1].any()
    for b in (0, 2):
        lo1, sp1, its1 = trpca(data[b : b + 1], 0.05, cfg)
        assert its1[0] == its[b]
        np.testing.assert_allclose(sp1[0], sp[b], rtol=0, atol=1e-10)
        np.testing.assert_allclose(lo1[0], lo[b], rtol=0, atol=1e-10)


def test_stt_finds_the_moving_target(rng: np.random.Generator) -> None:
    frames = _video(rng, 9, (48, 48), (15, 12))
    res = stt(frames, SMALL)
    assert res.target.shape == frames.shape and np.isfinite(res.target).all() and res.target.min() >= 0
    for t in range(9):
        assert np.unravel_index(np.argmax(res.target[t]), (48, 48)) == pytest.approx((15 + t, 12 + t), abs=1)
    # the toolbox alignment shows frame t+1's target in frame t (middle frames)
    shifted = stt(frames, STTConfig(patch_size=16, step=12, tol=1e-2, alignment="toolbox"))
    assert np.unravel_index(np.argmax(shifted.target[4]), (48, 48)) == pytest.approx((20, 17), abs=1)


def test_detect_contract_and_batch_size_invariance(rng: np.random.Generator) -> None:
    seq = Sequence(_video(rng, 8, (40, 56), (10, 10)).astype(np.float32), name="synthetic/stt")
    before = seq.frames.copy()
    overrides = {"patch_size": 16, "step": 12, "tol": 1e-3}
    a = create_method("stt", overrides=overrides).detect(seq)
    b = create_method("stt", overrides={**overrides, "batch_size": 5}).detect(seq)
    assert a.target.shape == seq.shape and a.target.dtype == np.float32
    np.testing.assert_allclose(a.target, b.target, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(seq.frames, before)
    assert a.background is not None and len(a.diagnostics["mean_iterations"]) == 2  # windows centred on 4, 5


def test_large_non_square_frames(rng: np.random.Generator) -> None:
    frames = _video(rng, 7, (512, 640), (210, 410))
    res = stt(frames, STTConfig(step=200, tol=1e-2))  # patches at rows 0, 200, 400, 462; cols 0, 200, 400, 590
    assert res.target.shape == (7, 512, 640)
    assert np.unravel_index(np.argmax(res.target[3]), (512, 640)) == pytest.approx((213, 413), abs=1)
    assert not res.target[:, 250:400].any()  # rows no patch covers stay 0


def test_constant_frames_give_zeros() -> None:
    for value in (0.0, 0.6):
        res = stt(np.full((7, 32, 32), value), SMALL)
        assert np.isfinite(res.target).all() and not res.target.any()


def test_too_few_frames_raise() -> None:
    seq = Sequence(np.zeros((1, 60, 60), dtype=np.float32), name="one")
    with pytest.raises(InvalidParameterError, match="needs at least 7 frames; sequence 'one' has 1"):
        create_method("stt").detect(seq)
    with pytest.raises(DataError, match=r"at least 5 frames \(2 \* frame_radius \+ 1\); got 4"):
        stt(np.zeros((4, 60, 60)), STTConfig(frame_radius=2))


def test_frame_smaller_than_patch_raises() -> None:
    with pytest.raises(DataError, match=r"at least 50x50 pixels \(patch_size\); got 40x80"):
        stt(np.zeros((7, 40, 80)), STTConfig())


def test_presets_and_metadata() -> None:
    cls = get_method("stt")
    assert cls is STT and cls.kind == "multi-frame"
    tb = cls.presets["tensoristd"]
    assert (tb.step, tb.slice_order, tb.alignment, tb.tol) == (30, "current-last", "toolbox", 1e-2)
    paper = cls.presets["paper"]
    assert (paper.patch_size, paper.step, paper.tol, paper.alignment) == (50, 40, 1e-7, "centre")
    assert pickle.loads(pickle.dumps(paper)) == paper


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("patch_size", 1, "'patch_size' parameter of STTConfig must be an integer >= 2"),
        ("step", 0, "'step' parameter"),
        ("frame_radius", 0, "'frame_radius' parameter of STTConfig must be an integer >= 1"),
        ("patch_radius", -1, "'patch_radius' parameter"),
        ("slice_order", "reverse", "'slice_order' parameter"),
        ("alignment", "left", "'alignment' parameter"),
        ("lambda_rule", "x", "'lambda_rule' parameter"),
        ("lam", 0.0, "'lam' parameter"),
        ("tol", -1.0, "'tol' parameter"),
        ("max_iter", 0, "'max_iter' parameter"),
        ("rho", 0.5, "'rho' parameter"),
        ("mu0", 0.0, "'mu0' parameter"),
        ("mu_max", 1e-9, "'mu_max' parameter"),
        ("input_scale", 0.0, "'input_scale' parameter"),
        ("fusion", "max", "'fusion' parameter"),
        ("batch_size", 0, "'batch_size' parameter"),
    ],
)
def test_invalid_config(field: str, value: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        STTConfig(**{field: value})
