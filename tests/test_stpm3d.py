"""3DSTPM (reconstructed): nuclear-norm kernel, parameter count, shapes, determinism, a short planted fit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from istdbench.core.errors import InvalidParameterError
from istdbench.core.registry import create_method, describe
from istdbench.core.types import Sequence
from istdbench.methods._tnn import nuclear_norms, nuclear_norms_svd
from istdbench.methods.stpm3d import (
    STPM3D,
    Conv3x3x3,
    STPM3DConfig,
    STPM3DNet,
    count_params,
    fit_chunk,
    tensor_nuclear_norm,
    total_variation,
)

torch.set_num_threads(1)


def _uv(x: torch.Tensor, rank: int | None = None) -> torch.Tensor:
    """U_r V_r^T of each matrix by full SVD (float64)."""
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    r = s.shape[-1] if rank is None else rank
    return u[..., :r] @ vh[..., :r, :]


# --- nuclear norms by the Gram matrix ---------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 12, 7), (3, 7, 12), (2, 9, 9)])
def test_gram_nuclear_norm_matches_svd_value_and_gradient(shape):
    x = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    value = nuclear_norms(x)
    np.testing.assert_allclose(value.detach(), torch.linalg.svdvals(x.detach()).sum(-1), rtol=1e-12)
    weights = torch.arange(1.0, shape[0] + 1, dtype=torch.float64)
    (value * weights).sum().backward()
    np.testing.assert_allclose(x.grad, _uv(x.detach()) * weights[:, None, None], rtol=0, atol=1e-10)


def test_gram_nuclear_norm_passes_gradcheck():
    x = torch.randn(2, 6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: nuclear_norms(a), (x,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("noise", [0.0, 1e-12])
def test_gram_nuclear_norm_near_rank_deficient(noise):
    gen = torch.Generator().manual_seed(3)
    low = torch.randn(4, 20, 3, dtype=torch.float64, generator=gen) @ torch.randn(
        4, 3, 15, dtype=torch.float64, generator=gen
    )
    x = (low + noise * torch.randn(low.shape, dtype=torch.float64, generator=gen)).requires_grad_()
    value = nuclear_norms(x)
    np.testing.assert_allclose(value.detach(), torch.linalg.svdvals(x.detach()).sum(-1), rtol=1e-9)
    value.sum().backward()
    assert torch.isfinite(x.grad).all()
    # the unresolved directions are dropped: the gradient is the least-norm subgradient U_r V_r^T
    np.testing.assert_allclose(x.grad, _uv(x.detach(), rank=3), rtol=0, atol=1e-6)


def test_gram_nuclear_norm_of_zero_matrix_is_zero_with_zero_gradient():
    x = torch.zeros(2, 5, 4, requires_grad=True)
    value = nuclear_norms(x)
    value.sum().backward()
    np.testing.assert_array_equal(value.detach(), 0.0)
    np.testing.assert_array_equal(x.grad, 0.0)


def test_float32_gram_and_svd_baseline_agree_with_float64():
    x = torch.randn(5, 32, 24, generator=torch.Generator().manual_seed(4))
    exact = torch.linalg.svdvals(x.double()).sum(-1)
    np.testing.assert_allclose(nuclear_norms(x, torch.float32), exact, rtol=1e-4)
    np.testing.assert_allclose(nuclear_norms_svd(x), exact, rtol=1e-5)
    assert nuclear_norms(x).dtype == torch.float32


def test_float32_gram_loses_the_small_singular_values_of_frame_like_data():
    # a bright mean level plus faint texture: most singular values sit far below the largest
    x = 0.5 + 1e-3 * torch.randn(2, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    exact = torch.linalg.svdvals(x).sum(-1)
    np.testing.assert_allclose(nuclear_norms(x), exact, rtol=1e-7)
    assert ((nuclear_norms(x.float(), torch.float32).double() - exact).abs() / exact > 0.01).all()


def test_nuclear_norms_rejects_a_vector():
    with pytest.raises(InvalidParameterError, match=r"batch of matrices .* got shape \(5,\)"):
        nuclear_norms(torch.ones(5))


# --- model size -------------------------------------------------------------------------------------


def test_parameter_count_matches_the_papers_5269k():
    assert count_params((80, 256, 256), STPM3DConfig()) == 5_268_538
    assert count_params((80, 256, 256), STPM3DConfig(z_mode="factorised")) == 5_268_538
    assert create_method("3dstpm").n_params((100, 256, 256)) == 5_268_538  # one chunk of L = 80 frames
    assert count_params((80, 480, 720), STPM3DConfig()) == 27_673_658  # the paper reports 26.404 M


@pytest.mark.parametrize(
    "cfg",
    [
        STPM3DConfig(),
        STPM3DConfig(m=3, width=4),
        STPM3DConfig(z_mode="factorised", m=4),
        STPM3DConfig(n4_ratio=3),
        STPM3DConfig(inverse="tied"),
    ],
)
def test_count_params_equals_the_built_network(cfg):
    net = STPM3DNet((6, 10, 12), cfg, torch.Generator().manual_seed(0))
    assert count_params((6, 10, 12), cfg) == sum(p.numel() for p in net.parameters())


def test_transform_pair_starts_as_identity():
    net = STPM3DNet((8, 5, 5), STPM3DConfig(), torch.Generator().manual_seed(0))
    np.testing.assert_allclose(net.i_weight.detach() @ net.f_weight.detach(), torch.eye(8), atol=1e-6)
    assert net.f_weight.shape == (16, 8)


def test_tied_inverse_keeps_f_orthonormal_while_fitting():
    seq, _ = _planted(t=6)
    cfg = STPM3DConfig(inverse="tied", iterations=5)
    net = STPM3DNet(seq.shape, cfg, torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        _, b = net()
        (b - torch.tensor(seq.frames)).abs().sum().backward()
        opt.step()
    f = net.f_weight.detach()
    np.testing.assert_allclose(f.T @ f, torch.eye(6), atol=1e-5)
    np.testing.assert_array_equal(net.i_weight.detach(), f.T)


@pytest.mark.parametrize(("n", "c_in", "c_out"), [(1, 1, 1), (2, 1, 1), (1, 1, 3), (1, 2, 1)])
def test_cpu_conv_forms_equal_conv3d_with_gradients(n, c_in, c_out):
    """The shifted multiply-add form (1 -> 1 channel) and the stacked-frame Conv2d form equal Conv3d."""
    torch.manual_seed(0)
    conv = Conv3x3x3(c_in, c_out)
    x = torch.randn(n, c_in, 5, 7, 6, requires_grad=True)
    ours = conv(x)
    ref = torch.nn.functional.conv3d(x, conv.weight, conv.bias, padding=1)
    np.testing.assert_allclose(ours.detach(), ref.detach(), rtol=0, atol=1e-5)
    g_ours = torch.autograd.grad(ours.square().sum(), (x, conv.weight, conv.bias))
    g_ref = torch.autograd.grad(ref.square().sum(), (x, conv.weight, conv.bias))
    for a, b in zip(g_ours, g_ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_tnn_kernels_agree_and_auto_is_exact():
    y = torch.rand(6, 20, 14, generator=torch.Generator().manual_seed(7))
    exact = torch.linalg.svdvals(y.double()).sum()
    for how in ("auto", "svd", "gram64"):
        np.testing.assert_allclose(tensor_nuclear_norm(y, how), exact, rtol=1e-5)


def test_nested_tv_is_spatial_difference_of_temporal_difference():
    b = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(5))
    dt = np.diff(b.numpy(), axis=0)
    expected = np.abs(np.diff(dt, axis=1)).sum() + np.abs(np.diff(dt, axis=2)).sum()
    np.testing.assert_allclose(total_variation(b, "nested"), expected, rtol=1e-5)
    aniso = sum(np.abs(np.diff(b.numpy(), axis=d)).sum() for d in range(3))
    np.testing.assert_allclose(total_variation(b, "anisotropic"), aniso, rtol=1e-5)


# --- the method ----------------------------------------------------------------------------------------


def _planted(t: int = 8, size: int = 16, seed: int = 0) -> tuple[Sequence, list[tuple[int, int]]]:
    """Smooth, slowly varying background plus one 2x2 target moving one pixel per frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    frames, where = [], []
    for k in range(t):
        frame = 0.3 + 0.2 * yy + 0.1 * xx + 0.02 * np.sin(k / 3) + 0.005 * rng.standard_normal((size, size))
        r, c = 4 + k // 2, 3 + k
        frame[r : r + 2, c : c + 2] += 0.45
        frames.append(frame)
        where.append((r, c))
    return Sequence(np.clip(np.array(frames), 0, 1).astype(np.float32), name="planted"), where


