"""ASTTV-NTLA: grouping, operators, the Laplace step, the pipeline on synthetic clips, presets and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import istdbench.methods.asttv_ntla as mod
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method, get_method
from istdbench.core.types import Sequence
from istdbench.methods.asttv_ntla import ASTTVNTLA, ASTTVNTLAConfig, asttv_ntla, frame_groups, solve_group

FAST = ASTTVNTLAConfig(max_iter=40)


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


def test_frame_groups_tile_and_cover_the_leftover() -> None:
    assert frame_groups(6, 3) == [(0, [0, 1, 2]), (3, [3, 4, 5])]
    assert frame_groups(3, 3) == [(0, [0, 1, 2])]
    assert frame_groups(8, 3) == [(0, [0, 1, 2]), (3, [3, 4, 5]), (5, [6, 7])]  # last group ends on frame 8


def test_difference_operators_are_the_originals_otfs() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 6, 5))
    for ax in (0, 1, 2):
        assert np.vdot(mod._diff(x, ax), y) == pytest.approx(np.vdot(x, mod._diff_t(y, ax)))
    # psf2otf([1 -1]) along columns, as a circular convolution: x[j+1] - x[j]
    kernel = np.zeros((3, 6, 5))
    kernel[0, 0, 0], kernel[0, 0, -1] = -1.0, 1.0
    via_fft = np.fft.ifftn(np.fft.fftn(kernel) * np.fft.fftn(x)).real
    np.testing.assert_allclose(mod._diff(x, 2), via_fft, atol=1e-12)
    # the normal-equation filter: 1 / (|Fx|^2 + |Fy|^2 + |Ft|^2 + 2), on the rfftn grid
    expected = 1.0 / (sum(np.abs(np.fft.rfftn(mod._diff(_delta((3, 6, 5)), ax))) ** 2 for ax in (0, 1, 2)) + 2.0)
    np.testing.assert_allclose(mod._inverse_filter((3, 6, 5)), expected, atol=1e-14)


def _delta(shape: tuple[int, ...]) -> np.ndarray:
    d = np.zeros(shape)
    d[(0,) * len(shape)] = 1.0
    return d


def test_spatially_shifted_temporal_difference_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The original's temporal OTF also shifts by one pixel in rows and columns; B, T, N do not change.
    rng = np.random.default_rng(1)
    data = _video(rng, 3, (20, 24), (8, 8)) * 255
    start = rng.random(data.shape)
    plain = solve_group(data, start, 0.3, FAST)
    diff, diff_t = mod._diff, mod._diff_t

    def shifted(x: np.ndarray, axis: int) -> np.ndarray:
        return np.roll(diff(x, axis), (-1, -1), axis=(1, 2)) if axis == 0 else diff(x, axis)

    def shifted_t(y: np.ndarray, axis: int) -> np.ndarray:
        return diff_t(np.roll(y, (1, 1), axis=(1, 2)), axis) if axis == 0 else diff_t(y, axis)

    monkeypatch.setattr(mod, "_diff", shifted)
    monkeypatch.setattr(mod, "_diff_t", shifted_t)
    other = solve_group(data, start, 0.3, FAST)
    assert other.iterations == plain.iterations
    for a, b in ((plain.background, other.background), (plain.target, other.target), (plain.noise, other.noise)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def _laplace_reference(b: np.ndarray, mu: float, old: np.ndarray, eps: float) -> np.ndarray:
    """The original ``prox_tensorLaplace`` literally: full FFT, every slice, weights from svd(old)."""
    bf, of = np.fft.fft(b, axis=0), np.fft.fft(old, axis=0)
    out = np.empty_like(bf)
    for i in range(b.shape[0]):
        u, s, vh = np.linalg.svd(bf[i], full_matrices=False)
        w = np.exp(-np.linalg.svd(of[i], compute_uv=False) / eps) / eps
        out[i] = (u * np.maximum(s - w / mu, 0.0)) @ vh
    return np.fft.ifft(out, axis=0).real


@pytest.mark.parametrize("rank_deficient", [False, True])
def test_laplace_step_equals_the_original(rank_deficient: bool) -> None:
    rng = np.random.default_rng(2)
    old = rng.random((3, 12, 10))
    if rank_deficient:  # zero singular values get weight 1/eps: the step really shrinks
        old = np.broadcast_to(rng.random((12, 1)) @ rng.random((1, 10)), (3, 12, 10)).copy()
    b = old + 0.01 * rng.standard_normal(old.shape)
    prox = mod._LaplaceProx(old, 1e-6)
    assert (prox.spectra is None) == (not rank_deficient)  # the Cholesky proof that all weights are 0
    np.testing.assert_allclose(prox(b, 0.005), _laplace_reference(b, 0.005, old, 1e-6), rtol=0, atol=1e-12)


def test_finds_the_moving_target_and_is_seeded() -> None:
    # 64x64: lambda = 6/sqrt(64*3) = 0.43 (it grows as frames shrink; at 32x32 the target vanishes)
    rng = np.random.default_rng(3)
    frames = _video(rng, 6, (64, 64), (20, 22))
    cfg = ASTTVNTLAConfig()
    res = asttv_ntla(frames, cfg)
    assert res.target.shape == frames.shape and np.isfinite(res.target).all()
    for t in range(6):
        assert np.unravel_index(np.argmax(res.target[t]), (64, 64)) == (20 + t, 22 + t)
    again = asttv_ntla(frames, cfg)
    np.testing.assert_array_equal(res.target, again.target)
    other = asttv_ntla(frames, ASTTVNTLAConfig(seed=1))
    assert not np.array_equal(res.target, other.target)  # the start matters, a little
    np.testing.assert_allclose(res.target, other.target, rtol=0, atol=0.05 * res.target.max())


def test_injected_start_and_leftover_frames() -> None:
    rng = np.random.default_rng(4)
    frames = _video(rng, 7, (24, 24), (8, 8))
    start = rng.random(frames.shape)
    res = asttv_ntla(frames, FAST, start=start)
    assert len(res.iterations) == 3  # frames 1-3, 4-6, and 5-7 for frame 7
    last = asttv_ntla(frames[4:], FAST, start=start[4:])
    np.testing.assert_array_equal(res.target[6], last.target[2])
    np.testing.assert_array_equal(res.target[3:6], asttv_ntla(frames[3:6], FAST, start=start[3:6]).target)
    with pytest.raises(DataError, match=r"start of shape \(7, 24, 20\) does not match the frames' \(7, 24, 24\)"):
        asttv_ntla(frames, FAST, start=start[:, :, :20])


def test_constant_frames_are_their_own_background() -> None:
    for value in (0.0, 0.6):
        res = asttv_ntla(np.full((4, 16, 16), value), FAST)
        assert not res.target.any() and res.iterations == [0, 0]
        np.testing.assert_array_equal(res.background, np.full((4, 16, 16), value * 255))


def test_detect_contract_and_tiny_frames() -> None:
    rng = np.random.default_rng(5)
    seq = Sequence(_video(rng, 3, (20, 20), (6, 6)).astype(np.float32), name="synthetic/asttv")
    before = seq.frames.copy()
    det = create_method("asttv-ntla", overrides={"max_iter": 30}).detect(seq)
    assert det.target.shape == seq.shape and det.target.dtype == np.float32 and det.background is not None
    assert det.diagnostics["iterations"] == [30]
    np.testing.assert_array_equal(seq.frames, before)
    # whole-frame method: no patch, so even a 2x3 frame is a valid input
    assert asttv_ntla(rng.random((3, 2, 3)), FAST).target.shape == (3, 2, 3)


def test_too_few_frames_raise() -> None:
    seq = Sequence(np.zeros((2, 16, 16), dtype=np.float32), name="two")
    with pytest.raises(InvalidParameterError, match="needs at least 3 frames; sequence 'two' has 2"):
        create_method("asttv-ntla").detect(seq)
    with pytest.raises(DataError, match=r"at least 4 frames \(group_frames\); got 3"):
        asttv_ntla(np.zeros((3, 16, 16)), ASTTVNTLAConfig(group_frames=4))


def test_presets_and_metadata() -> None:
    cls = get_method("asttv-ntla")
    assert cls is ASTTVNTLA and cls.kind == "multi-frame"
    paper, original = cls.presets["paper"], cls.presets["original"]
    assert paper.lambda_value((256, 256)) == pytest.approx(6 / np.sqrt(256 * 3))
    assert original.lambda_value((256, 320)) == pytest.approx(10 / np.sqrt(320 * 3))
    assert (original.mu0, original.rho, original.tv_weight, original.temporal_ratio) == (0.005, 1.2, 0.01, 1.25)
    assert ASTTVNTLAConfig(lam=0.2).lambda_value((9, 9)) == 0.2
    assert pickle.loads(pickle.dumps(paper)) == paper


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("group_frames", 1),
        ("h", 0.0),
        ("lam", -1.0),
        ("noise_weight", 0.0),
        ("tv_weight", -0.1),
        ("temporal_ratio", -1.0),
        ("laplace_eps", 0.0),
        ("tol", 0.0),
        ("max_iter", 0),
        ("mu0", 0.0),
        ("rho", 0.9),
        ("mu_max", 1e-9),
        ("input_scale", 0.0),
        ("seed", -1),
    ],
)
def test_invalid_config(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{field}' parameter of ASTTVNTLAConfig"):
        ASTTVNTLAConfig(**{field: value})
