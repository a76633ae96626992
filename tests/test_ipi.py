"""IPI: APG robust PCA on planted truth, the patch-image pipeline, presets and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method, get_method
from istdbench.core.types import Sequence
from istdbench.methods.ipi import IPI, IPIConfig, apg_rpca, ipi, ipi_lambda

SMALL = IPIConfig(patch_size=12, step=4)


def _scene(rng: np.random.Generator, shape: tuple[int, int], targets: list[tuple[int, int]]) -> np.ndarray:
    """Smooth gradient background, mild noise and 3x3 Gaussian-ish bright blobs."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    img = 0.3 + 0.2 * yy / h + 0.1 * np.sin(xx / 9.0) + 0.01 * rng.standard_normal(shape)
    for r, c in targets:
        img[r - 1 : r + 2, c - 1 : c + 2] += 0.25
        img[r, c] += 0.2
    return np.clip(img, 0, 1)


def test_apg_recovers_planted_low_rank_plus_sparse(rng: np.random.Generator) -> None:
    low = rng.standard_normal((80, 2)) @ rng.standard_normal((2, 40))
    sparse = np.zeros_like(low)
    idx = rng.choice(low.size, 40, replace=False)
    sparse.flat[idx] = rng.choice([-5.0, 5.0], 40)
    cfg = IPIConfig(tol=1e-7, max_iter=2000, rank_cap=1.0, stall_iters=10**6)
    res = apg_rpca(low + sparse, 1 / np.sqrt(80), cfg)
    assert res.stop == "tol"
    assert set(np.flatnonzero(np.abs(res.sparse) > 1.0)) == set(idx)
    np.testing.assert_allclose(res.low_rank, low, atol=0.1)


def test_apg_stops_at_max_iter_and_on_rank_cap(rng: np.random.Generator) -> None:
    data = rng.random((60, 30))
    res = apg_rpca(data, 0.1, IPIConfig(max_iter=1, stall_iters=5))
    assert (res.iterations, res.stop) == (1, "max_iter")
    res = apg_rpca(data, 0.1, IPIConfig(rank_cap=0.05, stall_iters=10**6))
    assert res.stop == "rank_cap"
    assert res.rank > 0.05 * 30


def test_ipi_finds_planted_targets(rng: np.random.Generator) -> None:
    targets = [(20, 30), (45, 12)]
    img = _scene(rng, (64, 64), targets)
    res = ipi(img, SMALL)
    out = res.target
    assert out.shape == img.shape and np.isfinite(out).all() and out.min() >= 0
    near_target = np.zeros(out.shape, dtype=bool)
    for r, c in targets:
        near_target[r - 3 : r + 4, c - 3 : c + 4] = True
    for r, c in targets:  # each target is the maximum of its neighbourhood and far above the background
        win = out[r - 3 : r + 4, c - 3 : c + 4]
        assert win.max() == out[max(r - 8, 0) : r + 9, max(c - 8, 0) : c + 9].max()
        assert win.max() > 0.3  # the planted peak is 0.45 above the background
        assert win.max() > 10 * out[~near_target].max()  # measured 19.6 (Haswell kernel) to inf (SkylakeX)
    np.testing.assert_allclose(res.target, np.maximum(res.sparse, 0), rtol=0, atol=0)


def test_uncovered_border_stays_zero(rng: np.random.Generator) -> None:
    img = _scene(rng, (30, 30), [(10, 10)])
    out = ipi(img, IPIConfig(patch_size=12, step=5)).target  # origins 0, 5, 10, 15: rows/cols 27-29 uncovered
    assert np.all(out[27:] == 0) and np.all(out[:, 27:] == 0)
    assert out[:27, :27].max() > 0


def test_lambda_rules() -> None:
    assert ipi_lambda(IPIConfig(lambda_rule="image_max"), (256, 200), (900, 529)) == pytest.approx(1 / 16)
    assert ipi_lambda(IPIConfig(lambda_rule="patch_image_min"), (256, 256), (900, 529)) == pytest.approx(1 / 23)
    assert ipi_lambda(IPIConfig(lambda_rule="patch_image_max"), (256, 256), (900, 529)) == pytest.approx(1 / 30)
    assert ipi_lambda(IPIConfig(lam=0.2), (256, 256), (900, 529)) == 0.2


def test_presets_and_metadata() -> None:
    cls = get_method("ipi")
    assert cls is IPI and cls.kind == "single-frame" and not cls.gpu_capable
    assert {"paper", "tensoristd"} <= set(cls.presets)
    tensoristd = cls.presets["tensoristd"]
    assert (tensoristd.patch_size, tensoristd.step, tensoristd.lambda_rule) == (60, 25, "image_max")
    paper = cls.presets["paper"]
    assert (paper.patch_size, paper.step, paper.lambda_rule) == (30, 10, "patch_image_min")
    assert pickle.loads(pickle.dumps(paper)) == paper


def test_detect_contract(rng: np.random.Generator) -> None:
    frames = np.stack([_scene(rng, (40, 52), [(15, 20)]) for _ in range(2)]).astype(np.float32)
    seq = Sequence(frames, name="synthetic/ipi")
    before = seq.frames.copy()
    method = create_method("ipi", overrides={"patch_size": 12, "step": 4})
    a, b = method.detect(seq), method.detect(seq)
    assert a.target.shape == seq.shape and a.target.dtype == np.float32
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(seq.frames, before)
    assert a.background is not None and len(a.diagnostics["iterations"]) == 2
    assert np.unravel_index(np.argmax(a.target[0]), (40, 52)) == pytest.approx((15, 20), abs=1)


def test_non_square_and_large_frames(rng: np.random.Generator) -> None:
    img = _scene(rng, (512, 640), [(300, 400)])
    out = ipi(img, IPIConfig(patch_size=60, step=50, lambda_rule="image_max")).target
    assert out.shape == (512, 640)
    assert np.unravel_index(np.argmax(out), out.shape) == pytest.approx((300, 400), abs=1)


def test_constant_frame_gives_zeros() -> None:
    res = ipi(np.full((40, 40), 0.5), SMALL)
    assert np.isfinite(res.target).all() and not res.target.any()
    assert res.stop == "tol"


def test_frame_smaller_than_patch_raises() -> None:
    with pytest.raises(DataError, match=r"at least 12x12 pixels \(patch_size\); got 10x30"):
        ipi(np.zeros((10, 30)), SMALL)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("patch_size", 1, "'patch_size' parameter of IPIConfig must be an integer >= 2"),
        ("step", 0, "'step' parameter of IPIConfig must be an integer >= 1"),
        ("lambda_rule", "max", "'lambda_rule' parameter of IPIConfig must be one of"),
        ("lam", -1.0, "'lam' parameter of IPIConfig must be None or a float > 0"),
        ("tol", 0.0, "'tol' parameter"),
        ("max_iter", 0, "'max_iter' parameter"),
        ("mu_decay", 1.5, "'mu_decay' parameter"),
        ("mu_floor", 0.0, "'mu_floor' parameter"),
        ("rank_cap", 0.0, "'rank_cap' parameter"),
        ("stall_iters", 0, "'stall_iters' parameter"),
        ("stall_card", -1, "'stall_card' parameter"),
    ],
)
def test_invalid_config(field: str, value: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        IPIConfig(**{field: value})