def test_metadata_says_reconstructed():
    info = describe("3dstpm")
    assert info["reconstructed"] and info["learned"] and info["gpu"]
    assert info["kind"] == "multi-frame" and info["default_preset"] == "paper"
    assert "Reconstructed" in STPM3D.citation and "RECONSTRUCTED" in STPM3D.__doc__
    cfg = STPM3D.presets["paper"]
    assert (cfg.lam, cfg.lam2, cfg.n4_ratio, cfg.m, cfg.iterations, cfg.chunk_length) == (0.2, 0.65, 2, 2, 3000, 80)
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_shapes_chunks_and_diagnostics():
    seq, _ = _planted(t=8)
    det = create_method("3dstpm", overrides={"iterations": "3", "chunk_length": "5"}).detect(seq)
    assert det.target.shape == det.background.shape == seq.shape
    np.testing.assert_allclose(det.target + det.background, seq.frames, atol=1e-6)
    chunks = det.diagnostics["chunks"]
    assert [(c["start"], c["stop"], c["keep_from"]) for c in chunks] == [(0, 5, 0), (3, 8, 5)]
    assert all(len(c["loss"]) == 3 for c in chunks)
    assert det.n_params == count_params((5, 16, 16), STPM3DConfig())


@pytest.mark.parametrize(
    "options", [{}, {"z_mode": "factorised", "transform": "leaky", "ntv": "anisotropic", "inverse": "tied"}]
)
def test_deterministic_with_seed(options):
    seq, _ = _planted(t=6)

    def run(seed):
        return create_method("3dstpm", overrides={"iterations": 4, "seed": seed, **options}).detect(seq)

    first, again, other = run(0), run(0), run(1)
    np.testing.assert_array_equal(first.target, again.target)
    np.testing.assert_array_equal(first.diagnostics["chunks"][0]["loss"], again.diagnostics["chunks"][0]["loss"])
    assert not np.array_equal(first.target, other.target)


