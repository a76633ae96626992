"""NeurSTT: analytic derivatives, exact nuclear-norm reduction, presets, chunks, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods._lowrank import (
    Workspace,
    dense_terms,
    nuclear_norm_sum,
    polar_factor,
    small_cores,
    tucker_nuclear_norm,
)
from istdbench.methods._siren import SineFactor
from istdbench.methods.neurstt import AUTHORS, PAPER, NeurSTT, NeurSTTConfig, NeurSTTModel, fit_chunk, param_count

torch.set_num_threads(1)
F64 = {"dtype": "float64"}


def _model(shape=(8, 16, 12), **over) -> NeurSTTModel:
    cfg = PAPER.with_overrides({**F64, **over})
    return NeurSTTModel(shape, cfg, torch.Generator().manual_seed(0))


def _tiny_seq(t=8, h=16, w=16, seed=0) -> Sequence:
    rng = np.random.default_rng(seed)
    frames = 0.3 + 0.1 * rng.random((t, h, w))
    frames[:, h // 2, w // 2] = 0.9  # a bright point target
    return Sequence(frames=frames.astype(np.float32), name="tiny")


@pytest.mark.parametrize("init", ["kaiming", "siren", "normal"])
@pytest.mark.parametrize("coords", ["raw", "unit"])
def test_factor_derivative_matches_autograd(init, coords):
    net = SineFactor(hidden=7, rank=3, omega=2.0, dtype=torch.float64)
    net.reset_parameters(init, torch.Generator().manual_seed(1), std=0.5)
    x = torch.arange(1, 10, dtype=torch.float64) / (1.0 if coords == "raw" else 9.0)
    x = x.unsqueeze(1).requires_grad_(True)
    f, df = net(x)
    auto = torch.stack([torch.autograd.grad(f[:, j].sum(), x, retain_graph=True)[0][:, 0] for j in range(3)], 1)
    np.testing.assert_allclose(df.detach().numpy(), auto.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("coords", ["raw", "unit"])
def test_background_derivatives_match_autograd(coords):
    """dB/dh, dB/dw, dB/dt equal autograd derivatives of B w.r.t. each network input, per pixel step."""
    model = _model(coords=coords)
    b, dbh, dbw, dbt = (t.detach() for t in model())
    weights = torch.rand(b.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for name, d, axis in (("xh", dbh, 1), ("xw", dbw, 2), ("xt", dbt, 0)):
        x = getattr(model, name).clone().requires_grad_(True)
        setattr(model, name, x)
        # B[k, i, j] depends on the h input only through row i (w: column j, t: frame k), so the
        # gradient of a weighted sum of B at coordinate i is the weighted sum of dB/dh over that row.
        g = torch.autograd.grad((model()[0] * weights).sum(), x)[0][:, 0]
        step = 1.0 if coords == "raw" else 1.0 / x.shape[0]  # d(input) / d(index)
        others = tuple(a for a in range(3) if a != axis)
        np.testing.assert_allclose((g * step).numpy(), (d * weights).sum(dim=others).numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.numpy(), model.background().detach().numpy(), rtol=1e-12)


def test_dense_terms_value_and_gradient_match_autograd():
    model = _model()
    data = torch.rand(8, 16, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    mask = (torch.rand(8, 16, 12, dtype=torch.float64) > 0.2).double()
    tau, phi, kappa = 0.05, 0.3, 7.0

    def reference() -> torch.Tensor:
        b, dbh, dbw, dbt = model()
        t = torch.nn.functional.softshrink(data - b, tau) * mask
        return t.abs().sum() + phi * (dbh.abs().sum() + dbw.abs().sum() + kappa * dbt.abs().sum())

    def fused() -> torch.Tensor:
        lh, dlh, lt, (_, _, fw, dfw, _, _) = model.left_factors()
        hlw = (data.transpose(0, 1).contiguous(), mask.transpose(0, 1).contiguous())  # (H, L, W) layout
        return dense_terms(lh, dlh, lt, fw, dfw, *hlw, tau, phi, kappa)

    params = list(model.parameters())
    v_ref, v_new = reference(), fused()
    g_ref = torch.autograd.grad(v_ref, params)
    g_new = torch.autograd.grad(v_new, params)
    np.testing.assert_allclose(v_new.item(), v_ref.item(), rtol=1e-12)
    for a, b in zip(g_new, g_ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)


def test_dense_terms_workspace_reuse_is_exact_and_misuse_raises():
    """Reused buffers give the same value and gradient as fresh ones; a second forward before the first
    backward overwrites saved buffers, and autograd refuses that backward instead of using stale signs."""
    model = _model()
    data = torch.rand(16, 8, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(4))  # (H, L, W)
    params = list(model.parameters())

    def loss(workspace: Workspace | None) -> torch.Tensor:
        lh, dlh, lt, (_, _, fw, dfw, _, _) = model.left_factors()
        return dense_terms(lh, dlh, lt, fw, dfw, data, None, 0.05, 0.3, 7.0, workspace)

    def value_and_grad(workspace: Workspace | None) -> tuple[float, tuple[torch.Tensor, ...]]:
        v = loss(workspace)
        return v.item(), torch.autograd.grad(v, params)

    ws = Workspace()
    fresh = [value_and_grad(None) for _ in range(2)]
    reused = [value_and_grad(ws) for _ in range(2)]
    for (v_a, g_a), (v_b, g_b) in zip(fresh, reused, strict=True):
        assert v_a == v_b
        for a, b in zip(g_a, g_b, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    first = loss(ws)
    loss(ws)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(first, params)


@pytest.mark.parametrize("solver", ["svd", "gram", "polar"])
def test_small_core_nuclear_norm_equals_full_svd(solver):
    """Value and gradient of sum_k ||B_k||_* from (r1, r2) cores equal those from full-frame SVDs."""
    model = _model(shape=(8, 20, 24))
    params = list(model.parameters())
    fh, _, fw, _, ft, _ = model.factors()
    full = torch.linalg.matrix_norm(model.background(), ord="nuc").sum()
    small = tucker_nuclear_norm(model.core, fh, fw, ft, solver, steps=60)
    g_full = torch.autograd.grad(full, params)
    g_small = torch.autograd.grad(small, params)
    tol = {"svd": 1e-9, "gram": 1e-7, "polar": 1e-6}[solver]
    np.testing.assert_allclose(small.item(), full.item(), rtol=tol)
    for a, b in zip(g_small, g_full, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol * float(b.abs().max()))
    s = small_cores(model.core, fh, fw, ft).detach()
    assert s.shape == (8, 5, 6)


@pytest.mark.parametrize("solver", ["gram", "polar"])
def test_solver_matches_svd_in_float32_with_default_steps(solver):
    """The CPU default (gram) and the CUDA default (polar, 30 steps) give the svd solver's value and gradient
    at float32 accuracy."""
    model = NeurSTTModel((8, 24, 20), PAPER, torch.Generator().manual_seed(5))
    params = list(model.parameters())
    fh, _, fw, _, ft, _ = model.factors()
    results = []
    for name in ("svd", solver):
        value = tucker_nuclear_norm(model.core, fh, fw, ft, name)  # type: ignore[arg-type]
        results.append((value.item(), torch.autograd.grad(value, params, retain_graph=True)))
    (v_svd, g_svd), (v_new, g_new) = results
    np.testing.assert_allclose(v_new, v_svd, rtol=1e-5)
    for a, b in zip(g_new, g_svd, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-3 * float(b.abs().max()))


@pytest.mark.parametrize("steps", [30, 60])
def test_polar_factor_is_a_nuclear_norm_subgradient_for_rank_deficient_wide_matrices(steps):
    """For rank r < min(m, n), P = U1 V1^T + W with W on the null spaces and ||W||_2 <= 1, <P, S> = ||S||_*."""
    rng = np.random.default_rng(0)
    s = torch.from_numpy(rng.standard_normal((3, 5, 2)) @ rng.standard_normal((3, 2, 7)))  # rank 2, wide
    u, sv, vh = torch.linalg.svd(s, full_matrices=False)
    p = polar_factor(s, steps=steps)
    np.testing.assert_allclose(
        (u[..., :2].mT @ p @ vh[..., :2, :].mT).numpy(), np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-9
    )
    assert float(torch.linalg.matrix_norm(p, ord=2).max()) <= 1 + 1e-9
    np.testing.assert_allclose((p * s).sum((1, 2)).numpy(), sv.sum(1).numpy(), rtol=1e-12)


def test_gram_solver_gradient_is_the_least_norm_subgradient_for_rank_deficient_matrices():
    """Zero singular values get the factor 0: the gradient is U_r V_r^T exactly, the value the nuclear norm."""
    rng = np.random.default_rng(1)
    for shape in ((3, 6, 2, 2, 7), (3, 7, 2, 2, 5)):  # wide and tall, rank 2
        b, m, r, _, n = shape
        s = torch.from_numpy(rng.standard_normal((b, m, r)) @ rng.standard_normal((b, r, n))).requires_grad_()
        u, sv, vh = torch.linalg.svd(s.detach(), full_matrices=False)
        value = nuclear_norm_sum(s, "gram")
        (grad,) = torch.autograd.grad(value, s)
        np.testing.assert_allclose(grad.numpy(), (u[..., :r] @ vh[..., :r, :]).numpy(), atol=1e-9)
        np.testing.assert_allclose(value.item(), sv.sum().item(), rtol=1e-12)


def test_presets_and_overrides():
    assert NeurSTT.presets["paper"] is PAPER and NeurSTT.presets["authors"] is AUTHORS
    assert (PAPER.lr, PAPER.weight_decay, PAPER.lam, PAPER.phi, PAPER.kappa, PAPER.iterations) == (
        5e-4,
        0.01,
        0.2,
        5e-5,
        100.0,
        2000,
    )
    assert (PAPER.nuclear, PAPER.hidden, PAPER.chunk_length, PAPER.rank_ratio) == ("all", "image-size", 80, 4)
    assert (AUTHORS.weight_decay, AUTHORS.lam / 2, AUTHORS.kappa, AUTHORS.iterations) == (0.1, 0.125, 1.0, 1500)
    assert (AUTHORS.hidden, AUTHORS.nuclear, AUTHORS.omega, AUTHORS.init, AUTHORS.coords) == (
        "width",
        "cycle",
        2.0,
        "kaiming",
        "raw",
    )
    m = create_method("neurstt", "authors", {"kappa": "3", "nuclear": "all", "coords": "unit"})
    assert (m.config.kappa, m.config.nuclear, m.config.coords, m.config.lam) == (3.0, "all", "unit", 0.25)
    assert m.kind == "multi-frame" and m.gpu_capable and m.learned


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("lr", "0", "'lr' parameter .* finite float > 0"),
        ("kappa", "-1", "'kappa' parameter .* finite float >= 0"),
        ("iterations", "0", "'iterations' parameter .* int >= 1"),
        ("chunk_length", "1", "'chunk_length' parameter .* int >= 2"),
        ("rank_ratio", "0", "'rank_ratio' parameter .* int >= 1"),
        ("polar_steps", "0", "'polar_steps' parameter .* int >= 1"),
        ("nuclear", "some", "must be one of"),
    ],
)
def test_bad_config_values(key, value, match):
    with pytest.raises(InvalidParameterError, match=match):
        PAPER.with_overrides({key: value})


def test_validate_rejects_choice_outside_literal():
    with pytest.raises(InvalidParameterError, match=r"'hidden' parameter .* one of 'image-size', 'width'"):
        NeurSTTConfig(hidden="deep")  # type: ignore[arg-type]


def test_parameter_counts():
    assert param_count((80, 256, 256), AUTHORS) == 317_184
    m = NeurSTT(preset="authors")
    assert m.n_params((100, 256, 256)) == 317_184  # one chunk's model, L = 80
    assert m.n_params((80, 480, 720)) == 2_219_760
    assert NeurSTT(preset="paper").n_params((80, 256, 256)) == 254_352
    shape = (8, 16, 20)
    model = NeurSTTModel(shape, AUTHORS, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in model.parameters()) == param_count(shape, AUTHORS)


def test_detect_outputs_and_determinism():
    seq = _tiny_seq()
    m = NeurSTT(preset="paper", overrides={"iterations": 30})
    a, b = m.detect(seq), m.detect(seq)
    assert a.target.shape == seq.shape and a.background is not None and a.target.dtype == np.float32
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(a.background, b.background)
    loss = a.diagnostics["chunks"][0]["loss"]
    assert len(loss) == 30 and loss[-1] < loss[0]
    assert a.diagnostics["chunks"][0]["solver"] == "gram"  # "auto" on a CPU
    # raw signed T = soft(D - B, lam/2), never binarised
    expected = np.sign(seq.frames - a.background) * np.maximum(np.abs(seq.frames - a.background) - 0.1, 0)
    np.testing.assert_allclose(a.target, expected, atol=1e-5)
    assert a.n_params == param_count((8, 16, 16), PAPER)
    c = NeurSTT(preset="paper", overrides={"iterations": 30, "seed": 7}).detect(seq)
    assert not np.array_equal(a.target, c.target)


def test_authors_preset_runs_cycle_and_polar_solver():
    seq = _tiny_seq(t=6)
    for over in ({"iterations": 12}, {"iterations": 12, "nuclear_solver": "polar"}):
        det = NeurSTT(preset="authors", overrides=over).detect(seq)
        assert np.isfinite(det.target).all()
    assert det.diagnostics["chunks"][0]["solver"] == "polar"


def test_chunks_cover_every_frame_with_full_length_models():
    seq = _tiny_seq(t=11)
    det = NeurSTT(preset="paper", overrides={"iterations": 3, "chunk_length": 4}).detect(seq)
    chunks = det.diagnostics["chunks"]
    assert [(c["start"], c["stop"], c["keep_from"]) for c in chunks] == [(0, 4, 0), (4, 8, 4), (7, 11, 8)]
    # the last chunk is fitted alone: its kept frames equal a direct fit of frames 7..10 with seed + 2
    direct = fit_chunk(seq.frames[7:11], det_cfg := NeurSTT.presets["paper"].with_overrides({"iterations": 3}), seed=44)
    np.testing.assert_array_equal(det.target[8:], direct.target[1:])
    assert det_cfg.seed == 42
    short = NeurSTT(preset="paper", overrides={"iterations": 2}).detect(_tiny_seq(t=2))  # shorter than L: one chunk
    assert short.target.shape == (2, 16, 16) and len(short.diagnostics["chunks"]) == 1


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="at least 4x4 pixels"):
        NeurSTT(overrides={"iterations": 1}).detect(Sequence(frames=np.zeros((5, 3, 16), np.float32)))
    with pytest.raises(InvalidParameterError, match="needs at least 2 frames"):
        NeurSTT(overrides={"iterations": 1}).detect(Sequence(frames=np.zeros((1, 16, 16), np.float32)))
    frames = np.zeros((4, 8, 8), np.float32)
    frames[1, 2, 3] = np.nan
    with pytest.raises(DataError, match="NaN or inf"):
        Sequence(frames=frames)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="no CUDA device is available"):
            NeurSTT(device="cuda")
    with pytest.raises(InvalidParameterError, match="'cpu', 'cuda' or 'cuda:N'"):
        NeurSTT(device="tpu")


@pytest.mark.parametrize("preset", ["paper", "authors"])
def test_planted_targets_dimmer_than_the_background_are_found(preset):
    """A smooth background up to 0.8 and a moving +0.3 target down to 0.55: the raw T peaks at the target."""
    t, h, w = 8, 24, 24
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    frames = np.repeat((0.45 + 0.35 * np.sin(rows / 5.0) * np.cos(cols / 7.0))[None], t, 0)
    targets = [(12, 4 + 2 * k) for k in range(t)]
    for k, (r, c) in enumerate(targets):
        frames[k, r, c] += 0.3
    assert sum(frames[k, r, c] < frames.max() for k, (r, c) in enumerate(targets)) >= 4  # brightest-pixel fails
    det = NeurSTT(preset=preset, overrides={"iterations": 300}).detect(Sequence(frames=frames.astype(np.float32)))
    peaks = [np.unravel_index(np.argmax(det.target[k]), (h, w)) for k in range(t)]
    assert sum(p == q for p, q in zip(peaks, targets, strict=True)) >= 7
