"""NeurSTT's ablation switches (the seed paper's Tables 5-7): each term, the published path, contradictions."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from istdbench.core.errors import ConfigWarning, InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods._neurstt_ablation import ablation_loss
from istdbench.methods._siren import SineFactor
from istdbench.methods.neurstt import AUTHORS, PAPER, NeurSTTModel, neurstt_loss, solver_for

torch.set_num_threads(1)
SHAPE = (8, 16, 12)  # (L, H, W)


def _setup(cfg):
    model = NeurSTTModel(SHAPE, cfg, torch.Generator().manual_seed(0))
    frames = torch.rand(SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    data = frames.transpose(0, 1).contiguous()  # (H, L, W)
    mask = (data > 0.2).double() if cfg.l1_mask == "nonzero" else None
    return model, frames, data, mask


def _loss(cfg, model, data, mask, it=3):
    return ablation_loss(model, data, mask, cfg, it, solver_for(cfg, torch.device("cpu")))


@pytest.mark.parametrize("preset", [PAPER, AUTHORS])
def test_the_plain_loss_with_the_published_switches_equals_the_fused_one(preset):
    cfg = preset.with_overrides({"dtype": "float64", "phi": 0.3, "kappa": 7.0, "lam": 0.1})
    model, _, data, mask = _setup(cfg)
    params = list(model.parameters())
    solver = solver_for(cfg, torch.device("cpu"))
    fused = neurstt_loss(model, data, mask, cfg, 5, solver)
    plain = ablation_loss(model, data, mask, cfg, 5, solver)
    np.testing.assert_allclose(plain.item(), fused.item(), rtol=1e-12)
    for a, b in zip(torch.autograd.grad(plain, params), torch.autograd.grad(fused, params), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)


def _full(model, frames, cfg):
    """B, its three derivatives and the mixed derivatives, in (L, H, W), from an einsum over the whole core."""
    fh, dfh, fw, dfw, ft, dft = model.factors()

    def tucker(a, b, c):
        return torch.einsum("abc,ia,jb,kc->kij", model.core, a, b, c)

    b = tucker(fh, fw, ft)
    return {
        "r": frames - b,
        "b": b,
        "h": tucker(dfh, fw, ft),
        "w": tucker(fh, dfw, ft),
        "t": tucker(fh, fw, dft),
        "ht": tucker(dfh, fw, dft),
        "wt": tucker(fh, dfw, dft),
    }


L1 = {  # regulariser -> its term (before phi) from the full tensors
    "neur3dtv": lambda f, k: f["h"].abs().sum() + f["w"].abs().sum() + k * f["t"].abs().sum(),
    "neurtv": lambda f, k: f["h"].abs().sum() + f["w"].abs().sum(),
    "neursstv": lambda f, k: f["ht"].abs().sum() + f["wt"].abs().sum(),
    "3dtv": lambda f, k: sum(torch.diff(f["b"], dim=d).abs().sum() for d in (0, 1, 2)),
    "none": lambda f, k: 0.0,
}


@pytest.mark.parametrize("regularizer", list(L1))
@pytest.mark.parametrize(("background", "target"), [("nuclear", "soft"), ("nuclear", "subtract"), ("mse", "soft")])
def test_each_term_is_its_formula(regularizer, background, target):
    cfg = dataclasses.replace(
        PAPER, dtype="float64", phi=0.3, kappa=7.0, background_loss=background, target=target, regularizer=regularizer
    )
    model, frames, data, mask = _setup(cfg)
    f = _full(model, frames, cfg)
    tau = cfg.lam / 2
    if background == "nuclear":
        bg = torch.linalg.svdvals(f["b"]).sum()
    else:
        bg = (f["r"] - torch.nn.functional.softshrink(f["r"], tau)).square().sum()  # ||D - B - T||_F^2
    tl = torch.nn.functional.softshrink(f["r"], tau) if target == "soft" else f["r"]
    expected = (bg + tl.abs().sum() + cfg.phi * L1[regularizer](f, cfg.kappa)).detach()
    np.testing.assert_allclose(_loss(cfg, model, data, mask).detach().item(), expected.item(), rtol=1e-9)


def test_no_target_term_leaves_the_nuclear_norm_alone():
    cfg = dataclasses.replace(PAPER, dtype="float64", target="none", regularizer="none")
    model, frames, data, mask = _setup(cfg)
    expected = torch.linalg.svdvals(_full(model, frames, cfg)["b"]).sum()
    np.testing.assert_allclose(_loss(cfg, model, data, mask).item(), expected.item(), rtol=1e-9)


@pytest.mark.parametrize("activation", ["relu", "leaky-relu", "tanh"])
def test_other_activations_have_exact_derivatives(activation):
    net = SineFactor(hidden=7, rank=3, omega=2.0, dtype=torch.float64, activation=activation)
    net.reset_parameters("kaiming", torch.Generator().manual_seed(1))
    x = torch.linspace(0.3, 9.0, 12, dtype=torch.float64).unsqueeze(1).requires_grad_(True)
    f, df = net(x)
    auto = torch.stack([torch.autograd.grad(f[:, j].sum(), x, retain_graph=True)[0][:, 0] for j in range(3)], 1)
    np.testing.assert_allclose(df.detach().numpy(), auto.numpy(), rtol=1e-10, atol=1e-12)
    if activation != "tanh":  # bias-free piecewise-linear networks are homogeneous: f(x) = x f(1), rank 1
        np.testing.assert_allclose(f.detach().numpy(), (x * net(torch.ones(1, 1, dtype=x.dtype))[0]).detach(), 1e-10)


def _seq() -> Sequence:
    rng = np.random.default_rng(0)
    frames = 0.3 + 0.1 * rng.random((6, 16, 16))
    frames[:, 8, 8] = 0.9
    return Sequence(frames=frames.astype(np.float32), name="tiny")


@pytest.mark.parametrize(
    "switches",
    [
        {"activation": "tanh"},
        {"background_loss": "mse"},
        {"target": "subtract", "regularizer": "none"},
        {"target": "none", "regularizer": "none"},
        {"regularizer": "neursstv"},
        {"regularizer": "3dtv"},
    ],
)
def test_variants_fit_and_the_target_follows_the_target_module(switches):
    seq = _seq()
    det = create_method("neurstt", overrides={"iterations": 4, **switches}).detect(seq)
    assert np.isfinite(det.target).all() and np.isfinite(det.diagnostics["chunks"][0]["loss"]).all()
    diff = seq.frames - det.background
    if switches.get("target", "soft") == "soft":
        np.testing.assert_allclose(det.target, np.sign(diff) * np.maximum(np.abs(diff) - 0.1, 0), atol=1e-6)
    else:
        np.testing.assert_allclose(det.target, diff, atol=1e-6)


def test_switches_at_their_defaults_keep_every_presets_hash():
    def legacy_hash(cfg) -> str:  # the hash as it was before the switches existed
        import hashlib
        import json

        values = {k: v for k, v in cfg.to_dict().items() if k not in ADDED_SWITCHES}
        blob = json.dumps({"cls": type(cfg).__name__, **values}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    for cfg in (PAPER, AUTHORS, PAPER.with_overrides({"iterations": 200})):
        assert cfg.config_hash() == legacy_hash(cfg)
    assert PAPER.with_overrides({"activation": "tanh"}).config_hash() != PAPER.config_hash()
    assert create_method("neurstt", overrides={"iterations": 200}).config.config_hash() == "c8345fb378eac1ce"  # golden


ADDED_SWITCHES = ("activation", "background_loss", "target", "regularizer")


@pytest.mark.parametrize(
    ("switches", "match"),
    [
        ({"regularizer": "neurtv", "phi": 0.0}, r"'phi'.*> 0 with regularizer='neurtv'.*use regularizer='none'"),
        ({"phi": 0.0}, r"'phi'.*> 0 with regularizer='neur3dtv'"),
        ({"background_loss": "mse", "target": "subtract"}, r"'target'.*'soft' with background_loss='mse'"),
        ({"background_loss": "mse", "nuclear": "cycle"}, r"'nuclear'.*'all' with background_loss='mse'"),
        ({"target": "none", "l1_mask": "nonzero"}, r"'l1_mask'.*there is no L1 term"),
        ({"regularizer": "neur4dtv"}, r"'regularizer' must be one of \['neur3dtv', 'neurtv', 'neursstv'"),
        ({"activation": "gelu"}, r"'activation' must be one of \['sine', 'relu', 'leaky-relu', 'tanh'\]"),
    ],
)
def test_contradictory_or_unknown_switches_are_refused(switches, match):
    with pytest.raises(InvalidParameterError, match=match):
        PAPER.with_overrides(switches)


def test_siren_init_with_another_activation_warns():
    with pytest.warns(ConfigWarning, match="init='siren' is SIREN's scheme"):
        PAPER.with_overrides({"activation": "relu", "init": "siren"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PAPER.with_overrides({"regularizer": "none", "phi": 0.0})  # no TV and no weight: consistent


def test_the_ablation_configs_share_the_published_setting_as_one_job():
    from istdbench.runners.config import load_config
    from istdbench.runners.jobs import plan_jobs

    keys: dict[str, set[int]] = {}
    for n in range(3, 8):
        for job in plan_jobs(load_config(f"ablation-table{n}")):
            assert job.protocol_version.startswith("tensoristd@1+bin(chunk-max:0.")
            keys.setdefault(job.key, set()).add(n)
            if job.label == "paper":
                assert keys[job.key] == set(range(3, n + 1))  # the same job in every table so far
    assert len(keys) == 64  # 31 NeurSTT settings and 3DSTPM on two clips