def test_short_fit_lowers_the_loss_and_finds_the_target():
    seq, where = _planted(t=8)
    out = fit_chunk(seq.frames, STPM3DConfig(iterations=150, chunk_length=8, lr=1e-2))
    loss = out.diagnostics["loss"]
    assert loss[-1] < 0.2 * loss[0]
    for k, (r, c) in enumerate(where):
        peak = np.unravel_index(np.argmax(out.target[k]), out.target[k].shape)
        assert r <= peak[0] <= r + 1 and c <= peak[1] <= c + 1, f"frame {k}: peak {peak}, target at {(r, c)}"


def test_on_step_sees_the_background_after_each_step():
    seq, _ = _planted(t=4)
    seen: list[int] = []
    fit_chunk(seq.frames, STPM3DConfig(iterations=3), on_step=lambda done, b: seen.append((done, tuple(b.shape))))
    assert seen == [(0, (4, 16, 16)), (1, (4, 16, 16)), (2, (4, 16, 16))]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"lam": 0}, r"'lam' parameter .* must be a float > 0\. Got 0"),
        ({"lam2": -1.0}, r"'lam2' .* >= 0"),
        ({"n4_ratio": 0}, r"'n4_ratio' .* >= 1"),
        ({"m": 1}, r"'m' .* >= 2 \(>= 1 when factorised\)"),
        ({"z_mode": "cube"}, r"'z_mode' must be one of \['full', 'factorised'\]"),
        ({"width": 0}, r"'width' .* >= 1"),
        ({"transform": "relu"}, r"'transform' must be one of"),
        ({"ntv": "iso"}, r"'ntv' must be one of"),
        ({"inverse": "pinv"}, r"'inverse' must be one of"),
        ({"tnn": "qr"}, r"'tnn' must be one of \['auto'"),
        ({"iterations": "0"}, r"'iterations' .* >= 1"),
        ({"chunk_length": 1}, r"'chunk_length' .* >= 2"),
        ({"lr": -1e-3}, r"'lr' .* > 0"),
        ({"z_scale": 0.0}, r"'z_scale' .* > 0"),
    ],
)
def test_invalid_settings_are_rejected_with_a_message(overrides, match):
    with pytest.raises(InvalidParameterError, match=match):
        create_method("3dstpm", overrides=overrides)


def test_invalid_literal_values_are_caught_by_validate_too():
    for field, bad in [("z_mode", "cube"), ("transform", "relu"), ("inverse", "pinv"), ("ntv", "iso"), ("tnn", "qr")]:
        with pytest.raises(InvalidParameterError, match=rf"The '{field}' parameter of STPM3DConfig must be one of"):
            STPM3DConfig(**{field: bad})
